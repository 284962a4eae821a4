"""Full-text search over every agent's events (SQLite FTS5).

``events_fts`` is an external-content FTS5 table: it indexes the text of each
event's payload (every string in it, depth first, joined by spaces) and keeps
no copy of it; snippets read the text back through the ``events_text`` view.
The store writes the index row in the same transaction as the event (see
``EventStore.append_many``): flattening in Python is several times faster than
a trigger walking the JSON with ``json_tree``, and appends must stay fast.
A store made before search existed gets the table on open, filled once from the view.

User queries are quoted word by word, so ``"``, ``*``, ``-``, ``:``, brackets
and ``AND`` are searched for as text and never parsed as FTS syntax; pass
``raw=True`` to use FTS5's query language on purpose.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Mapping
from typing import Any

__all__ = ["SearchHit", "match_expression", "searchable_text"]

_VIEW = """
CREATE VIEW IF NOT EXISTS events_text AS
SELECT id, (SELECT group_concat(value, ' ') FROM json_tree(events.payload)
            WHERE type = 'text') AS text
FROM events
"""
_TABLE = (
    "CREATE VIRTUAL TABLE events_fts USING fts5("
    "text, content='events_text', content_rowid='id', tokenize='unicode61')"
)
# Ranked in two steps: snippets read each event's text back through the view,
# so they are made only for the rows kept, not for every match being sorted.
_RANKED = """
SELECT events_fts.rowid, events_fts.rank
FROM events_fts{join}
WHERE events_fts MATCH ?{filters}
ORDER BY events_fts.rank
LIMIT ?
"""
_DETAILS = """
SELECT events_fts.rowid, e.agent_id, a.name, e.seq, e.ts, e.kind,
       snippet(events_fts, 0, '[', ']', '…', 16)
FROM events_fts
JOIN events AS e ON e.id = events_fts.rowid
JOIN agents AS a ON a.id = e.agent_id
WHERE events_fts MATCH ? AND events_fts.rowid IN ({marks})
"""


@dataclasses.dataclass(frozen=True, slots=True)
class SearchHit:
    """One matching event: where it is, a highlighted snippet, and its rank (lower is better)."""

    agent_id: str
    agent: str
    seq: int
    ts: float
    kind: str
    snippet: str
    rank: float


def searchable_text(payload: Mapping[str, Any]) -> str:
    """Every string in ``payload``, depth first, as the ``events_text`` view joins them."""
    parts: list[str] = []
    _collect(payload, parts)
    return " ".join(parts)


def _collect(value: Any, parts: list[str]) -> None:
    if isinstance(value, str):
        parts.append(value)
    elif isinstance(value, Mapping):
        for item in value.values():
            _collect(item, parts)
    elif isinstance(value, list | tuple):
        for item in value:
            _collect(item, parts)


def match_expression(query: str, *, raw: bool = False) -> str:
    """The FTS5 MATCH text for ``query``: each word a quoted phrase, all required."""
    if raw:
        return query
    return " ".join('"' + word.replace('"', '""') + '"' for word in query.split())


def ensure_index(conn: sqlite3.Connection) -> None:
    """Create the view and the index if missing, filling a new index from old events."""
    conn.execute(_VIEW)
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events_fts'"
    ).fetchone()
    if not exists:
        conn.execute(_TABLE)
        # FTS5's own 'rebuild' refuses a view as content; this is the same fill.
        conn.execute("INSERT INTO events_fts (rowid, text) SELECT id, text FROM events_text")


def index_rows(conn: sqlite3.Connection, rows: list[tuple[int, Mapping[str, Any]]]) -> None:
    """Index events given as ``(events.id, payload)``, inside the caller's transaction."""
    conn.executemany(
        "INSERT INTO events_fts (rowid, text) VALUES (?, ?)",
        [(row_id, searchable_text(payload)) for row_id, payload in rows],
    )


def search_rows(
    conn: sqlite3.Connection,
    match: str,
    *,
    agent_id: str | None,
    kind: str | None,
    limit: int,
) -> list[SearchHit]:
    """Run one MATCH with optional agent and kind filters, best first."""
    filters, params = "", [match]
    if agent_id is not None:
        filters += " AND e.agent_id = ?"
        params.append(agent_id)
    if kind is not None:
        filters += " AND e.kind = ?"
        params.append(kind)
    join = " JOIN events AS e ON e.id = events_fts.rowid" if filters else ""
    ranked = conn.execute(_RANKED.format(join=join, filters=filters), [*params, limit]).fetchall()
    if not ranked:
        return []
    sql = _DETAILS.format(marks=", ".join("?" * len(ranked)))
    details = {row[0]: row[1:] for row in conn.execute(sql, [match, *(r[0] for r in ranked)])}
    return [_hit(details[row_id], rank) for row_id, rank in ranked if row_id in details]


def _hit(row: Any, rank: float) -> SearchHit:
    return SearchHit(row[0], row[1], int(row[2]), float(row[3]), row[4], row[5] or "", rank)
