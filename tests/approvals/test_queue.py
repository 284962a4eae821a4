"""One queue across agents, on the demo harness: real runners, real files, real git."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import fleetnb
from fleetnb import EventKind, State
from fleetnb.approvals.queue import ApprovalRequest
from tests.approvals.waiting import wait_pending

FAST = {"step_delay": 0.01}


def _staged(repo: Path) -> str:
    out = subprocess.run(
        ["git", "-C", str(repo), "diff", "--cached", "--name-only"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return out.stdout


def test_the_default_policy_asks_before_staging_and_the_queue_answers(
    fleet: fleetnb.Fleet, repo: Path
) -> None:
    first = fleet.launch("one", harness="demo", cwd=repo, options=FAST)
    second = fleet.launch("two", harness="demo", cwd=repo, options=FAST)
    pending = wait_pending(fleet, 2)
    assert {request.agent.name for request in pending} == {first.name, second.name}
    assert pending[0].requested_at <= pending[1].requested_at  # oldest first
    assert {request.tool for request in pending} == {"Bash"}
    assert all(request.risk == "medium" for request in pending)
    assert first.state is State.WAITING

    by_agent = {request.agent.name: request for request in pending}
    by_agent[first.name].approve()
    by_agent[second.name].deny(reason="not yet")
    assert first.wait(30) is State.IDLE
    assert second.wait(30) is State.IDLE
    assert _staged(repo).split() == ["fleetnb-demo/one.md"]
    (decided,) = [
        e for e in second.events(kinds=[EventKind.APPROVAL_DECIDED]) if e.payload["by"] == "person"
    ]
    assert (decided.payload["decision"], decided.payload["reason"]) == ("deny", "not yet")
    with pytest.raises(fleetnb.ApprovalError, match="already decided: allow by person"):
        by_agent[first.name].deny()
    assert fleet.approvals == []


def test_rules_decide_without_a_person_and_say_so(fleet: fleetnb.Fleet, repo: Path) -> None:
    agent = fleet.launch("rules", harness="demo", cwd=repo, options=FAST)
    (request,) = wait_pending(fleet, 1)  # the write was allowed by a rule, silently
    write = next(
        e for e in agent.events(kinds=[EventKind.APPROVAL_DECIDED]) if e.payload["by"] == "rule"
    )
    assert write.payload["decision"] == "allow"
    assert "inside the working directory" in write.payload["reason"]
    request.approve()


def test_a_request_nobody_answers_is_denied_and_then_no_longer_applies(
    fleet: fleetnb.Fleet, repo: Path
) -> None:
    agent = fleet.launch("late", harness="demo", cwd=repo, approval_timeout=0.5, options=FAST)
    (request,) = wait_pending(fleet, 1)
    assert agent.wait(30) is State.IDLE
    with pytest.raises(fleetnb.ApprovalError, match="nobody answered in time"):
        request.approve()
    with pytest.raises(fleetnb.ApprovalError, match="nobody answered in time"):
        fleet.approval(request.id)
    assert _staged(repo) == ""


def test_approve_all_respects_the_risk_ceiling(fleet: fleetnb.Fleet, repo: Path) -> None:
    agent = fleet.launch("bulk", harness="demo", cwd=repo, options=FAST)
    wait_pending(fleet, 1)
    assert fleet.approve_all(max_risk="low") == []
    (approved,) = fleet.approve_all(agent=agent.name, max_risk="medium")
    assert approved.agent.id == agent.id
    assert agent.wait(30) is State.IDLE
    with pytest.raises(ValueError, match="critical"):
        fleet.approve_all(max_risk="very")


def test_the_waiting_hook_fires_when_an_agent_starts_waiting(
    fleet: fleetnb.Fleet, repo: Path
) -> None:
    seen: list[ApprovalRequest] = []
    arrived = threading.Event()

    def on_waiting(request: ApprovalRequest) -> None:
        seen.append(request)
        arrived.set()

    unsubscribe = fleet.on_waiting(on_waiting)
    agent = fleet.launch("hook", harness="demo", cwd=repo, options=FAST)
    assert arrived.wait(30)
    unsubscribe()
    assert [request.agent.name for request in seen] == [agent.name]
    assert seen[0].tool == "Bash"


def test_headless_fleets_resolve_ask_by_the_headless_default(tmp_path: Path, repo: Path) -> None:
    fleet = fleetnb.Fleet(tmp_path / "headless", headless=True)
    agent = fleet.launch("nobody", harness="demo", cwd=repo, options=FAST)
    assert agent.wait(30) is State.IDLE
    decisions = [e.payload for e in agent.events(kinds=[EventKind.APPROVAL_DECIDED])]
    assert [(d["decision"], d["by"]) for d in decisions] == [
        ("allow", "rule"),
        ("deny", "headless"),
    ]
    assert _staged(repo) == ""


def test_a_runner_that_dies_while_waiting_abandons_its_request(
    fleet: fleetnb.Fleet, repo: Path
) -> None:
    agent = fleet.launch("dies", harness="demo", cwd=repo, options=FAST)
    (request,) = wait_pending(fleet, 1)
    (started,) = agent.events(kinds=[EventKind.RUNNER_STARTED])
    os.kill(int(started.payload["pid"]), signal.SIGKILL)
    deadline = time.monotonic() + 30
    while fleet.approvals:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert agent.state is State.FAILED
    with pytest.raises(fleetnb.ApprovalError, match="abandoned"):
        fleet.approval(request.id)


def test_the_approval_commands(fleet: fleetnb.Fleet, repo: Path) -> None:
    agent = fleet.launch("cli", harness="demo", cwd=repo, options=FAST)
    wait_pending(fleet, 1)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "fleetnb.cli", "--root", str(fleet.root), *args],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    (listed,) = json.loads(cli("approvals", "--json").stdout)
    assert (listed["agent"], listed["tool"], listed["risk"]) == (agent.name, "Bash", "medium")
    assert listed["id"] in cli("approvals").stdout
    assert cli("deny", listed["id"], "--reason", "no").returncode == 0
    again = cli("approve", listed["id"])
    assert again.returncode == 1
    assert "already decided" in again.stderr
    assert "no approval request 'nope'" in cli("approve", "nope").stderr
    assert agent.wait(30) is State.IDLE
