"""Whether the browser tests can run here: Debian's Chromium and Playwright for Python.

Under CI (``CI=true``) something missing fails the tests; on a developer's
machine it skips them. ``scripts/install-test-deps`` installs both.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

__all__ = ["CHROMIUM", "require_browser"]

CHROMIUM = Path("/usr/bin/chromium")


def require_browser() -> None:
    """Skip the calling test module (fail it under CI) when a part is missing."""
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    if importlib.util.find_spec("playwright") is None:
        missing.append("playwright (pip install -e '.[test]')")
    if not missing:
        return
    needed = " and ".join(missing)
    message = f"the browser tests need {needed}; scripts/install-test-deps installs them"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message, allow_module_level=True)
