"""Reports cached per ledger generation: the same report over unchanged logs is a lookup.

Every import that writes bumps the ledger's generation in the same transaction
as its records, so a cached report is used only while nothing it summed has
changed. The generation is read *before* the report is built: a report built
while an import lands is stored under the older generation and never served.
Caching is best effort; a store another process holds locked just skips it.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Callable
from contextlib import closing
from typing import Any

from fleetnb.store import store_path

__all__ = ["cached_report"]

_Report = dict[str, Any]


def cached_report(
    root: str | os.PathLike[str] | None, key: str, build: Callable[[], _Report]
) -> _Report:
    """The report cached under ``key`` for the ledger as it is, else ``build()``'s."""
    path = store_path(root)
    if not path.exists():
        return build()
    with closing(sqlite3.connect(path, timeout=1.0, isolation_level=None)) as conn:
        try:
            generation = _generation(conn)
            row = conn.execute(
                "SELECT body FROM report_cache WHERE key = ? AND generation = ?",
                (key, generation),
            ).fetchone()
        except sqlite3.OperationalError:  # an older store, before the ledger existed
            return build()
        if row is not None:
            cached: _Report = json.loads(row[0])
            return cached
        report = build()
        _store(conn, key, generation, report)
        return report


def _generation(conn: sqlite3.Connection) -> int:
    (value,) = conn.execute("SELECT value FROM ledger_generation WHERE id = 1").fetchone()
    return int(value)


def _store(conn: sqlite3.Connection, key: str, generation: int, report: _Report) -> None:
    # Locked by an import right now: the next report caches it.
    with contextlib.suppress(sqlite3.OperationalError):
        conn.execute(
            "INSERT INTO report_cache (key, generation, body) VALUES (?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET generation = excluded.generation,"
            " body = excluded.body",
            (key, generation, json.dumps(report)),
        )
