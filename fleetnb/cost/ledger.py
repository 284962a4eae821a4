"""The cost ledger: imported usage and limit hits, in the fleet store's SQLite file.

Each batch an import reads from one file is written in one ``BEGIN IMMEDIATE``
transaction together with the file's new offset, so an import killed half-way
leaves the ledger and the offsets agreeing: the next import goes on from there.

Records are priced once, here, as they arrive; reports only sum. A record whose
key is already present replaces it only when it carries more tokens (the rule
ccusage applies to the repeated lines of one Claude response), so re-reading a
file, or the same response in two files, never counts twice.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from fleetnb.cost.logs import LogChunk
from fleetnb.cost.rates import Overrides, RateCard, rate_card
from fleetnb.cost.records import LimitHit, UsageRecord
from fleetnb.errors import StoreError

# The store's own connection setup and lock-retry, so both agree on WAL and timeouts.
from fleetnb.store import _connect, _retry_busy

__all__ = ["FileState", "Ledger"]

# A write transaction per this many queued records or files: few enough commits to
# cost little, small enough batches to keep memory flat.
_FLUSH_RECORDS = 20_000
_FLUSH_FILES = 500

_TOTAL = "{t}.input_tokens + {t}.output_tokens + {t}.cache_write_tokens + {t}.cache_read_tokens"
_USAGE_COLUMNS = (
    "key, source, ts, session, project, model, input_tokens, output_tokens,"
    " cache_write_tokens, cache_write_1h_tokens, cache_read_tokens, reasoning_tokens,"
    " cost_usd, reported_cost_usd, priced_by, file_id"
)
_UPSERT_USAGE = (
    f"INSERT INTO usage_records ({_USAGE_COLUMNS}) VALUES ({', '.join('?' * 16)})"
    " ON CONFLICT (key) DO UPDATE SET "
    + ", ".join(f"{c.strip()} = excluded.{c.strip()}" for c in _USAGE_COLUMNS.split(",")[1:])
    + f" WHERE {_TOTAL.format(t='excluded')} > {_TOTAL.format(t='usage_records')}"
)
_INSERT_LIMIT = (
    "INSERT INTO limit_hits (key, source, ts, session, message, resets_at, window_minutes,"
    " file_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING"
)
_UPSERT_FILE = (
    "INSERT INTO log_files (source, path, device, inode, size, mtime_ns, offset, head, state,"
    " skipped_lines, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (path) DO UPDATE SET source = excluded.source, device = excluded.device,"
    " inode = excluded.inode, size = excluded.size, mtime_ns = excluded.mtime_ns,"
    " offset = excluded.offset, head = excluded.head, state = excluded.state,"
    " skipped_lines = CASE WHEN ? THEN excluded.skipped_lines"
    " ELSE log_files.skipped_lines + excluded.skipped_lines END,"
    " imported_at = excluded.imported_at RETURNING id"
)


@dataclasses.dataclass(frozen=True, slots=True)
class FileState:
    """What the ledger knows of one log file from its last import."""

    id: int
    source: str
    path: str
    device: int
    inode: int
    size: int
    mtime_ns: int
    offset: int
    head: str
    state: dict[str, Any]


class Ledger:
    """Usage records, limit hits and log file offsets in the fleet store's file."""

    def __init__(self, path: str | os.PathLike[str], overrides: Overrides | None = None) -> None:
        self.path = Path(path)
        self._overrides = overrides
        self._cards: dict[tuple[str, str | None], RateCard] = {}
        self._pending: list[tuple[tuple[Any, ...], list[UsageRecord], list[LimitHit]]] = []
        self._pending_records = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = _connect(self.path)
            # The record keys arrive in random order: a cache that holds the key index
            # saves re-reading its pages on every insert of a large import.
            self._conn.execute("PRAGMA cache_size = -65536")
            with self._write() as conn:
                for statement in _schema_statements():
                    conn.execute(statement)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(
                f"cannot open the cost ledger in {self.path}: {exc}; check that the "
                "directory is writable and the file is a fleetnb store"
            ) from exc

    def close(self) -> None:
        """Write what is queued and close."""
        try:
            self.flush()
        finally:
            self._conn.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        if kind is not None:
            self._pending = []  # a failed import keeps what it wrote, never half a batch
        self.close()

    def file_states(self, source: str) -> dict[str, FileState]:
        """Every file of ``source`` imported before, by path."""
        self.flush()
        rows = self._conn.execute(
            "SELECT id, source, path, device, inode, size, mtime_ns, offset, head, state"
            " FROM log_files WHERE source = ?",
            (source,),
        ).fetchall()
        return {row[2]: _file_state(row) for row in rows}

    def save(
        self,
        source: str,
        path: Path,
        stat: os.stat_result,
        head: str,
        chunk: LogChunk,
        *,
        reset: bool = False,
    ) -> None:
        """Queue one batch of ``path`` and its new offset; ``reset`` (a rotated file, or a
        whole-document format) first drops what earlier imports read from it.

        Batches are written together, a few thousand records per transaction (one
        commit per small file would cost more than parsing it); :meth:`flush` writes
        what is queued. Offsets and records always land in the same transaction.
        """
        skipped = sum(n for reason, n in chunk.skipped.items() if reason != "incomplete_last_line")
        file_row = (
            source,
            str(path),
            stat.st_dev,
            stat.st_ino,
            stat.st_size,
            stat.st_mtime_ns,
            chunk.end,
            head,
            json.dumps(chunk.state),
            skipped,
            time.time(),
            reset or chunk.rewrite,
        )
        self._pending.append((file_row, chunk.records, chunk.limits))
        self._pending_records += len(chunk.records) + len(chunk.limits)
        if self._pending_records >= _FLUSH_RECORDS or len(self._pending) >= _FLUSH_FILES:
            self.flush()

    def flush(self) -> None:
        """Write every queued batch in one transaction."""
        if not self._pending:
            return
        pending, self._pending, self._pending_records = self._pending, [], 0
        with self._write() as conn:
            conn.execute("UPDATE ledger_generation SET value = value + 1 WHERE id = 1")
            owners = []
            for file_row, _, _ in pending:
                (file_id,) = conn.execute(_UPSERT_FILE, file_row).fetchone()
                if file_row[-1]:
                    conn.execute("DELETE FROM usage_records WHERE file_id = ?", (file_id,))
                    conn.execute("DELETE FROM limit_hits WHERE file_id = ?", (file_id,))
                owners.append(file_id)
            batches = list(zip(owners, pending, strict=True))
            rows = (row for owner, (_, records, _) in batches for row in self._rows(records, owner))
            conn.executemany(_UPSERT_USAGE, rows)
            conn.executemany(
                _INSERT_LIMIT,
                (row for file_id, (_, _, hits) in batches for row in _limit_rows(hits, file_id)),
            )

    def usage(self, source: str | None = None) -> list[UsageRecord]:
        """The records kept, oldest first (for tests and small ledgers; reports use SQL)."""
        self.flush()
        rows = self._conn.execute(
            "SELECT source, key, ts, session, project, model, input_tokens, output_tokens,"
            " cache_write_tokens, cache_write_1h_tokens, cache_read_tokens, reasoning_tokens,"
            " reported_cost_usd FROM usage_records WHERE ? IS NULL OR source = ? ORDER BY ts, key",
            (source, source),
        ).fetchall()
        return [_unqualified(UsageRecord(*row)) for row in rows]

    def limits(self, source: str | None = None) -> list[LimitHit]:
        self.flush()
        rows = self._conn.execute(
            "SELECT source, key, ts, session, message, resets_at, window_minutes FROM limit_hits"
            " WHERE ? IS NULL OR source = ? ORDER BY ts, key",
            (source, source),
        ).fetchall()
        return [_unqualified(LimitHit(*row)) for row in rows]

    def _rows(self, records: Sequence[UsageRecord], file_id: int) -> Iterator[tuple[Any, ...]]:
        for r in records:
            card = self._card(r.source, r.model)
            cost = card.cost(
                r.input_tokens,
                r.output_tokens,
                r.cache_write_tokens,
                r.cache_write_1h_tokens,
                r.cache_read_tokens,
            )
            yield (
                f"{r.source}:{r.key}",
                r.source,
                r.ts,
                r.session,
                r.project,
                r.model,
                r.input_tokens,
                r.output_tokens,
                r.cache_write_tokens,
                r.cache_write_1h_tokens,
                r.cache_read_tokens,
                r.reasoning_tokens,
                cost,
                r.reported_cost_usd,
                card.priced_by,
                file_id,
            )

    def _card(self, source: str, model: str | None) -> RateCard:
        card = self._cards.get((source, model))
        if card is None:
            card = self._cards[(source, model)] = rate_card(model, source, self._overrides)
        return card

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        _retry_busy(lambda: self._conn.execute("BEGIN IMMEDIATE"))
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        _retry_busy(lambda: self._conn.execute("COMMIT"))


def _schema_statements() -> list[str]:
    text = resources.files("fleetnb.cost").joinpath("ledger_schema.sql").read_text()
    # Comments go first: they may hold semicolons.
    code = "\n".join(line.partition("--")[0] for line in text.splitlines())
    return [statement for statement in code.split(";") if statement.strip()]


def _file_state(row: tuple[Any, ...]) -> FileState:
    file_id, source, path, device, inode, size, mtime_ns, offset, head, state = row
    return FileState(
        file_id, source, path, device, inode, size, mtime_ns, offset, head, json.loads(state)
    )


def _limit_rows(limits: Sequence[LimitHit], file_id: int) -> Iterator[tuple[Any, ...]]:
    for hit in limits:
        yield (
            f"{hit.source}:{hit.key}",
            hit.source,
            hit.ts,
            hit.session,
            hit.message,
            hit.resets_at,
            hit.window_minutes,
            file_id,
        )


def _unqualified(record: Any) -> Any:
    """The record with its key as the log gave it (the ledger prefixes the source)."""
    return dataclasses.replace(record, key=record.key.partition(":")[2])
