"""Benchmark: the live table in a real JupyterLab and Chromium, under a streaming fleet.

Two figures, each against a baseline measured in the same run:

- event → row: from an event's store timestamp (written by the agent's runner)
  to the moment the table row in the browser's DOM shows what that event
  changed (a MutationObserver's clock; both clocks are this machine's). The
  baseline is a quiet fleet (3 demo agents at the demo's own pace); the load is
  16 demo agents streaming (``chatter=2000, step_delay=0.01``). Rows show the
  latest state at each push, so superseded events are not counted.
- kernel response: from Ctrl+Enter on a trivial cell to its new execution count
  in the DOM, with the fleet idle (baseline) and while the 16 agents stream.

Goals: event → row median under 250 ms; kernel response median under 100 ms.

Run from the repository root: ``python bench/browser_latency.py [--agents 16]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from importlib.metadata import version
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.browser.jupyterlab

from playwright.sync_api import Page, expect, sync_playwright

import fleetnb
from fleetnb.events import AgentStatus, fold
from tests.browser.jupyterlab import (
    launch_chromium,
    open_notebook,
    run_all_cells,
    running_lab,
)
from tests.notebooks.files import code_notebook, write_notebook

ROW_GOAL_MS = 250.0
KERNEL_GOAL_MS = 100.0
_MAX_SAMPLES = 400

# Records each change of a row's (state, last action) and each new execution count of
# the last cell, with the page's clock in epoch milliseconds.
_OBSERVE_JS = """() => {
  const bench = window.__bench = { rows: [], keys: [], prompts: [] };
  const seen = new Map();
  const now = () => performance.timeOrigin + performance.now();
  const tbody = document.querySelector(".fleetnb-table tbody");
  new MutationObserver(() => {
    const t = now();
    for (const tr of tbody.querySelectorAll("tr.fleetnb-row")) {
      const action = tr.querySelector(".fleetnb-action")?.textContent ?? "";
      const key = tr.dataset.state + "\\u0000" + action;
      if (seen.get(tr.dataset.agent) === key) continue;
      seen.set(tr.dataset.agent, key);
      bench.rows.push([t, tr.dataset.agent, tr.dataset.state, action]);
    }
  }).observe(tbody, { childList: true, subtree: true, attributes: true });
  const cells = document.querySelectorAll(".jp-CodeCell");
  const cell = cells[cells.length - 1];
  const prompt = () => cell.querySelector(".jp-InputPrompt").textContent;
  let last = prompt();
  new MutationObserver(() => {
    const text = prompt();
    if (/\\[\\d+\\]/.test(text) && text !== last) { last = text; bench.prompts.push(now()); }
  }).observe(cell, { childList: true, subtree: true, characterData: true });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && e.ctrlKey) bench.keys.push(now());
  }, true);
}"""


def scratch_repo(path: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    (path / "README.md").write_text("# benchmark repo\n")
    return path


def bench_notebook(path: Path, repo: Path) -> None:
    """The table of the fleet in ``repo``, then a trivial cell to time the kernel by."""
    sources = [
        f"import fleetnb\n\nfleet = fleetnb.Fleet({str(repo)!r})",
        "display(fleet.table())",
        "1 + 1",
    ]
    write_notebook(code_notebook(sources), path)


def launch(repo: Path, prefix: str, count: int, **options: Any) -> None:
    """Launch ``count`` demo agents named ``prefix``-N (any thread: it opens its own fleet)."""
    fleet = fleetnb.Fleet(repo)
    try:
        for index in range(count):
            fleet.launch(
                f"benchmark {prefix} {index + 1}", harness="demo", cwd=repo,
                name=f"{prefix}-{index + 1}", approvals="allow", options=options,
            )  # fmt: skip
    finally:
        fleet.close()


def settled(fleet: fleetnb.Fleet, prefix: str) -> bool:
    return all(a.state.is_settled for a in fleet.agents if a.name.startswith(prefix))


def kernel_response_ms(page: Page) -> float:
    """Run the last cell once; milliseconds from the key press to its new execution count."""
    before = page.evaluate("window.__bench.prompts.length")
    page.keyboard.press("Control+Enter")
    page.wait_for_function(f"window.__bench.prompts.length > {before}", timeout=60_000)
    key, prompt = page.evaluate("[window.__bench.keys.at(-1), window.__bench.prompts.at(-1)]")
    return float(prompt - key)


def time_kernel(page: Page, fleet: fleetnb.Fleet, launcher: threading.Thread) -> list[float]:
    """Kernel response times while ``launcher`` launches the load and until it settles."""
    times = [kernel_response_ms(page)]
    while len(times) < _MAX_SAMPLES and (launcher.is_alive() or not settled(fleet, "load")):
        times.append(kernel_response_ms(page))
    return times


def wait_settled(fleet: fleetnb.Fleet, prefix: str, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while not settled(fleet, prefix):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the {prefix} agents did not settle within {timeout:g} s")
        time.sleep(0.2)


def row_latencies_ms(fleet: fleetnb.Fleet, prefix: str, observed: list[list[Any]]) -> list[float]:
    """Match each observed row change to the event that produced it; DOM time minus its ts."""
    by_agent: dict[str, list[tuple[float, str, str]]] = defaultdict(list)
    for t, agent, state, action in observed:
        by_agent[agent].append((float(t), str(state), str(action)))
    latencies = []
    for agent in fleet.agents:
        if agent.name.startswith(prefix):
            latencies.extend(_match(_timeline(agent), by_agent[agent.name]))
    return latencies


def _timeline(agent: fleetnb.Agent) -> list[tuple[float, str, str]]:
    """(ts, state, last action) after each of the agent's events, as the widget folds them."""
    status = AgentStatus()
    timeline = []
    for event in agent.events():
        fold([event], status=status)
        timeline.append((event.ts, str(status.state), status.last_action))
    return timeline


def _match(
    timeline: list[tuple[float, str, str]], observed: list[tuple[float, str, str]]
) -> list[float]:
    latencies, cursor = [], 0
    for seen_ms, state, action in observed:
        for index in range(cursor, len(timeline)):
            ts, event_state, event_action = timeline[index]
            if (event_state, event_action) == (state, action):
                latencies.append(seen_ms - ts * 1000)
                cursor = index
                break
    return latencies


def summary(name: str, baseline: list[float], loaded: list[float], goal: float) -> str:
    base, load = statistics.median(baseline), statistics.median(loaded)
    p95 = statistics.quantiles(loaded, n=20)[-1] if len(loaded) >= 20 else max(loaded)
    verdict = "meets" if load < goal else "MISSES"
    return (
        f"{name:<16} baseline median {base:7.1f} ms (n={len(baseline)})   "
        f"load median {load:7.1f} ms, p95 {p95:7.1f} ms (n={len(loaded)})   "
        f"ratio {load / base:5.2f}x   goal < {goal:g} ms: {verdict} ({load / goal:.2f} of goal)"
    )


@dataclasses.dataclass
class Results:
    """Milliseconds, one entry per measurement."""

    kernel_idle: list[float]
    kernel_load: list[float]
    rows_quiet: list[float]
    rows_load: list[float]
    load_events: int
    load_window_s: float


def measure(page: Page, fleet: fleetnb.Fleet, repo: Path, agents: int, chatter: int) -> Results:
    """Baselines first (idle kernel, quiet agents), then the streaming fleet."""
    page.evaluate(_OBSERVE_JS)
    page.locator(".jp-CodeCell").last.locator(".jp-InputArea-editor").click()
    kernel_idle = [kernel_response_ms(page) for _ in range(20)]
    launch(repo, "quiet", 3)
    wait_settled(fleet, "quiet")
    # Each agent streams its messages in well under a second, and launching takes
    # longer: launch on a thread and time the kernel meanwhile.
    options = {"chatter": chatter, "step_delay": 0.01}
    launcher = threading.Thread(target=launch, args=(repo, "load", agents), kwargs=options)
    launcher.start()
    kernel_load = time_kernel(page, fleet, launcher)
    launcher.join()
    wait_settled(fleet, "load")
    settled_rows = page.locator('tr.fleetnb-row:is([data-state="idle"], [data-state="done"])')
    expect(settled_rows).to_have_count(agents + 3, timeout=60_000)
    observed = page.evaluate("window.__bench.rows")
    stamps = [e.ts for a in fleet.agents if a.name.startswith("load") for e in a.events()]
    return Results(
        kernel_idle,
        kernel_load,
        row_latencies_ms(fleet, "quiet", observed),
        row_latencies_ms(fleet, "load", observed),
        len(stamps),
        max(stamps) - min(stamps),
    )


def run(agents: int, chatter: int) -> Results:
    """A JupyterLab, a Chromium and a fleet, all in a temp dir, measured then stopped."""
    with tempfile.TemporaryDirectory(prefix="fleetnb-bench-") as tmp:
        base = Path(tmp)
        repo = scratch_repo(base / "repo")
        (base / "lab").mkdir()
        bench_notebook(base / "lab" / "bench.ipynb", repo)
        fleet = fleetnb.Fleet(repo)
        with running_lab(base / "lab", base / "state") as lab, sync_playwright() as pw:
            browser = launch_chromium(pw)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            open_notebook(page, lab, "bench.ipynb")
            run_all_cells(page)
            expect(page.locator(".fleetnb-table")).to_be_visible()
            try:
                return measure(page, fleet, repo, agents, chatter)
            finally:
                for agent in fleet.agents:
                    agent.stop(timeout=10)
                fleet.close()
                lab.shut_down_kernels()
                browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=16)
    parser.add_argument("--chatter", type=int, default=2000)
    args = parser.parse_args()
    results = run(args.agents, args.chatter)
    print(
        f"{args.agents} demo agents streaming {results.load_events} events in "
        f"{results.load_window_s:.1f} s (JupyterLab {version('jupyterlab')}, Chromium)"
    )
    print(summary("event -> row", results.rows_quiet, results.rows_load, ROW_GOAL_MS))
    print(summary("kernel response", results.kernel_idle, results.kernel_load, KERNEL_GOAL_MS))


if __name__ == "__main__":
    main()
