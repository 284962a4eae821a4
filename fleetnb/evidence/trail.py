"""An agent's evidence trail: built from the store, redacted, bounded, displayable.

:func:`build_trail` reads the newest events first, in windows that double until
enough entries are found, so an agent with 100k events costs a few pages, not
a full scan (usage totals read only ``usage`` and ``turn_finished`` events).
Entries beyond ``limit``, or beyond a byte budget that keeps a saved notebook
small, are dropped oldest first and counted in an ``omitted`` marker.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from fleetnb.events import Event, EventKind, fold
from fleetnb.evidence.entries import ENTRY_KINDS, EVENT_KINDS_FOR, EntryBuilder, finish
from fleetnb.evidence.redact import redact_value
from fleetnb.evidence.render import trail_html, trail_text

if TYPE_CHECKING:
    import pandas as pd

    from fleetnb.store import AgentRecord, EventStore

__all__ = [
    "DEFAULT_BUDGET",
    "DEFAULT_LIMIT",
    "MIME_TYPE",
    "SCHEMA",
    "EvidenceFormatError",
    "EvidenceTrail",
    "build_trail",
]

MIME_TYPE = "application/vnd.fleetnb.evidence+json"
SCHEMA = "fleetnb.evidence/1"
DEFAULT_LIMIT = 200
# Characters of JSON for the entries; the HTML copy is of the same order, so one
# displayed trail stays well under ~200 KB in a saved notebook.
DEFAULT_BUDGET = 60_000
_FIRST_WINDOW = 1000
_PAGE = 2000


class EvidenceFormatError(ValueError):
    """A payload that is not a fleetnb evidence trail of a schema this version reads."""


@dataclasses.dataclass(frozen=True, repr=False)
class EvidenceTrail:
    """One agent's evidence: a schema-versioned payload with rich notebook displays."""

    payload: Mapping[str, Any]

    @classmethod
    def from_payload(cls, payload: Any) -> EvidenceTrail:
        """Check a payload read back from a notebook; raises :class:`EvidenceFormatError`."""
        if isinstance(payload, list) and all(isinstance(p, str) for p in payload):
            payload = "".join(payload)  # a JSON text some writer split into lines
        if isinstance(payload, str):
            try:
                payload = json.loads(payload)
            except ValueError as exc:
                raise EvidenceFormatError(f"the output is not valid JSON: {exc}") from exc
        _validate(payload)
        return cls(payload)

    @property
    def agent(self) -> Mapping[str, Any]:
        return dict(self.payload["agent"])

    @property
    def entries(self) -> list[dict[str, Any]]:
        return [dict(e) for e in self.payload["entries"]]

    def to_frame(self) -> pd.DataFrame:
        """One row per entry, with the agent's id, name, harness and model on each."""
        import pandas as pd  # noqa: PLC0415 - pandas loads only for frames

        return pd.DataFrame(frame_rows(self.payload))

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {
            MIME_TYPE: dict(self.payload),
            "text/html": trail_html(self.payload),
            "text/plain": trail_text(self.payload),
        }

    def __str__(self) -> str:
        return trail_text(self.payload)

    def __repr__(self) -> str:
        agent = self.payload.get("agent") or {}
        return f"<EvidenceTrail {agent.get('name')}: {len(self.payload['entries'])} entries>"


def frame_rows(payload: Mapping[str, Any], **extra: Any) -> list[dict[str, Any]]:
    """Flat rows (scalar fields only) for a DataFrame; ``extra`` goes on every row."""
    agent = payload.get("agent") or {}
    base = {
        **extra,
        "agent_id": agent.get("id"),
        "agent_name": agent.get("name"),
        "harness": agent.get("harness"),
        "model": agent.get("model"),
    }
    rows = []
    for entry in payload.get("entries") or ():
        row = dict(base)
        for key, value in entry.items():
            row[key] = json.dumps(value) if isinstance(value, dict | list) else value
        rows.append(row)
    return rows


def build_trail(
    store: EventStore,
    record: AgentRecord,
    *,
    kinds: Iterable[str] | None = None,
    since: dt.datetime | float | None = None,
    limit: int = DEFAULT_LIMIT,
    state: str | None = None,
    budget: int = DEFAULT_BUDGET,
) -> EvidenceTrail:
    """The redacted, bounded evidence trail of one agent, newest ``limit`` entries."""
    wanted = _check_kinds(kinds)
    since_ts = _as_epoch(since)
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    entries, earlier = _read_entries(store, record.id, wanted, since_ts, limit)
    kept, dropped = _fit(entries, record.id, limit, budget)
    if earlier or dropped:
        kept.insert(0, _omitted(dropped, earlier))
    header = redact_value(
        {**_header(store, record, state), "filters": _filters(wanted, since_ts, limit)}
    )
    return EvidenceTrail({**header, "entries": kept})


def _check_kinds(kinds: Iterable[str] | None) -> tuple[str, ...] | None:
    if kinds is None:
        return None
    wanted = tuple([kinds] if isinstance(kinds, str) else kinds)
    unknown = sorted(set(wanted) - set(ENTRY_KINDS))
    if unknown:
        raise ValueError(f"unknown entry kinds {unknown}; choose from {list(ENTRY_KINDS)}")
    return wanted


def _as_epoch(since: dt.datetime | float | None) -> float | None:
    if since is None or isinstance(since, float | int):
        return None if since is None else float(since)
    if isinstance(since, dt.datetime):
        return since.timestamp()  # a naive datetime is local time, as Python reads it
    raise TypeError(f"since must be a datetime or epoch seconds, not {type(since).__name__}")


def _read_entries(
    store: EventStore,
    agent_id: str,
    wanted: Sequence[str] | None,
    since: float | None,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    """The newest matching entries (at least ``limit`` when there are that many) and
    the number of events before the window that was read."""
    event_kinds = (
        None if wanted is None else sorted({k for w in wanted for k in EVENT_KINDS_FOR[w]})
    )
    last = _last_seq(store, agent_id)
    window = max(_FIRST_WINDOW, limit * 4)
    while True:
        start = max(0, last - window)
        events = _page(store, agent_id, start, last, event_kinds)
        entries = _select(agent_id, events, wanted, since)
        reached_since = since is not None and bool(events) and events[0].ts < since
        if start == 0 or len(entries) > limit or reached_since:
            return entries, 0 if reached_since else start
        window *= 2


def _last_seq(store: EventStore, agent_id: str) -> int:
    # seq numbers are consecutive from 1, so the count is the newest seq.
    return store.count_events(agent_id)


def _page(
    store: EventStore, agent_id: str, start: int, last: int, kinds: Sequence[str] | None
) -> list[Event]:
    events: list[Event] = []
    after = start
    while after < last:
        page = store.events(agent_id, after_seq=after, kinds=kinds, limit=_PAGE)
        if not page:
            break
        events.extend(e for e in page if e.seq <= last)
        after = page[-1].seq
    return events


def _select(
    agent_id: str, events: list[Event], wanted: Sequence[str] | None, since: float | None
) -> list[dict[str, Any]]:
    builder = EntryBuilder(agent_id)
    builder.feed(events)
    return [
        e for e in builder.entries
        if (wanted is None or e["kind"] in wanted) and (since is None or e["ts"] >= since)
    ]  # fmt: skip


def _fit(
    entries: list[dict[str, Any]], agent_id: str, limit: int, budget: int
) -> tuple[list[dict[str, Any]], int]:
    """The newest entries, finished, within ``limit`` and the character ``budget``;
    and how many were dropped. Only the entries kept pay for trimming and redaction."""
    kept: list[dict[str, Any]] = []
    used = 0
    for entry in reversed(entries[-limit:]):
        done = finish(entry, agent_id)
        size = len(json.dumps(done, ensure_ascii=False, default=str))
        if kept and used + size > budget:
            break
        kept.append(done)
        used += size
    kept.reverse()
    return kept, len(entries) - len(kept)


def _omitted(dropped: int, earlier_events: int) -> dict[str, Any]:
    parts = []
    if dropped:
        parts.append(f"{dropped} earlier entries omitted")
    if earlier_events:
        parts.append(f"{earlier_events} earlier events not read")
    return {"kind": "omitted", "seq": None, "ts": None, "title": "; ".join(parts),
            "entries": dropped, "events": earlier_events}  # fmt: skip


def _header(store: EventStore, record: AgentRecord, state: str | None) -> dict[str, Any]:
    totals_events = _page(
        store, record.id, 0, _last_seq(store, record.id),
        (EventKind.USAGE, EventKind.TURN_FINISHED, EventKind.SESSION_STARTED,
         EventKind.AGENT_FINISHED),
    )  # fmt: skip
    status = fold(totals_events)
    usage = status.usage
    return {
        "schema": SCHEMA,
        "agent": {
            "id": record.id,
            "name": record.name,
            "harness": record.harness,
            "model": status.model or record.model,
            "task": record.task,
            "session_id": status.session_id,
            "state": state or str(status.state),
            "demo": record.harness == "demo",
        },
        "totals": {
            **usage.to_dict(),
            "cost_usd": status.cost_usd,
            "turns": status.turns,
        },
        "outcome": dict(status.finished) if status.finished else None,
    }


def _filters(wanted: Sequence[str] | None, since: float | None, limit: int) -> dict[str, Any]:
    return {"kinds": list(wanted) if wanted else None, "since": since, "limit": limit}


def _validate(payload: Any) -> None:
    if not isinstance(payload, Mapping):
        raise EvidenceFormatError(f"the payload is a {type(payload).__name__}, not an object")
    schema = payload.get("schema")
    if schema != SCHEMA:
        raise EvidenceFormatError(f"unknown schema {schema!r}; this fleetnb reads {SCHEMA!r}")
    if not isinstance(payload.get("agent"), Mapping):
        raise EvidenceFormatError("the payload has no 'agent' object")
    entries = payload.get("entries")
    if not isinstance(entries, list) or not all(isinstance(e, Mapping) for e in entries):
        raise EvidenceFormatError("'entries' is not a list of objects")
    for index, entry in enumerate(entries):
        if not isinstance(entry.get("kind"), str):
            raise EvidenceFormatError(f"entry {index} has no 'kind'")
