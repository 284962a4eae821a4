"""The quickstart notebook in a real JupyterLab, clicked through in Chromium.

Run All Cells with ``auto_approve=False`` finishes without waiting on anyone;
then the test is the person: it finds the waiting agent in the live table,
answers its request in the queue, and watches the row move on. Every wait is
on a signal (a selector, an attribute, the kernel's status), never a sleep.
"""

from __future__ import annotations

from tests.browser.availability import require_browser

require_browser()  # before Playwright is imported: skips here, fails under CI

import re  # noqa: E402
import subprocess  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from playwright.sync_api import Locator, Page, expect  # noqa: E402

import fleetnb  # noqa: E402
from fleetnb import Event, EventKind  # noqa: E402
from tests.browser.artifacts import Screenshots  # noqa: E402
from tests.browser.jupyterlab import LabServer, open_notebook, run_all_cells  # noqa: E402
from tests.conftest import stop_running_at  # noqa: E402
from tests.notebooks.files import with_parameters  # noqa: E402

N_AGENTS = 3
SETTLED = re.compile(r"^(idle|done)$")
TIMEOUT_MS = 60_000

pytestmark = pytest.mark.timeout(300)  # the first test also starts JupyterLab and Chromium


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    """The scratch repo the notebook is told to use; its agents are stopped afterwards."""
    path = tmp_path / "repo"
    yield path
    stop_running_at(path)


def run_quickstart(page: Page, lab: LabServer, workdir: Path, name: str) -> str:
    """Open a copy of the quickstart set to ``workdir``, run it; returns the waiting agent."""
    with_parameters(
        lab.root_dir / "quickstart.ipynb",
        lab.root_dir / name,
        workdir=str(workdir),
        n_agents=N_AGENTS,
        auto_approve=False,
    )
    open_notebook(page, lab, name)
    run_all_cells(page)
    rows = page.locator(".fleetnb-table tr.fleetnb-row")
    expect(rows).to_have_count(N_AGENTS, timeout=TIMEOUT_MS)
    waiting = page.locator('tr.fleetnb-row[data-state="waiting"]')
    expect(waiting).to_have_count(1, timeout=TIMEOUT_MS)  # the one under the default policy
    agent = waiting.get_attribute("data-agent")
    assert agent
    return agent


def request_of(page: Page, agent: str) -> Locator:
    request = page.locator(f'.fleetnb-queue .fleetnb-request[data-agent="{agent}"]')
    expect(request).to_be_visible(timeout=TIMEOUT_MS)
    return request


def expect_settled(page: Page, agent: str) -> None:
    """The agent's row reaches idle or done, and no error is shown anywhere."""
    row = page.locator(f'tr.fleetnb-row[data-agent="{agent}"]')
    expect(row).to_have_attribute("data-state", SETTLED, timeout=TIMEOUT_MS)
    expect(page.locator(".fleetnb-error:visible")).to_have_count(0)
    expect(page.locator(".fleetnb-request-error:visible")).to_have_count(0)


def screenshot(page: Page, screenshots: Screenshots, name: str) -> None:
    """The live table and queue in view, saved as ``test-artifacts/<name>``."""
    page.locator(".fleetnb-table").first.scroll_into_view_if_needed()
    print(f"screenshot: {screenshots.save(page, name)}")


def events_of(repo: Path, agent: str) -> list[Event]:
    """Every event of ``agent``, read from the fleet's store as a new kernel would."""
    fleet = fleetnb.Fleet(repo)
    try:
        return fleet[agent].events()
    finally:
        fleet.close()


def staged_files(repo: Path) -> list[str]:
    argv = ["git", "-C", str(repo), "diff", "--cached", "--name-only"]
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout.split()


def test_approve_in_the_queue(
    lab: LabServer, page: Page, workdir: Path, screenshots: Screenshots
) -> None:
    agent = run_quickstart(page, lab, workdir, "quickstart-approve.ipynb")
    request = request_of(page, agent)
    screenshot(page, screenshots, "quickstart-waiting.png")

    request.locator("button.fleetnb-approve").click()

    expect_settled(page, agent)
    expect(page.locator(f'.fleetnb-request[data-agent="{agent}"]')).to_have_count(0)
    screenshot(page, screenshots, "quickstart-approve.png")
    decided = [e for e in events_of(workdir, agent) if e.kind == EventKind.APPROVAL_DECIDED]
    assert [e.payload["decision"] for e in decided] == ["allow", "allow"]  # the rule, then you
    assert decided[-1].payload["by"].startswith("person")


def test_deny_with_a_reason(
    lab: LabServer, page: Page, workdir: Path, screenshots: Screenshots
) -> None:
    agent = run_quickstart(page, lab, workdir, "quickstart-deny.ipynb")
    reason = "stage it after the review"

    request = request_of(page, agent)
    request.locator("input.fleetnb-deny-reason").fill(reason)
    request.locator("button.fleetnb-deny").click()

    expect_settled(page, agent)
    screenshot(page, screenshots, "quickstart-deny.png")
    events = events_of(workdir, agent)
    decision = [e.payload for e in events if e.kind == EventKind.APPROVAL_DECIDED][-1]
    assert (decision["decision"], decision["reason"]) == ("deny", reason)
    writes = [e for e in events if e.kind == EventKind.TOOL_CALL and e.payload["tool"] == "Write"]
    notes = Path(writes[0].payload["input"]["file_path"])
    assert notes.exists()  # the write was allowed by rule, the `git add` was denied:
    assert str(notes.relative_to(workdir.resolve())) not in staged_files(workdir)
