"""Every agent's status, folded incrementally for the widgets' live thread.

The widgets keep their own fold rather than asking ``Agent.status()``: it is fed
the events the fleet's watcher already read, and it reads the store only to
fill a gap, to catch up once a second, or to meet a new agent. Nothing here
locks; the live feed that owns a fold serialises every call.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections import deque
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from fleetnb.events import AgentStatus, Event, EventKind, fold, truth_columns
from fleetnb.liveness import runner_alive
from fleetnb.store import AgentRecord, EventStore

__all__ = ["AgentFold", "FleetFold", "describe_event", "elapsed_of", "row_of"]

RECENT_EVENTS = 30  # what an expanded row shows
_KEPT_REQUESTS = 50  # request events kept per agent, so a late click can still be described
_RUNNER_START_GRACE_S = 60.0  # as Agent: a runner silent this long after launch is not coming
_TASK_CHARS = 80
_LINE_CHARS = 200


@dataclasses.dataclass(slots=True)
class AgentFold:
    """One agent: its launch record, its folded status and what the widgets show of it."""

    record: AgentRecord
    status: AgentStatus = dataclasses.field(default_factory=AgentStatus)
    recent: deque[Event] = dataclasses.field(default_factory=lambda: deque(maxlen=RECENT_EVENTS))
    requests: dict[str, Event] = dataclasses.field(default_factory=dict)

    def absorb(self, events: list[Event], now: float, stall_after: float) -> None:
        for event in events:
            if event.kind == EventKind.APPROVAL_REQUESTED:
                self.requests[str(event.payload.get("request_id"))] = event
        while len(self.requests) > _KEPT_REQUESTS:
            del self.requests[next(iter(self.requests))]
        self.recent.extend(events)
        fold(events, now=now, stall_after=stall_after, status=self.status)

    def pending(self) -> list[Event]:
        """The request events still waiting for a decision, oldest first."""
        if self.status.state.is_final:
            return []
        wanted = [str(p.get("request_id")) for p in self.status.pending_approvals]
        return [self.requests[rid] for rid in wanted if rid in self.requests]

    def runner_lost(self, now: float) -> bool:
        """True when the runner seems gone without a final event (Agent.status confirms)."""
        if self.status.state.is_final:
            return False
        runner = self.status.runner
        if runner is None:
            launched = self.status.run_launched_ts or self.record.created_at
            return now - launched > _RUNNER_START_GRACE_S
        return runner_alive(runner) is False


class FleetFold:
    """Every agent of one store, by id, in launch order."""

    def __init__(self, stall_after: float) -> None:
        self.stall_after = stall_after
        self.agents: dict[str, AgentFold] = {}

    def meet_new_agents(self, store: EventStore, now: float) -> set[str]:
        met = set()
        for record in store.agents():
            if record.id not in self.agents:
                agent = self.agents[record.id] = AgentFold(record)
                agent.absorb(store.events(record.id), now, self.stall_after)
                met.add(record.id)
        return met

    def absorb(self, store: EventStore, events: Iterable[Event], now: float) -> set[str]:
        """Fold events delivered by the watcher; returns the ids of the agents that changed."""
        by_agent: dict[str, list[Event]] = {}
        for event in events:
            by_agent.setdefault(event.agent_id, []).append(event)
        changed = set()
        for agent_id, batch in by_agent.items():
            agent = self.agents.get(agent_id)
            if agent is None:
                changed |= self.meet_new_agents(store, now)
                continue
            last = agent.status.last_seq
            fresh = [event for event in batch if event.seq > last]
            if fresh and fresh[0].seq != last + 1:  # a gap: the store has the whole story
                fresh = store.events(agent_id, after_seq=last)
            if fresh:
                agent.absorb(fresh, now, self.stall_after)
                changed.add(agent_id)
        return changed

    def catch_up(self, store: EventStore, now: float) -> set[str]:
        """Read whatever the watcher has not delivered: new agents, new events of live ones."""
        changed = self.meet_new_agents(store, now)
        for agent_id, agent in self.agents.items():
            if agent.status.state.is_final:
                continue
            fresh = store.events(agent_id, after_seq=agent.status.last_seq)
            if fresh:
                agent.absorb(fresh, now, self.stall_after)
                changed.add(agent_id)
        return changed

    def restall(self, now: float) -> set[str]:
        """Re-judge ``stalled`` against the clock; returns the agents whose state moved."""
        changed = set()
        for agent_id, agent in self.agents.items():
            before = agent.status.state
            if not before.is_final:
                fold((), now=now, stall_after=self.stall_after, status=agent.status)
                if agent.status.state is not before:
                    changed.add(agent_id)
        return changed

    def find(self, name_or_id: str) -> AgentFold | None:
        agent = self.agents.get(name_or_id)
        if agent is not None:
            return agent
        return next((a for a in self.agents.values() if a.record.name == name_or_id), None)

    def request(self, request_id: str) -> tuple[AgentFold, Event] | None:
        for agent in self.agents.values():
            if request_id in agent.requests:
                return agent, agent.requests[request_id]
        return None


def row_of(agent: AgentFold, now: float | None = None) -> dict[str, Any]:
    """One table row: ``Agent.row()``'s keys, a shortened task, plus what the live view needs."""
    status, record = agent.status, agent.record
    usage = status.usage
    return {
        "id": record.id,
        "name": record.name,
        "harness": record.harness,
        "model": status.model or record.model or "",
        "state": str(status.state),
        "task": _shorten(record.task, _TASK_CHARS),
        "task_full": _shorten(record.task, 2000),
        "elapsed_s": elapsed_of(agent, now),
        "last_action": status.last_action,
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
        "cost_usd": round(status.cost_usd, 6),
        "budget_usd": status.budget_usd,
        "spent_usd": round(status.spent_usd, 6),
        "pending_approvals": len(status.pending_approvals),
        "notes": status.last_note,
        "annotations": status.annotations,
        **truth_columns(status),
        "demo": record.harness == "demo",
        "seq": status.last_seq,
        "last_event_ts": status.last_ts or record.created_at,
    }


def elapsed_of(agent: AgentFold, now: float | None = None) -> int:
    """Whole seconds since launch, up to the last event once the agent has finished."""
    created = agent.record.created_at
    if agent.status.state.is_final:
        end = agent.status.last_ts or created
    else:
        end = time.time() if now is None else now
    return int(max(0.0, end - created))


def describe_event(event: Event) -> str:
    """One line for an expanded row: clock time, kind and the gist of the payload."""
    clock = datetime.fromtimestamp(event.ts, UTC).astimezone().strftime("%H:%M:%S")
    return _shorten(f"{clock} #{event.seq} {event.kind}: {_gist(event)}", _LINE_CHARS)


def _gist(event: Event) -> str:
    p = event.payload
    if event.kind == EventKind.ASSISTANT_TEXT:
        return str(p.get("text", ""))
    if event.kind in (EventKind.TOOL_CALL, EventKind.APPROVAL_REQUESTED):
        risk = f" [{p['risk']}]" if p.get("risk") else ""
        return f"{p.get('tool')}{risk} {_input_gist(p.get('input'))}"
    if event.kind == EventKind.TOOL_RESULT:
        return ("error: " if p.get("is_error") else "ok: ") + str(p.get("output", ""))
    if event.kind == EventKind.APPROVAL_DECIDED:
        return f"{p.get('decision')} by {p.get('by')}: {p.get('reason') or ''}"
    if event.kind == EventKind.USAGE:
        return f"{p.get('input_tokens', 0)} in, {p.get('output_tokens', 0)} out"
    return json.dumps(dict(p), ensure_ascii=False, default=str)


def _input_gist(value: Any) -> str:
    if isinstance(value, Mapping):
        for key in ("command", "file_path", "path", "pattern", "url"):
            if key in value:
                return str(value[key])
    return json.dumps(value, ensure_ascii=False, default=str)


def _shorten(text: str, limit: int) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
