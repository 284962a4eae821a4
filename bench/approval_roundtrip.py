"""Benchmark: approval round trip, request written → decision written → agent resumes.

A watcher thread approves each request the moment it sees it (no human time),
as the notebook's buttons would. Prints the median and p95 of each leg and the
ratio to the 1 s goal. With ``--claude``, the real Claude Code CLI is driven
against the fake Anthropic server from tests/fakes (run from the repo root).

Run: ``python bench/approval_roundtrip.py [--claude] [--rounds N]``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import fleetnb
from fleetnb import EventKind
from fleetnb.approvals.queue import ApprovalRequest


def _repo(root: Path) -> Path:
    repo = root / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    return repo


def measure(fleet: fleetnb.Fleet, agents: list[fleetnb.Agent]) -> list[tuple[float, float]]:
    """(request → decision, decision → next agent event) per approved request, seconds."""
    legs = []
    for agent in agents:
        events = agent.events()
        for index, event in enumerate(events):
            if event.kind != EventKind.APPROVAL_DECIDED or event.payload.get("by") != "person":
                continue
            request = next(
                e for e in events
                if e.kind == EventKind.APPROVAL_REQUESTED
                and e.payload["request_id"] == event.payload["request_id"]
            )  # fmt: skip
            resumed = events[index + 1]
            legs.append((event.ts - request.ts, resumed.ts - event.ts))
    return legs


def run_demo(rounds: int) -> list[tuple[float, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        fleet = fleetnb.Fleet(tmp)
        approve = fleet.on_waiting(lambda request: request.approve())
        repo = _repo(Path(tmp))
        agents = [
            fleet.launch(f"task {i}", harness="demo", cwd=repo, options={"step_delay": 0})
            for i in range(rounds)
        ]
        for agent in agents:
            agent.wait(60)
        approve()
        legs = measure(fleet, agents)
        for agent in agents:
            agent.stop()
        fleet.close()
        return legs


def run_claude(rounds: int) -> list[tuple[float, float]]:
    from tests.fakes.anthropic import FakeAnthropic, Reply, Text, ToolUse  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        fleet = fleetnb.Fleet(root)
        done = threading.Event()

        def approve(request: ApprovalRequest) -> None:
            request.approve()
            done.set()

        unsubscribe = fleet.on_waiting(approve)
        repo = _repo(root)
        legs: list[tuple[float, float]] = []
        for i in range(rounds):
            script: list[Reply] = [ToolUse("Bash", {"command": f"touch made-{i}"}), Text("done")]
            with FakeAnthropic(script) as server:
                home = root / f"home-{i}"
                (home / "config").mkdir(parents=True)
                env = {
                    "ANTHROPIC_BASE_URL": server.url, "ANTHROPIC_API_KEY": "sk-ant-bench",
                    "HOME": str(home), "CLAUDE_CONFIG_DIR": str(home / "config"),
                }  # fmt: skip
                agent = fleet.launch(
                    f"make file {i}",
                    harness="claude",
                    cwd=repo,
                    model="claude-sonnet-4-5",
                    env=env,
                )
                agent.wait(120)
                legs += measure(fleet, [agent])
                agent.stop()
        unsubscribe()
        fleet.close()
        return legs


def report(name: str, legs: list[tuple[float, float]]) -> None:
    if not legs:
        print(f"{name}: no approvals measured")
        return
    for label, values in (("request → decision", [a for a, _ in legs]),
                          ("decision → resumed", [b for _, b in legs]),
                          ("round trip", [a + b for a, b in legs])):  # fmt: skip
        median = statistics.median(values)
        p95 = sorted(values)[max(0, int(len(values) * 0.95) - 1)]
        print(f"{name:>6} {label:<20} median {median * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms"
              f"  ({median:.3f}x the 1 s goal)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--claude", action="store_true")
    args = parser.parse_args()
    start = time.perf_counter()
    report("demo", run_demo(args.rounds))
    if args.claude:
        report("claude", run_claude(min(args.rounds, 5)))
    print(f"({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
