"""Benchmark: how much one evidence trail adds to a saved notebook, and what it costs to build.

Runs one real demo agent, then replays its turn with fresh ids until the store
holds an agent-hour of demo activity (one turn every 2 s, the demo's pace at its
default step delay). Prints the size a displayed trail adds to a notebook and
the build time as a ratio to reading the newest page of events (the baseline,
same run). Asserts nothing. Run: ``python bench/evidence_growth.py``.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

import fleetnb
from fleetnb.evidence import build_trail

TURNS_PER_HOUR = 1800  # a demo turn takes about 2 s at step_delay=0.4


def demo_events(root: Path) -> tuple[fleetnb.Fleet, fleetnb.Agent, list[tuple[str, Any]]]:
    repo = root / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    fleet = fleetnb.Fleet(root / "fleet")
    agent = fleet.launch("write the release notes", harness="demo", cwd=repo,
                         approvals="allow", options={"step_delay": 0.01})  # fmt: skip
    agent.wait(timeout=60)
    agent.stop()
    turn = [(e.kind, dict(e.payload)) for e in agent.events()
            if e.kind not in ("launched", "runner_started", "agent_finished",
                              "stop_requested")]  # fmt: skip
    return fleet, agent, turn


def replay(turn: list[tuple[str, Any]], n: int) -> list[tuple[str, Any]]:
    """The turn again with its call and request ids made unique."""
    text = json.dumps(turn)
    for old in {p.get("call_id") or p.get("request_id") for _, p in turn} - {None}:
        text = text.replace(str(old), f"{old}-{n}")
    return [(k, p) for k, p in json.loads(text)]


def notebook_bytes(bundle: dict[str, Any] | None) -> int:
    cell = new_code_cell("agent.evidence()")  # type: ignore[no-untyped-call]
    if bundle is not None:
        cell.outputs = [new_output("display_data", data=bundle)]  # type: ignore[no-untyped-call]
    return len(nbformat.writes(new_notebook(cells=[cell])))  # type: ignore[no-untyped-call]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        fleet, agent, turn = demo_events(Path(tmp))
        for start in range(0, TURNS_PER_HOUR, 100):
            batch = [e for n in range(start, start + 100) for e in replay(turn, n)]
            fleet.store.append_many(agent.id, batch)
        total = fleet.store.count_events(agent.id)
        began = time.perf_counter()
        fleet.store.events(agent.id, after_seq=total - 1000)
        baseline = time.perf_counter() - began
        began = time.perf_counter()
        bundle = build_trail(fleet.store, agent.record)._repr_mimebundle_()
        built = time.perf_counter() - began
        growth = notebook_bytes(bundle) - notebook_bytes(None)
        print(f"events in the store: {total} (one demo agent-hour)")
        print(f"notebook growth for one displayed trail: {growth / 1024:.1f} KiB")
        print(f"build + render: {built * 1000:.0f} ms = {built / baseline:.1f}x reading "
              f"the newest 1000 events ({baseline * 1000:.1f} ms)")  # fmt: skip
        fleet.close()


if __name__ == "__main__":
    main()
