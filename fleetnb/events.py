"""The normalised event kinds and the fold that derives an agent's state from them.

Every fact about an agent is one event: ``(agent_id, seq, ts, kind, payload)``.
Harnesses translate their CLI's own messages into these kinds; the kernel writes
the kinds a person causes (``user_message``, ``stop_requested``, decisions).
An agent's state is never stored: :func:`fold` computes it from the events, so it
cannot drift from what happened.

Schema version 1 payloads (fields beyond these are allowed and kept). The version
changes only when a kind's existing fields change meaning or go away; a new kind
or a new field keeps it, since readers skip kinds they do not know:

=====================  ==========================================================
kind                   payload
=====================  ==========================================================
launched               task, harness, model, cwd, name, approvals, demo,
                       worktree (repo, path, branch, base; with worktree=True),
                       budget_usd (the agent's own budget, optional),
                       fleet_budget (the id of the fleet budget covering it, optional);
                       a resumed run's launch adds resume (the session id) and
                       starts a new run even after ``agent_finished``
runner_started         pid, host, create_time
session_started        session_id, model
assistant_text         text
tool_call              call_id, tool, input
tool_result            call_id, output, is_error
approval_requested     request_id, tool, input, reason
approval_decided       request_id, decision ("allow" | "deny"), by, reason
usage                  input_tokens, output_tokens, cache_read_tokens,
                       cache_write_tokens, model, synthetic, cost_usd (fleetnb's
                       price; None when unpriced), priced_by (the price source, or
                       "unpriced: why")
turn_finished          is_error, result, session_cost_usd (optional, cumulative)
user_message           text
stop_requested         by, reason; a budget's stop has by "budget", reason
                       "budget", scope ("agent" | "fleet"), budget_usd, spent_usd
budget_warning         scope ("agent" | "fleet"), budget_usd, spent_usd,
                       fraction (of the budget spent), budget_id (fleet scope)
limit_hit              message, resets_at (epoch seconds or None)
parse_error            raw, error
agent_finished         status ("done" | "failed" | "stopped"), exit_code,
                       stderr_tail, reason ("budget" when a budget stopped it), error
annotation             text, tag, event_seq (tag and event_seq optional)
diff                   action ("diff" | "merge" | "discard"), base, branch, diff
                       (a worktree agent's changes vs base), commit (after a merge)
truth_checked          trigger ("edit" | "turn" | "finish" | "manual"), base (the
                       commit changes are measured from, or None), files, errors,
                       warnings, calls_checked, calls_unresolved, findings (each a
                       Finding's fields, the first 200), findings_omitted, problems;
                       or only skipped (why a run has no checks)
=====================  ==========================================================
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = [
    "FILE_TOOLS",
    "SCHEMA_VERSION",
    "AgentStatus",
    "Event",
    "EventKind",
    "State",
    "Usage",
    "fold",
    "truth_columns",
]

SCHEMA_VERSION = 1
# The tool names, across harnesses, of the calls that write files.
FILE_TOOLS = frozenset(
    {"Write", "Edit", "MultiEdit", "NotebookEdit", "apply_patch", "write_file", "replace", "edit"}
)


class EventKind(enum.StrEnum):
    LAUNCHED = "launched"
    RUNNER_STARTED = "runner_started"
    SESSION_STARTED = "session_started"
    ASSISTANT_TEXT = "assistant_text"
    TOOL_CALL = "tool_call"
    TOOL_RESULT = "tool_result"
    APPROVAL_REQUESTED = "approval_requested"
    APPROVAL_DECIDED = "approval_decided"
    USAGE = "usage"
    TURN_FINISHED = "turn_finished"
    USER_MESSAGE = "user_message"
    STOP_REQUESTED = "stop_requested"
    BUDGET_WARNING = "budget_warning"
    LIMIT_HIT = "limit_hit"
    PARSE_ERROR = "parse_error"
    AGENT_FINISHED = "agent_finished"
    ANNOTATION = "annotation"
    DIFF = "diff"
    TRUTH_CHECKED = "truth_checked"


class State(enum.StrEnum):
    STARTING = "starting"
    RUNNING = "running"
    WAITING = "waiting"
    IDLE = "idle"
    DONE = "done"
    FAILED = "failed"
    STOPPED = "stopped"
    LIMITED = "limited"
    STALLED = "stalled"

    @property
    def is_final(self) -> bool:
        return self in _FINAL_STATES

    @property
    def is_settled(self) -> bool:
        """True when the agent needs input, hit a limit, or has ended: what ``wait()`` waits for."""
        return self in _FINAL_STATES or self in (State.IDLE, State.LIMITED)


_FINAL_STATES = frozenset({State.DONE, State.FAILED, State.STOPPED})

# Kinds that show the agent is working; they end a `limited` spell.
_ACTIVITY = frozenset(
    {
        EventKind.SESSION_STARTED,
        EventKind.ASSISTANT_TEXT,
        EventKind.TOOL_CALL,
        EventKind.TOOL_RESULT,
        EventKind.USAGE,
        EventKind.USER_MESSAGE,
    }
)


@dataclasses.dataclass(frozen=True, slots=True)
class Event:
    """One stored fact about one agent."""

    agent_id: str
    seq: int
    ts: float
    kind: str
    payload: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "agent_id": self.agent_id,
            "seq": self.seq,
            "ts": self.ts,
            "kind": self.kind,
            "payload": dict(self.payload),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)


@dataclasses.dataclass(frozen=True, slots=True)
class Usage:
    """Token counts in Anthropic's convention: input excludes cache reads and writes."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_read_tokens
            + self.cache_write_tokens
        )

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
        )

    def to_dict(self) -> dict[str, int]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cache_write_tokens": self.cache_write_tokens,
            "total_tokens": self.total_tokens,
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Usage:
        return cls(
            int(payload.get("input_tokens") or 0),
            int(payload.get("output_tokens") or 0),
            int(payload.get("cache_read_tokens") or 0),
            int(payload.get("cache_write_tokens") or 0),
        )


@dataclasses.dataclass(slots=True)
class AgentStatus:
    """What the events say about one agent at a moment."""

    state: State = State.STARTING
    session_id: str | None = None
    model: str | None = None
    usage: Usage = dataclasses.field(default_factory=Usage)
    priced_cost_usd: float = 0.0
    reported_cost_usd: float | None = None
    # Each pending request's payload plus ``requested_ts``, the time it was asked.
    pending_approvals: list[Mapping[str, Any]] = dataclasses.field(default_factory=list)
    last_action: str = ""
    started_ts: float | None = None
    last_ts: float | None = None
    finished: Mapping[str, Any] | None = None
    limit_resets_at: float | None = None
    turns: int = 0
    parse_errors: int = 0
    unpriced_usage_events: int = 0
    unpriced_tokens: int = 0
    # Every price source the usage events name, first seen first.
    priced_by: list[str] = dataclasses.field(default_factory=list)
    # The priced sum when the harness last reported its own figure: what that report covers.
    priced_at_report: float = 0.0
    budget_usd: float | None = None
    fleet_budget: str | None = None
    # (scope, budget id or None, budget_usd) of every budget warning recorded.
    budget_warnings: set[tuple[str, str | None, float]] = dataclasses.field(default_factory=set)
    annotations: int = 0
    last_note: str = ""
    # The latest API truth check of the agent's changes; None before the first.
    truth: Mapping[str, Any] | None = None
    # The current run: when it was launched, and its runner's identity once it started.
    run_launched_ts: float | None = None
    runner: Mapping[str, Any] | None = None
    last_seq: int = 0

    @property
    def cost_usd(self) -> float:
        """The harness's own figure when it reports one, else fleetnb's priced sum."""
        if self.reported_cost_usd is not None:
            return self.reported_cost_usd
        return self.priced_cost_usd

    @property
    def spent_usd(self) -> float:
        """What budgets count: the harness's last own figure plus fleetnb's price of
        the usage since then, so a long turn counts before the harness reports it."""
        if self.reported_cost_usd is None:
            return self.priced_cost_usd
        return self.reported_cost_usd + max(0.0, self.priced_cost_usd - self.priced_at_report)

    @property
    def reason(self) -> str | None:
        """Why the agent ended (e.g. "completed", "budget"); None while it runs."""
        if self.finished is None:
            return None
        reason = self.finished.get("reason")
        return str(reason) if reason is not None else None


def truth_columns(status: AgentStatus) -> dict[str, int | None]:
    """The fleet table's API check columns: errors and warnings on the agent's changed
    lines at the latest check; None before the first."""
    truth = status.truth
    if truth is None:
        return {"api_errors": None, "api_warnings": None}
    return {
        "api_errors": int(truth.get("errors") or 0),
        "api_warnings": int(truth.get("warnings") or 0),
    }


def fold(
    events: Iterable[Event],
    *,
    now: float | None = None,
    stall_after: float | None = None,
    status: AgentStatus | None = None,
) -> AgentStatus:
    """Derive an agent's status from its events, oldest first.

    Pass a previous ``status`` to continue folding from where it stopped. ``now``
    and ``stall_after`` (seconds) turn a silent ``running`` agent into ``stalled``;
    the fold itself reads no clock.
    """
    status = status if status is not None else AgentStatus()
    base = status.state if status.state is not State.STALLED else State.RUNNING
    status.state = base
    for event in events:
        _apply(status, event)
    if (
        stall_after is not None
        and now is not None
        and status.state is State.RUNNING
        and status.last_ts is not None
        and now - status.last_ts > stall_after
    ):
        status.state = State.STALLED
    return status


def _apply(status: AgentStatus, event: Event) -> None:
    kind, payload = event.kind, event.payload
    status.last_seq = event.seq
    status.last_ts = event.ts
    if status.started_ts is None:
        status.started_ts = event.ts
    if status.state.is_final:
        if kind in _REVIEW_KINDS:
            _HANDLERS[kind](status, payload)  # people review and check finished work
        if kind != EventKind.LAUNCHED:
            return  # nothing after the end changes the outcome
        _restart(status)  # a resumed run: the agent lives again
    if kind in _ACTIVITY and status.state in (State.STARTING, State.LIMITED, State.IDLE):
        status.state = State.RUNNING
    handler = _HANDLERS.get(kind)
    if handler is not None:
        handler(status, payload)


def _restart(status: AgentStatus) -> None:
    """Open a new run after a final state; usage, cost and turns keep counting."""
    status.state = State.STARTING
    status.finished = None
    status.pending_approvals = []
    status.limit_resets_at = None


def _on_launched(status: AgentStatus, payload: Mapping[str, Any]) -> None:
    status.model = payload.get("model") or status.model
    status.run_launched_ts = status.last_ts  # _apply set it to this event's time
    budget = payload.get("budget_usd")
    status.budget_usd = float(budget) if budget is not None else None
    status.fleet_budget = payload.get("fleet_budget") or None
    status.runner = None


def _on_runner_started(status: AgentStatus, payload: Mapping[str, Any]) -> None:
    status.runner = payload


def _on_session(status: AgentStatus, payload: Mapping[str, Any]) -> None:
    status.session_id = payload.get("session_id") or status.session_id
    status.model = payload.get("model") or status.model


def _on_text(status: AgentStatus, payload: Mapping[str, Any]) -> None:
    status.last_action = _one_line(str(payload.get("text", "")))


def _on_tool_call(status: AgentStatus, payload: Mapping[str, Any]) -> None:
    status.last_action = f"{payload.get('tool')}: {_one_line(_describe(payload.get('input')))}"


def _on_approval_requested(status: AgentStatus, payload: Mapping[str, Any]) -> None:
    status.pending_approvals.append({**payload, "requested_ts": status.last_ts})
    status.state = State.WAITING


def _on_approval_decided(status: AgentStatus, payload: Mapping[str, Any]) -> None:
    request_id = payload.get("request_id")
    status.pending_approvals = [
        p for p in status.pending_approvals if p.get("request_id") != request_id
    ]
    if status.state is State.WAITING and not status.pending_approvals:
        status.state = State.RUNNING


def _on_usage(status: AgentStatus, payload: Mapping[str, Any]) -> None:
    usage = Usage.from_payload(payload)
    status.usage = status.usage + usage
    cost = payload.get("cost_usd")
    if cost is not None:
        status.priced_cost_usd += float(cost)
    else:
        status.unpriced_usage_events += 1
        status.unpriced_tokens += usage.total_tokens
    # Events written before usage carried its source: demo usage was priced at zero.
    source = payload.get("priced_by") or ("demo (synthetic)" if payload.get("synthetic") else "")
    if source and source not in status.priced_by:
        status.priced_by.append(str(source))


def _on_turn_finished(status: AgentStatus, payload: Mapping[str, Any]) -> None:
    status.turns += 1
    reported = payload.get("session_cost_usd")
    if reported is not None:
        # Session costs are cumulative; a resumed session keeps counting upwards.
        status.reported_cost_usd = max(float(reported), status.reported_cost_usd or 0.0)
        status.priced_at_report = status.priced_cost_usd
    if not status.pending_approvals:
        status.state = State.IDLE


def _on_limit(status: AgentStatus, payload: Mapping[str, Any]) -> None:
    status.state = State.LIMITED
    resets_at = payload.get("resets_at")
    status.limit_resets_at = float(resets_at) if resets_at is not None else None
    status.last_action = _one_line(str(payload.get("message", "limit reached")))


def _on_annotation(status: AgentStatus, payload: Mapping[str, Any]) -> None:
    status.annotations += 1
    tag = payload.get("tag")
    text = _one_line(str(payload.get("text", "")), 80)
    status.last_note = f"[{tag}] {text}" if tag else text


def _on_budget_warning(status: AgentStatus, payload: Mapping[str, Any]) -> None:
    budget_id = payload.get("budget_id")
    key = (str(payload.get("scope")), str(budget_id) if budget_id else None)
    status.budget_warnings.add((*key, float(payload.get("budget_usd") or 0.0)))


def _on_truth_checked(status: AgentStatus, payload: Mapping[str, Any]) -> None:
    if "skipped" not in payload:  # a run whose checks could not start says so, and no more
        status.truth = payload


def _on_parse_error(status: AgentStatus, payload: Mapping[str, Any]) -> None:
    status.parse_errors += 1


def _on_finished(status: AgentStatus, payload: Mapping[str, Any]) -> None:
    status.finished = payload
    status.pending_approvals = []
    status.state = _FINISH_STATES.get(str(payload.get("status")), State.FAILED)


_FINISH_STATES = {"done": State.DONE, "failed": State.FAILED, "stopped": State.STOPPED}

_HANDLERS: dict[str, Callable[[AgentStatus, Mapping[str, Any]], None]] = {
    EventKind.LAUNCHED: _on_launched,
    EventKind.RUNNER_STARTED: _on_runner_started,
    EventKind.SESSION_STARTED: _on_session,
    EventKind.ASSISTANT_TEXT: _on_text,
    EventKind.ANNOTATION: _on_annotation,
    EventKind.TOOL_CALL: _on_tool_call,
    EventKind.APPROVAL_REQUESTED: _on_approval_requested,
    EventKind.APPROVAL_DECIDED: _on_approval_decided,
    EventKind.USAGE: _on_usage,
    EventKind.TURN_FINISHED: _on_turn_finished,
    EventKind.BUDGET_WARNING: _on_budget_warning,
    EventKind.LIMIT_HIT: _on_limit,
    EventKind.PARSE_ERROR: _on_parse_error,
    EventKind.AGENT_FINISHED: _on_finished,
    EventKind.TRUTH_CHECKED: _on_truth_checked,
}
_REVIEW_KINDS = frozenset({EventKind.ANNOTATION, EventKind.TRUTH_CHECKED})


def _describe(value: Any) -> str:
    if isinstance(value, Mapping):
        for key in ("command", "file_path", "path", "pattern", "url"):
            if key in value:
                return str(value[key])
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _one_line(text: str, limit: int = 120) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
