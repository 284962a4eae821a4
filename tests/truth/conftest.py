"""Truth-check tests share one index cache, so the Stripe index is built once per run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

SPECS = Path(__file__).parent / "specs"


@pytest.fixture(scope="session", autouse=True)
def truth_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A cache directory of this test run, never the user's own."""
    path = tmp_path_factory.mktemp("truth-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FLEETNB_CACHE_DIR", str(path))
        yield path


@pytest.fixture
def billing_spec() -> Path:
    return SPECS / "billing.yaml"
