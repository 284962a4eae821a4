"""Fixtures of the browser tests: one JupyterLab server and one Chromium per module.

The test modules call :func:`require_browser` before anything imports
Playwright, so these fixtures import it only once it is known to be there.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.browser.artifacts import ARTIFACTS, Screenshots
from tests.notebooks.files import NOTEBOOKS

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from tests.browser.jupyterlab import LabServer


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """A JupyterLab server whose root is a temp copy of notebooks/."""
    from tests.browser.jupyterlab import running_lab  # noqa: PLC0415 - after require_browser

    base = tmp_path_factory.mktemp("lab")
    root = base / "notebooks"
    shutil.copytree(NOTEBOOKS, root)
    with running_lab(root, base / "state") as server:
        yield server


@pytest.fixture(scope="module")
def browser(lab: LabServer) -> Iterator[Browser]:
    """Debian's Chromium, headless, for every test of the module."""
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - after require_browser

    from tests.browser.jupyterlab import launch_chromium  # noqa: PLC0415

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, lab: LabServer) -> Iterator[Page]:
    """A fresh page; afterwards every kernel the test started is shut down."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    yield context.new_page()
    context.close()
    lab.shut_down_kernels()


@pytest.fixture
def screenshots() -> Screenshots:
    return Screenshots()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say where this run's screenshots are, whatever the output capture."""
    for path in Screenshots.saved:
        terminalreporter.write_line(f"screenshot: {path.relative_to(ARTIFACTS.parent)}")
