"""Truth-check fixtures; the run's index cache is tests/conftest.py's ``truth_cache``."""

from __future__ import annotations

from pathlib import Path

import pytest

SPECS = Path(__file__).parent / "specs"


@pytest.fixture
def billing_spec() -> Path:
    return SPECS / "billing.yaml"
