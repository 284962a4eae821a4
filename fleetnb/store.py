"""The SQLite event store: the one place every fact about every agent lives.

Runners append events; the kernel appends the events a person causes (messages,
stops, decisions) and reads everything. Each write is one ``BEGIN IMMEDIATE``
transaction, so the per-agent sequence number is allocated under SQLite's write
lock: many processes can append at once without losing or doubling an event.
WAL mode lets readers tail while writers write.

The SQL stays portable (no SQLite-only syntax outside ``_connect``, and the
FTS5 search index in :mod:`fleetnb.search`) so a shared Postgres store can take
its place later.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from fleetnb.errors import AgentNotFoundError, ApprovalError, StoreError
from fleetnb.events import SCHEMA_VERSION, Event, EventKind
from fleetnb.search import SearchHit, ensure_index, index_rows, match_expression, search_rows

__all__ = ["AgentRecord", "EventStore", "default_root", "describe_decision", "store_path"]

_T = TypeVar("_T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS agents (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    harness TEXT NOT NULL,
    model TEXT,
    task TEXT NOT NULL,
    cwd TEXT NOT NULL,
    created_at REAL NOT NULL,
    config TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    agent_id TEXT NOT NULL REFERENCES agents(id),
    seq INTEGER NOT NULL,
    ts REAL NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    UNIQUE (agent_id, seq)
);
"""

# Generous: a runner must never drop an event because the kernel held the lock.
_BUSY_TIMEOUT_S = 30.0


def default_root() -> Path:
    """``$FLEETNB_HOME`` if set, else the current directory."""
    return Path(os.environ.get("FLEETNB_HOME") or os.getcwd())


def store_path(root: str | os.PathLike[str] | None = None) -> Path:
    """Where the store of a fleet rooted at ``root`` lives."""
    base = Path(root) if root is not None else default_root()
    return base / ".fleetnb" / "fleet.db"


@dataclasses.dataclass(frozen=True, slots=True)
class AgentRecord:
    """The launch facts of one agent; everything that changes lives in events."""

    id: str
    name: str
    harness: str
    model: str | None
    task: str
    cwd: str
    created_at: float
    config: Mapping[str, Any] = dataclasses.field(default_factory=dict)


class EventStore:
    """Append-only events per agent, in one SQLite file."""

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True) -> None:
        """Open (and with ``create``, make) the store; readers that must not
        conjure an empty store where one vanished pass ``create=False``."""
        self.path = Path(path)
        self._lock = threading.RLock()
        if not create and not self.path.exists():
            raise StoreError(
                f"the fleet store {self.path} is gone; was its directory moved or deleted?"
            )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = _connect(self.path)
            with self._write() as conn:
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    conn.execute(statement)
                conn.execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
                ensure_index(conn)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(
                f"cannot open the fleet store at {self.path}: {exc}; check that the "
                "directory is writable and the file is a fleetnb store"
            ) from exc

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- agents -----------------------------------------------------------------

    def create_agent(self, record: AgentRecord, launched: Mapping[str, Any]) -> Event:
        """Insert the agent and its ``launched`` event in one transaction."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO agents (id, name, harness, model, task, cwd, created_at, config)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.id,
                    record.name,
                    record.harness,
                    record.model,
                    record.task,
                    record.cwd,
                    record.created_at,
                    json.dumps(dict(record.config)),
                ),
            )
            return _insert(conn, record.id, [(EventKind.LAUNCHED, launched)])[0]

    def agents(self) -> list[AgentRecord]:
        rows = self._read("SELECT * FROM agents ORDER BY created_at, id", ())
        return [_record(row) for row in rows]

    def agent(self, name_or_id: str) -> AgentRecord:
        rows = self._read(
            "SELECT * FROM agents WHERE id = ? OR name = ? ORDER BY id = ? DESC",
            (name_or_id, name_or_id, name_or_id),
        )
        if not rows:
            raise AgentNotFoundError(
                f"no agent named {name_or_id!r} in {self.path}; `fleetnb status` lists them"
            )
        return _record(rows[0])

    def name_taken(self, name: str) -> bool:
        return bool(self._read("SELECT 1 FROM agents WHERE name = ?", (name,)))

    # -- settings ---------------------------------------------------------------

    def setting(self, key: str) -> str | None:
        """A store-wide setting (e.g. the fleet budget) that every process sees."""
        rows = self._read("SELECT value FROM meta WHERE key = ?", (f"setting:{key}",))
        return str(rows[0][0]) if rows else None

    def set_setting(self, key: str, value: str | None) -> None:
        """Write a store-wide setting; ``None`` removes it."""
        with self._write() as conn:
            conn.execute("DELETE FROM meta WHERE key = ?", (f"setting:{key}",))
            if value is not None:
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES (?, ?)", (f"setting:{key}", value)
                )

    # -- events -----------------------------------------------------------------

    def append(self, agent_id: str, kind: str, payload: Mapping[str, Any]) -> Event:
        return self.append_many(agent_id, [(kind, payload)])[0]

    def append_many(
        self, agent_id: str, items: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> list[Event]:
        """Append events in order, atomically, with consecutive sequence numbers."""
        with self._write() as conn:
            return _insert(conn, agent_id, items)

    def append_if(
        self,
        agent_id: str,
        kind: str,
        payload: Mapping[str, Any],
        check: Callable[[list[Event]], None],
        *,
        kinds: Iterable[str],
    ) -> Event:
        """Append only if ``check`` accepts the agent's events of ``kinds``.

        ``check`` runs inside the write transaction and raises to refuse, so two
        processes deciding at once cannot both succeed.
        """
        with self._write() as conn:
            check(_select_events(conn, agent_id, 0, tuple(kinds), None))
            return _insert(conn, agent_id, [(kind, payload)])[0]

    def finish_if_open(self, agent_id: str, payload: Mapping[str, Any]) -> Event | None:
        """Record ``agent_finished`` unless the current run (since the latest
        ``launched``: a resume starts a new run) already has one."""

        def check(ends: list[Event]) -> None:
            if ends and ends[-1].kind == EventKind.AGENT_FINISHED:
                raise _AlreadyFinished

        try:
            return self.append_if(
                agent_id,
                EventKind.AGENT_FINISHED,
                payload,
                check,
                kinds=(EventKind.LAUNCHED, EventKind.AGENT_FINISHED),
            )
        except _AlreadyFinished:
            return None

    def decide(self, agent_id: str, request_id: str, payload: Mapping[str, Any]) -> Event:
        """Record a decision for a pending approval request, exactly once."""

        def check(events: list[Event]) -> None:
            _check_decidable(events, request_id)

        return self.append_if(
            agent_id,
            EventKind.APPROVAL_DECIDED,
            {**payload, "request_id": request_id},
            check,
            kinds=(
                EventKind.LAUNCHED,
                EventKind.APPROVAL_REQUESTED,
                EventKind.APPROVAL_DECIDED,
                EventKind.AGENT_FINISHED,
            ),
        )

    def events(
        self,
        agent_id: str,
        *,
        after_seq: int = 0,
        kinds: Iterable[str] | None = None,
        limit: int | None = None,
    ) -> list[Event]:
        """An agent's events with ``seq > after_seq``, oldest first."""
        with self._reading() as conn:
            return _select_events(conn, agent_id, after_seq, tuple(kinds) if kinds else None, limit)

    def tail(self, after_id: int = 0, limit: int = 10_000) -> list[tuple[int, Event]]:
        """Events of every agent written after the global position ``after_id``."""
        rows = self._read(
            "SELECT id, agent_id, seq, ts, kind, payload FROM events WHERE id > ?"
            " ORDER BY id LIMIT ?",
            (after_id, limit),
        )
        return [(row[0], _event(row[1:])) for row in rows]

    def last_position(self) -> int:
        """The global position of the newest event (0 for an empty store)."""
        return int(self._read("SELECT COALESCE(MAX(id), 0) FROM events", ())[0][0])

    def count_events(self, agent_id: str | None = None) -> int:
        if agent_id is None:
            rows = self._read("SELECT COUNT(*) FROM events", ())
        else:
            rows = self._read("SELECT COUNT(*) FROM events WHERE agent_id = ?", (agent_id,))
        return int(rows[0][0])

    def search(
        self,
        query: str,
        *,
        agent_id: str | None = None,
        kind: str | None = None,
        limit: int = 50,
        raw: bool = False,
    ) -> list[SearchHit]:
        """Events of every agent whose payload text matches ``query``, best first.

        Words are matched as quoted terms (all required) unless ``raw`` passes
        ``query`` to FTS5 as written.
        """
        match = match_expression(query, raw=raw)
        if not match.strip():
            return []
        with self._lock:
            try:
                return search_rows(self._conn, match, agent_id=agent_id, kind=kind, limit=limit)
            except sqlite3.Error as exc:
                raise StoreError(
                    f"cannot search the fleet store for {query!r}: {exc}"
                    + ("; check the FTS5 query syntax, or search without raw=True" if raw else "")
                ) from exc

    # -- plumbing ---------------------------------------------------------------

    def _read(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self._reading() as conn:
            return list(conn.execute(sql, params))

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._conn
            except sqlite3.Error as exc:
                raise StoreError(f"cannot read the fleet store {self.path}: {exc}") from exc

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            _retry_busy(lambda: self._conn.execute("BEGIN IMMEDIATE"))
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            _retry_busy(lambda: self._conn.execute("COMMIT"))


class _AlreadyFinished(Exception):
    pass


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(
        path, timeout=_BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
    )
    conn.execute("PRAGMA journal_mode=WAL")
    # NORMAL is durable across process crashes in WAL mode; only power loss can
    # drop the last transactions, which is the trade every WAL user makes.
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(f"PRAGMA busy_timeout={int(_BUSY_TIMEOUT_S * 1000)}")
    return conn


def _retry_busy(step: Callable[[], _T]) -> _T:
    """Run ``step``, retrying while another process holds the write lock."""
    deadline = time.monotonic() + _BUSY_TIMEOUT_S * 2
    delay = 0.005
    while True:
        try:
            return step()
        except sqlite3.OperationalError as exc:
            busy = "locked" in str(exc) or "busy" in str(exc)
            if not busy or time.monotonic() > deadline:
                raise StoreError(f"the fleet store stayed locked: {exc}") from exc
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


def _insert(
    conn: sqlite3.Connection, agent_id: str, items: Sequence[tuple[str, Mapping[str, Any]]]
) -> list[Event]:
    (last,) = conn.execute(
        "SELECT COALESCE(MAX(seq), 0) FROM events WHERE agent_id = ?", (agent_id,)
    ).fetchone()
    # Positions are given, not left to the database, so the search index can be
    # written in the same transaction under the same ids (we hold the write lock).
    (top,) = conn.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()
    now = time.time()
    events = [
        Event(agent_id, last + i, now, str(kind), dict(payload))
        for i, (kind, payload) in enumerate(items, start=1)
    ]
    conn.executemany(
        "INSERT INTO events (id, agent_id, seq, ts, kind, payload) VALUES (?, ?, ?, ?, ?, ?)",
        [
            (top + i, e.agent_id, e.seq, e.ts, e.kind, json.dumps(e.payload, ensure_ascii=False))
            for i, e in enumerate(events, start=1)
        ],
    )
    index_rows(conn, [(top + i, e.payload) for i, e in enumerate(events, start=1)])
    return events


def _select_events(
    conn: sqlite3.Connection,
    agent_id: str,
    after_seq: int,
    kinds: tuple[str, ...] | None,
    limit: int | None,
) -> list[Event]:
    sql = "SELECT agent_id, seq, ts, kind, payload FROM events WHERE agent_id = ? AND seq > ?"
    params: list[Any] = [agent_id, after_seq]
    if kinds:
        sql += f" AND kind IN ({', '.join('?' * len(kinds))})"
        params.extend(kinds)
    sql += " ORDER BY seq"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [_event(row) for row in conn.execute(sql, params)]


def _check_decidable(events: list[Event], request_id: str) -> None:
    requested = decided = None
    finished = False
    for event in events:
        if event.kind == EventKind.LAUNCHED:  # a new run: earlier requests are void
            requested = decided = None
            finished = False
        elif event.kind == EventKind.AGENT_FINISHED:
            finished = True
        elif event.payload.get("request_id") == request_id:
            if event.kind == EventKind.APPROVAL_REQUESTED:
                requested = event
            else:
                decided = event
    if finished:
        raise ApprovalError(
            f"approval {request_id} can no longer be decided: the agent has finished"
        )
    if requested is None:
        raise ApprovalError(f"no approval request {request_id!r} for this agent")
    if decided is not None:
        raise ApprovalError(describe_decision(request_id, decided.payload))


def describe_decision(request_id: str, payload: Mapping[str, Any]) -> str:
    """Why a decided request cannot be decided again, in words."""
    if payload.get("by") == "timeout":
        return (
            f"approval {request_id} no longer applies: nobody answered in time, "
            f"so it was denied ({payload.get('reason')})"
        )
    return (
        f"approval {request_id} was already decided: {payload.get('decision')} "
        f"by {payload.get('by')}"
    )


def _event(row: Sequence[Any]) -> Event:
    return Event(row[0], int(row[1]), float(row[2]), str(row[3]), json.loads(row[4]))


def _record(row: Sequence[Any]) -> AgentRecord:
    return AgentRecord(
        id=row[0],
        name=row[1],
        harness=row[2],
        model=row[3],
        task=row[4],
        cwd=row[5],
        created_at=float(row[6]),
        config=json.loads(row[7]),
    )
