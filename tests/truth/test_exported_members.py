from __future__ import annotations
import __future__

import inspect

from fleetnb import truth


def test_all_is_complete_and_sorted() -> None:
    public = {
        name
        for name, value in vars(truth).items()
        if not name.startswith("_")
        and not inspect.ismodule(value)
        and not isinstance(value, __future__._Feature)
    }
    assert set(truth.__all__) == public
    assert truth.__all__ == sorted(truth.__all__)
