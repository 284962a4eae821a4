"""Annotations: a person's note on an agent's trail, stored as an event."""

from __future__ import annotations

from typing import Any

from fleetnb.events import Event, EventKind
from fleetnb.store import EventStore

__all__ = ["ANNOTATION_KIND", "annotate"]

ANNOTATION_KIND = EventKind.ANNOTATION


def annotate(
    store: EventStore,
    agent_id: str,
    text: str,
    *,
    tag: str | None = None,
    event: int | Event | None = None,
) -> Event:
    """Append an ``annotation`` event (text, tag, event_seq) to the agent's events."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(
            "the annotation text is empty; say what you noticed, e.g. "
            "agent.annotate('tests pass but the docs are stale', tag='review')"
        )
    payload: dict[str, Any] = {
        "text": text,
        "tag": tag,
        "event_seq": _event_seq(store, agent_id, event),
    }
    return store.append(agent_id, ANNOTATION_KIND, payload)


def _event_seq(store: EventStore, agent_id: str, event: int | Event | None) -> int | None:
    if event is None:
        return None
    if isinstance(event, Event):
        if event.agent_id != agent_id:
            raise ValueError(
                f"event {event.seq} belongs to agent {event.agent_id}, not {agent_id}; "
                "annotate it through its own agent"
            )
        seq = event.seq
    elif isinstance(event, int) and not isinstance(event, bool):
        seq = event
    else:
        raise TypeError(f"event must be a seq number or an Event, not {type(event).__name__}")
    found = store.events(agent_id, after_seq=seq - 1, limit=1) if seq >= 1 else []
    if not found or found[0].seq != seq:
        last = store.count_events(agent_id)
        raise ValueError(f"agent {agent_id} has no event {seq}; its events are 1 to {last}")
    return seq
