"""Resuming a finished agent's own session, on the demo harness (real runners)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import fleetnb
from fleetnb import EventKind, State
from fleetnb.cli import main
from fleetnb.store import AgentRecord

FAST = {"step_delay": 0.01}


def _finished(fleet: fleetnb.Fleet, repo: Path, task: str = "first") -> fleetnb.Agent:
    agent = fleet.launch(task, harness="demo", cwd=repo, approvals="allow", options=FAST)
    assert agent.wait(timeout=30) is State.IDLE
    assert agent.stop() is State.STOPPED
    return agent


def test_resume_continues_the_session_in_a_new_run(fleet: fleetnb.Fleet, repo: Path) -> None:
    agent = _finished(fleet, repo)
    session = agent.session_id
    assert agent.resume("second") is agent
    assert not agent.state.is_final
    assert agent.wait(timeout=30) is State.IDLE
    assert agent.session_id == session
    launches = agent.events(kinds=[EventKind.LAUNCHED])
    assert [e.payload["task"] for e in launches] == ["first", "second"]
    assert launches[1].payload["resume"] == session
    assert [e.payload["session_id"] for e in agent.events(kinds=[EventKind.SESSION_STARTED])] == [
        session,
        session,
    ]
    assert len(agent.events(kinds=[EventKind.RUNNER_STARTED])) == 2
    assert (repo / "fleetnb-demo" / "second.md").read_text() == "- second\n"
    assert agent.stop() is State.STOPPED
    finished = agent.events(kinds=[EventKind.AGENT_FINISHED])
    assert [e.payload["status"] for e in finished] == ["stopped", "stopped"]
    seqs = [e.seq for e in agent.events()]
    assert seqs == list(range(1, len(seqs) + 1))


def test_a_second_process_sees_the_resumed_run(fleet: fleetnb.Fleet, repo: Path) -> None:
    agent = _finished(fleet, repo)
    agent.resume("again")
    other = fleetnb.Fleet(fleet.root)
    assert other[agent.name].wait(timeout=30) is State.IDLE
    other.close()


def test_resume_refuses_a_running_agent(fleet: fleetnb.Fleet, repo: Path) -> None:
    agent = fleet.launch("busy", harness="demo", cwd=repo, approvals="allow", options=FAST)
    assert agent.wait(timeout=30) is State.IDLE
    with pytest.raises(fleetnb.AgentRunningError, match="send\\(\\) it a message"):
        agent.resume("more")
    with pytest.raises(ValueError, match="empty"):
        agent.resume("  ")


def test_resume_refuses_an_agent_without_a_session(fleet: fleetnb.Fleet, repo: Path) -> None:
    record = AgentRecord("x1", "early", "demo", None, "task", str(repo), time.time())
    fleet.store.create_agent(record, {"task": "task"})
    fleet.store.finish_if_open("x1", {"status": "failed", "reason": "runner did not start"})
    with pytest.raises(fleetnb.ResumeError, match="session id"):
        fleet["early"].resume("more")
    assert len(fleet["early"].events(kinds=[EventKind.LAUNCHED])) == 1


def test_cli_resume(fleet: fleetnb.Fleet, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    agent = _finished(fleet, repo)
    root = str(fleet.root)
    assert main(["--root", root, "resume", agent.name, "from the shell", "--wait"]) == 0
    assert capsys.readouterr().out.strip() == "idle"
    assert agent.events(kinds=[EventKind.LAUNCHED])[-1].payload["task"] == "from the shell"
    assert main(["--root", root, "resume", agent.name, "again"]) == 1
    assert "send() it a message" in capsys.readouterr().err
