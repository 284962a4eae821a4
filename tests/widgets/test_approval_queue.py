"""ApprovalQueue's handler against real demo agents: each click decides the real request."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import fleetnb
from fleetnb import EventKind, State
from fleetnb.widgets import ApprovalQueue
from tests.widgets.conftest import launch_waiting, until


def _staged(repo: Path) -> list[str]:
    out = subprocess.run(
        ["git", "-C", str(repo), "diff", "--cached", "--name-only"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return out.stdout.split()


def _person_decision(agent: fleetnb.Agent) -> dict[str, Any]:
    decided = agent.events(kinds=[EventKind.APPROVAL_DECIDED])
    (event,) = [e for e in decided if e.payload["by"] != "rule"]
    return dict(event.payload)


def _waiting(queue: ApprovalQueue, count: int) -> list[dict[str, Any]]:
    until(lambda: len(queue.requests) == count, what=f"{count} requests in the queue")
    return list(queue.requests)


def test_a_request_shows_what_the_agent_wants(
    fleet: fleetnb.Fleet, repo: Path, queue: ApprovalQueue
) -> None:
    agent = launch_waiting(fleet, repo, "stage it")
    (request,) = _waiting(queue, 1)
    (expected,) = fleet.approvals
    assert request["id"] == expected.id
    assert request["agent"] == agent.name
    assert request["agent_id"] == agent.id
    assert request["tool"] == "Bash"
    assert request["command"] == "git add fleetnb-demo/stage-it.md"
    assert request["risk"] == "medium"
    assert request["reason"] == "the demo stages its notes"
    assert request["rule"]
    assert abs(request["requested_ts"] - expected.requested_at.timestamp()) < 1e-3
    assert request["error"] == ""
    assert request["stale"] is False


def test_approve_decides_the_real_request_and_it_leaves_at_once(
    fleet: fleetnb.Fleet, repo: Path, queue: ApprovalQueue
) -> None:
    agent = launch_waiting(fleet, repo, "approve me")
    (request,) = _waiting(queue, 1)
    queue._handle_custom_msg({"type": "approve", "id": request["id"]}, [])
    assert queue.requests == []  # refreshed right after the decision
    assert queue.errors == {}
    assert _person_decision(agent)["decision"] == "allow"
    assert agent.wait(30) is State.IDLE
    assert _staged(repo) == ["fleetnb-demo/approve-me.md"]


def test_deny_carries_the_reason(fleet: fleetnb.Fleet, repo: Path, queue: ApprovalQueue) -> None:
    agent = launch_waiting(fleet, repo)
    (request,) = _waiting(queue, 1)
    queue._handle_custom_msg({"type": "deny", "id": request["id"], "reason": "not today"}, [])
    assert queue.requests == []
    decision = _person_decision(agent)
    assert (decision["decision"], decision["reason"]) == ("deny", "not today")
    assert agent.wait(30) is State.IDLE
    assert _staged(repo) == []


def test_deny_without_a_reason_uses_the_default(
    fleet: fleetnb.Fleet, repo: Path, queue: ApprovalQueue
) -> None:
    agent = launch_waiting(fleet, repo)
    (request,) = _waiting(queue, 1)
    queue._handle_custom_msg({"type": "deny", "id": request["id"], "reason": ""}, [])
    assert _person_decision(agent)["reason"] == "denied by a person"


def test_a_timed_out_request_says_it_no_longer_applies(
    fleet: fleetnb.Fleet, repo: Path, queue: ApprovalQueue
) -> None:
    agent = launch_waiting(fleet, repo, approval_timeout=0.5)
    until(lambda: any(e.payload["by"] == "timeout"
                      for e in agent.events(kinds=[EventKind.APPROVAL_DECIDED])))  # fmt: skip
    request_id = _person_decision(agent)["request_id"]

    queue._handle_custom_msg({"type": "approve", "id": request_id}, [])
    assert "no longer applies" in queue.errors[request_id]
    (shown,) = [r for r in queue.requests if r["id"] == request_id]
    assert shown["stale"] is True
    assert "no longer applies" in shown["error"]
    assert shown["command"].startswith("git add")  # still says what it was
    assert _person_decision(agent)["by"] == "timeout"  # and nothing was decided twice

    queue._handle_custom_msg({"type": "dismiss", "id": request_id}, [])
    assert queue.requests == []
    assert queue.errors == {}


def test_deciding_twice_explains_the_first_decision(
    fleet: fleetnb.Fleet, repo: Path, queue: ApprovalQueue
) -> None:
    launch_waiting(fleet, repo)
    (request,) = _waiting(queue, 1)
    queue._handle_custom_msg({"type": "approve", "id": request["id"]}, [])
    queue._handle_custom_msg({"type": "deny", "id": request["id"], "reason": "late"}, [])
    assert "already decided: allow by person" in queue.errors[request["id"]]


def test_an_unknown_request_gets_an_error_not_silence(queue: ApprovalQueue) -> None:
    queue._handle_custom_msg({"type": "approve", "id": "nope"}, [])
    assert "no approval request 'nope'" in queue.errors["nope"]
    assert queue.requests[0]["id"] == "nope"


def test_approve_all_respects_the_risk_ceiling(
    fleet: fleetnb.Fleet, repo: Path, queue: ApprovalQueue
) -> None:
    agents = [launch_waiting(fleet, repo, f"task {i}") for i in range(2)]
    _waiting(queue, 2)
    queue._handle_custom_msg({"type": "approve_all", "max_risk": "low"}, [])
    assert len(queue.requests) == 2  # git add is medium risk
    assert queue.notice.startswith("approved 0 request(s) up to low risk")

    queue._handle_custom_msg({"type": "approve_all", "max_risk": "medium"}, [])
    assert queue.requests == []
    assert queue.notice.startswith("approved 2 request(s) up to medium risk")
    for agent in agents:
        assert _person_decision(agent)["decision"] == "allow"


def test_approve_all_with_a_bad_risk_says_so(queue: ApprovalQueue) -> None:
    queue._handle_custom_msg({"type": "approve_all", "max_risk": "whatever"}, [])
    assert "approve all failed" in queue.notice
    assert "not one of low, medium, high, critical" in queue.notice


def test_a_request_decided_elsewhere_leaves_the_queue_live(
    fleet: fleetnb.Fleet, repo: Path, queue: ApprovalQueue
) -> None:
    launch_waiting(fleet, repo)
    _waiting(queue, 1)
    fleet.approvals[0].deny(reason="from the CLI")
    _waiting(queue, 0)
