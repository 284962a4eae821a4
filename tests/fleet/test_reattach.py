"""Agents outlive the process that launched them; a new Fleet re-attaches from the store."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import fleetnb
from fleetnb import EventKind, State
from fleetnb.widgets import FleetTable

CHATTER = 3000
# launched, runner_started, session_started, 2 x (text + usage), Glob call + result,
# the chatter, Write (call, request, decision, result), Bash (the same four), turn_finished
EVENTS_PER_TURN = 3 + 4 + 2 + CHATTER + 4 + 4 + 1

LAUNCHER = textwrap.dedent(
    """
    import sys, time
    import fleetnb
    fleet = fleetnb.Fleet(sys.argv[1])
    agent = fleet.launch(
        "stream", harness="demo", cwd=sys.argv[2], approvals="allow", name="streamer",
        options={"chatter": CHATTER, "step_delay": 0.05, "chatter_delay": 0.002},
    )
    print(agent.id, flush=True)
    time.sleep(600)  # the kernel, busy elsewhere, until it is killed
    """
).replace("CHATTER", str(CHATTER))

READER = textwrap.dedent(
    """
    import json, sys
    import fleetnb
    agent = fleetnb.Fleet(sys.argv[1])["streamer"]
    print(json.dumps({"state": str(agent.state), "events": len(agent.events())}))
    """
)


def _state_in(table: FleetTable) -> str | None:
    return next((row["state"] for row in table.rows if row["name"] == "streamer"), None)


def _until(check: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the live table never showed it"
        time.sleep(0.05)


def _python(code: str, *args: str) -> list[str]:
    return [sys.executable, "-c", code, *args]


def test_an_agent_survives_its_launcher_and_loses_nothing(tmp_path: Path, repo: Path) -> None:
    root = tmp_path / "root"
    launcher = subprocess.Popen(_python(LAUNCHER, str(root), str(repo)), stdout=subprocess.PIPE)
    assert launcher.stdout is not None
    agent_id = launcher.stdout.readline().decode().strip()
    fleet = fleetnb.Fleet(root)
    agent = fleet[agent_id]
    deadline = time.monotonic() + 30
    while fleet.store.count_events(agent_id) < 200:  # mid-stream
        assert time.monotonic() < deadline, "the agent never started streaming"
        time.sleep(0.02)
    os.kill(launcher.pid, signal.SIGKILL)  # the kernel dies without a word
    launcher.wait()
    launcher.stdout.close()

    seen = json.loads(subprocess.check_output(_python(READER, str(root))))
    assert seen["state"] == "running", seen
    assert 200 <= seen["events"] < EVENTS_PER_TURN
    table = FleetTable(fleet)  # the new kernel's live table picks the agent up
    _until(lambda: _state_in(table) == "running")

    assert agent.wait(timeout=120) is State.IDLE
    _until(lambda: _state_in(table) == "idle")
    table.close()
    events = agent.events()
    assert len(events) == EVENTS_PER_TURN
    assert [e.seq for e in events] == list(range(1, EVENTS_PER_TURN + 1))
    chatter = [e.payload["text"] for e in events if "progress" in str(e.payload.get("text"))]
    assert chatter == [f"[demo] progress {i}/{CHATTER}" for i in range(1, CHATTER + 1)]
    assert len(agent.events(kinds=[EventKind.RUNNER_STARTED])) == 1
    assert agent.stop() is State.STOPPED
    fleet.close()
