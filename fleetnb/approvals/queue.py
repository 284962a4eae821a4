"""One queue of approval requests across every agent and harness.

A request is pending while its ``approval_requested`` event has no decision and
its agent has not finished; the queue is folded from the store like everything
else, so every process sees the same queue. Deciding writes one
``approval_decided`` event (refused if anything decided first); the agent's
runner reads it within its poll interval and answers the CLI.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fleetnb.approvals.classify import Risk
from fleetnb.errors import ApprovalError
from fleetnb.events import Event, EventKind
from fleetnb.store import describe_decision

if TYPE_CHECKING:
    from fleetnb.agent import Agent
    from fleetnb.fleet import Fleet

__all__ = ["ApprovalRequest", "find_request", "pending_requests"]


@dataclasses.dataclass(frozen=True)
class ApprovalRequest:
    """A tool call an agent wants to make, waiting for a decision."""

    id: str
    agent: Agent
    tool: str
    input: Mapping[str, Any]
    risk: str
    reason: str
    requested_at: datetime
    rule: str = ""
    risk_reasons: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return (
            f"<ApprovalRequest {self.id} {self.agent.name} {self.tool} "
            f"risk={self.risk} {_summary(self.input)!r}>"
        )

    @property
    def risk_level(self) -> Risk:
        return Risk.parse(self.risk)

    def approve(self, by: str = "person") -> Event:
        return self.agent.decide(self.id, True, by=by)

    def deny(self, reason: str | None = None, by: str = "person") -> Event:
        return self.agent.decide(self.id, False, reason or "denied by a person", by=by)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "agent": self.agent.name,
            "agent_id": self.agent.id,
            "tool": self.tool,
            "input": dict(self.input),
            "risk": self.risk,
            "reason": self.reason,
            "rule": self.rule,
            "risk_reasons": list(self.risk_reasons),
            "requested_at": self.requested_at.isoformat(),
        }

    @classmethod
    def from_event(cls, agent: Agent, event: Event) -> ApprovalRequest:
        return cls.from_payload(agent, event.payload, event.ts)

    @classmethod
    def from_payload(cls, agent: Agent, payload: Mapping[str, Any], ts: float) -> ApprovalRequest:
        return cls(
            id=str(payload["request_id"]),
            agent=agent,
            tool=str(payload.get("tool", "")),
            input=dict(payload.get("input") or {}),
            risk=str(payload.get("risk") or "medium"),
            reason=str(payload.get("reason") or ""),
            requested_at=datetime.fromtimestamp(ts, UTC),
            rule=str(payload.get("rule") or ""),
            risk_reasons=tuple(payload.get("risk_reasons") or ()),
        )


def pending_requests(agents: Iterable[Agent]) -> list[ApprovalRequest]:
    """Every undecided request of running agents, oldest first."""
    found: list[ApprovalRequest] = []
    for agent in agents:
        status = agent.status()
        if status.state.is_final:
            continue
        found.extend(
            ApprovalRequest.from_payload(agent, pending, float(pending["requested_ts"]))
            for pending in status.pending_approvals
        )
    return sorted(found, key=lambda request: request.requested_at)


def find_request(fleet: Fleet, request_id: str) -> ApprovalRequest:
    """The pending request ``request_id``; a clear error if it is not pending."""
    for request in pending_requests(fleet.agents):
        if request.id == request_id:
            return request
    for agent in fleet.agents:
        for event in agent.events(kinds=[EventKind.APPROVAL_DECIDED]):
            if event.payload.get("request_id") == request_id:
                raise ApprovalError(describe_decision(request_id, event.payload))
        asked = agent.events(kinds=[EventKind.APPROVAL_REQUESTED])
        if any(event.payload.get("request_id") == request_id for event in asked):
            raise ApprovalError(
                f"approval {request_id} was abandoned: agent {agent.name} ended "
                f"({agent.state}) before anyone decided"
            )
    raise ApprovalError(f"no approval request {request_id!r}; `fleetnb approvals` lists them")


def _summary(tool_input: Mapping[str, Any]) -> str:
    for key in ("command", "file_path", "path"):
        if key in tool_input:
            return str(tool_input[key])[:80]
    return str(dict(tool_input))[:80]
