from __future__ import annotations

import importlib
from types import ModuleType

import pytest

import fleetnb
import fleetnb.cost
import fleetnb.truth


def _public(module: ModuleType) -> set[str]:
    return {
        name
        for name in dir(module)
        if not name.startswith("_") and not isinstance(getattr(module, name), ModuleType)
    }


@pytest.mark.parametrize("module", [fleetnb, fleetnb.cost, fleetnb.truth])
def test_all_is_complete_and_sorted(module: ModuleType) -> None:
    assert set(module.__all__) == _public(module) - {"annotations", "TYPE_CHECKING"}
    assert module.__all__ == sorted(module.__all__)


def test_every_lazy_name_resolves_to_its_module() -> None:
    for name in fleetnb.__all__:
        value = getattr(fleetnb, name)
        assert getattr(importlib.import_module(value.__module__), name) is value


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'Flete'"):
        _ = fleetnb.Flete
