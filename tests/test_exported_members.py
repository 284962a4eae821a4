from __future__ import annotations
import __future__

import inspect

import fleetnb


def test_all_is_complete_and_sorted() -> None:
    public = {
        name
        for name, value in vars(fleetnb).items()
        if not name.startswith("_")
        and not inspect.ismodule(value)
        and not isinstance(value, __future__._Feature)
    }
    assert set(fleetnb.__all__) == public
    assert fleetnb.__all__ == sorted(fleetnb.__all__)
