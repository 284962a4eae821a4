"""The Fleet API end to end, on the demo harness (real runners, real files, real store)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

import fleetnb
from fleetnb import EventKind, State

FAST = {"step_delay": 0.01}


def _kinds(agent: fleetnb.Agent) -> list[str]:
    return [e.kind for e in agent.events()]


def _runner_pid(agent: fleetnb.Agent) -> int:
    deadline = time.monotonic() + 30
    while not (started := agent.events(kinds=[EventKind.RUNNER_STARTED])):
        assert time.monotonic() < deadline, "the runner never started"
        time.sleep(0.05)
    return int(started[0].payload["pid"])


def _wait_for(agent: fleetnb.Agent, state: State, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while agent.state is not state:
        assert time.monotonic() < deadline, f"{agent.name} is {agent.state}, not {state}"
        time.sleep(0.05)


def test_a_turn_is_recorded_in_order_and_edits_real_files(fleet: fleetnb.Fleet, repo: Path) -> None:
    agent = fleet.launch("write notes", harness="demo", cwd=repo, approvals="allow", options=FAST)
    assert agent.wait(timeout=30) is State.IDLE
    events = agent.events()
    assert [e.kind for e in events[:3]] == ["launched", "runner_started", "session_started"]
    write = next(e for e in events if e.payload.get("tool") == "Write")
    after_write = [e.kind for e in events if e.seq >= write.seq]
    assert after_write[:4] == ["tool_call", "approval_requested", "approval_decided", "tool_result"]
    assert after_write[-2:] == ["usage", "turn_finished"]
    assert (repo / "fleetnb-demo" / "write-notes.md").read_text() == "- write notes\n"
    assert all(e.payload.get("demo") for e in agent.events()[2:]), "demo events are labelled"
    assert agent.session_id is not None
    assert agent.session_id.startswith("demo-")
    assert agent.usage.output_tokens == 80
    assert agent.cost_usd == 0.0


def test_send_continues_the_same_session(fleet: fleetnb.Fleet, repo: Path) -> None:
    agent = fleet.launch("first", harness="demo", cwd=repo, approvals="allow", options=FAST)
    assert agent.wait(timeout=30) is State.IDLE
    session = agent.session_id
    agent.send("second")
    assert agent.state is State.RUNNING  # the message itself makes the agent busy
    assert agent.wait(timeout=30) is State.IDLE
    assert agent.session_id == session
    assert _kinds(agent).count("turn_finished") == 2
    assert (repo / "fleetnb-demo" / "first.md").read_text() == "- first\n- second\n"


def test_denied_writes_leave_files_alone(fleet: fleetnb.Fleet, repo: Path) -> None:
    agent = fleet.launch("nothing", harness="demo", cwd=repo, approvals="deny", options=FAST)
    assert agent.wait(timeout=30) is State.IDLE
    assert not (repo / "fleetnb-demo").exists()
    decided = agent.events(kinds=[EventKind.APPROVAL_DECIDED])
    assert [e.payload["decision"] for e in decided] == ["deny"]


def test_ask_waits_for_a_person_and_a_decision_counts_once(
    fleet: fleetnb.Fleet, repo: Path
) -> None:
    agent = fleet.launch("ask me", harness="demo", cwd=repo, approvals="ask", options=FAST)
    _wait_for(agent, State.WAITING)
    (request,) = agent.status().pending_approvals
    assert request["tool"] == "Write"
    agent.decide(str(request["request_id"]), allow=True)
    with pytest.raises(fleetnb.ApprovalError, match="already decided"):
        agent.decide(str(request["request_id"]), allow=False)
    _wait_for(agent, State.WAITING)  # the shell command asks next
    (command,) = agent.status().pending_approvals
    agent.decide(str(command["request_id"]), allow=False, reason="not now")
    assert agent.wait(timeout=30) is State.IDLE
    assert (repo / "fleetnb-demo" / "ask-me.md").exists()


def test_an_unanswered_approval_is_denied_after_the_timeout(
    fleet: fleetnb.Fleet, repo: Path
) -> None:
    agent = fleet.launch(
        "slow", harness="demo", cwd=repo, approvals="ask", approval_timeout=0.5, options=FAST
    )
    assert agent.wait(timeout=30) is State.IDLE
    (decided,) = agent.events(kinds=[EventKind.APPROVAL_DECIDED])
    assert decided.payload["decision"] == "deny"
    assert decided.payload["by"] == "timeout"
    assert not (repo / "fleetnb-demo").exists()


def test_stop_ends_the_runner_cleanly(fleet: fleetnb.Fleet, repo: Path) -> None:
    agent = fleet.launch("stop me", harness="demo", cwd=repo, approvals="ask", options=FAST)
    pid = _runner_pid(agent)
    _wait_for(agent, State.WAITING)
    assert agent.stop() is State.STOPPED
    finished = agent.events(kinds=[EventKind.AGENT_FINISHED])
    assert [e.payload["status"] for e in finished] == ["stopped"]
    psutil.Process(pid).wait(timeout=10) if psutil.pid_exists(pid) else None
    assert agent.stop() is State.STOPPED  # stopping twice is harmless
    with pytest.raises(fleetnb.AgentNotRunningError, match="has finished"):
        agent.send("more")


def test_the_session_closes_itself_after_the_idle_timeout(fleet: fleetnb.Fleet, repo: Path) -> None:
    agent = fleet.launch(
        "short", harness="demo", cwd=repo, approvals="allow", idle_timeout=0.3, options=FAST
    )
    _wait_for(agent, State.DONE)
    (finished,) = agent.events(kinds=[EventKind.AGENT_FINISHED])
    assert finished.payload["exit_code"] == 0


def test_a_runner_killed_with_sigkill_shows_as_lost(fleet: fleetnb.Fleet, repo: Path) -> None:
    agent = fleet.launch("doomed", harness="demo", cwd=repo, approvals="ask", options=FAST)
    _wait_for(agent, State.WAITING)
    os.kill(_runner_pid(agent), signal.SIGKILL)
    _wait_for(agent, State.FAILED)
    (finished,) = agent.events(kinds=[EventKind.AGENT_FINISHED])
    assert finished.payload["reason"] == "runner lost"


def test_a_second_process_sees_the_same_agents(fleet: fleetnb.Fleet, repo: Path) -> None:
    agent = fleet.launch("shared", harness="demo", cwd=repo, approvals="allow", options=FAST)
    agent.wait(timeout=30)
    script = (
        "import json, sys, fleetnb\n"
        "f = fleetnb.Fleet(sys.argv[1])\n"
        "a = f[sys.argv[2]]\n"
        "print(json.dumps([a.id, str(a.state), a.session_id, len(a.events())]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(fleet.root), agent.name],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    seen = json.loads(out.stdout)
    assert seen[:3] == [agent.id, str(agent.state), agent.session_id]
    assert seen[3] >= len(agent.events()) - 1


def test_eight_busy_runners_lose_nothing(fleet: fleetnb.Fleet, repo: Path) -> None:
    chatter = 300
    agents = [
        fleet.launch(
            f"busy {i}", harness="demo", cwd=repo, approvals="allow",
            options={**FAST, "chatter": chatter},
        )
        for i in range(8)
    ]  # fmt: skip
    for agent in agents:
        assert agent.wait(timeout=90) is State.IDLE
        events = agent.events()
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        progress = [e.payload["text"] for e in events if "progress" in e.payload.get("text", "")]
        assert progress == [f"[demo] progress {i}/{chatter}" for i in range(1, chatter + 1)]
    assert len(fleet.status()) == 8


class TestBadLaunches:
    """Each refused launch says what to do and leaves nothing in the store."""

    def test_unknown_harness(self, fleet: fleetnb.Fleet, repo: Path) -> None:
        with pytest.raises(fleetnb.UnknownHarnessError, match=r"choose one of .*demo"):
            fleet.launch("t", harness="nope", cwd=repo)
        assert len(fleet) == 0

    def test_missing_binary(self, fleet: fleetnb.Fleet, repo: Path) -> None:
        with pytest.raises(fleetnb.HarnessNotFoundError, match="does not exist"):
            fleet.launch("t", harness="codex", cwd=repo, binary="/nonexistent/codex")
        assert len(fleet) == 0

    @pytest.mark.parametrize("cwd", ["missing-dir", "README.md"])
    def test_bad_cwd(self, fleet: fleetnb.Fleet, repo: Path, cwd: str) -> None:
        with pytest.raises(fleetnb.BadWorkingDirectoryError, match="cwd"):
            fleet.launch("t", harness="demo", cwd=repo / cwd)
        assert len(fleet) == 0

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"task": "  "}, "task is empty"),
            ({"approvals": "maybe"}, "not one of"),
            ({"name": "has space"}, "without spaces"),
            ({"env": {"A": 1}}, "string values"),
        ],
    )
    def test_bad_arguments(
        self, fleet: fleetnb.Fleet, repo: Path, kwargs: dict[str, object], message: str
    ) -> None:
        args: dict[str, object] = {"task": "t", "harness": "demo", "cwd": repo, **kwargs}
        with pytest.raises(fleetnb.LaunchError, match=message):
            fleet.launch(**args)  # type: ignore[arg-type]
        assert len(fleet) == 0

    def test_duplicate_name(self, fleet: fleetnb.Fleet, repo: Path) -> None:
        fleet.launch("t", harness="demo", cwd=repo, name="one", options=FAST)
        with pytest.raises(fleetnb.LaunchError, match="exists"):
            fleet.launch("t", harness="demo", cwd=repo, name="one")
        assert len(fleet) == 1

    def test_unknown_agent(self, fleet: fleetnb.Fleet) -> None:
        with pytest.raises(fleetnb.AgentNotFoundError, match="fleetnb status"):
            fleet["ghost"]


def test_a_stop_right_after_an_approval_is_not_lost(fleet: fleetnb.Fleet, repo: Path) -> None:
    # asyncio.wait_for on 3.11 swallowed a cancel that met the decision in one instant.
    agent = fleet.launch("racy", harness="demo", cwd=repo, options=FAST)
    _wait_for(agent, State.WAITING)
    (request,) = fleet.approvals
    request.approve()
    assert agent.stop() is State.STOPPED
    (finished,) = agent.events(kinds=[EventKind.AGENT_FINISHED])
    assert finished.payload["reason"] == "stop requested"  # not a signal after a timeout
