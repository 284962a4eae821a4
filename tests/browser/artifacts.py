"""What the browser tests leave for a person to look at: screenshots in ``test-artifacts/``.

The directory sits at the repository root and is git-ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from playwright.sync_api import Page

__all__ = ["ARTIFACTS", "Screenshots"]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


class Screenshots:
    """Saves page screenshots under ``test-artifacts/`` (git-ignored) and remembers them."""

    saved: ClassVar[list[Path]] = []

    def save(self, page: Page, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        page.screenshot(path=str(path))
        self.saved.append(path)
        return path
