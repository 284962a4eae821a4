"""A report over unchanged logs is served from the cache; any new line makes it stale."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from fleetnb.store import store_path
from tests.cost.test_cost_cli import SONNET, _line, fleetnb_json, write_tree


def _cache_rows(root: Path) -> list[tuple[int, int]]:
    """(generation of each cached report, the ledger's generation now)."""
    with sqlite3.connect(store_path(root)) as conn:
        (now,) = conn.execute("SELECT value FROM ledger_generation").fetchone()
        return [(gen, now) for (gen,) in conn.execute("SELECT generation FROM report_cache")]


def test_unchanged_logs_reuse_the_report_and_a_new_line_refreshes_it(tmp_path: Path) -> None:
    logs, root = write_tree(tmp_path / "claude"), tmp_path / "fleet"
    argv = ("daily", "--timezone", "UTC", "--path", str(logs), "--source", "claude")
    first = fleetnb_json(root, *argv)
    assert fleetnb_json(root, *argv) == first
    assert [gen == now for gen, now in _cache_rows(root)] == [True]

    with (logs / "projects" / "-home-u-proj" / "s1.jsonl").open("a") as log:
        log.write(_line("2025-03-09T20:00:00.000Z", "s1", "m9", SONNET, (1000, 0, 0, 0)) + "\n")
    grown = fleetnb_json(root, *argv)
    assert grown["totals"]["inputTokens"] == first["totals"]["inputTokens"] + 1000
    assert [gen == now for gen, now in _cache_rows(root)] == [True]


def test_each_report_and_option_is_cached_apart(tmp_path: Path) -> None:
    logs, root = write_tree(tmp_path / "claude"), tmp_path / "fleet"
    where = ("--path", str(logs), "--source", "claude")
    utc = fleetnb_json(root, "daily", "--timezone", "UTC", *where)
    tokyo = fleetnb_json(root, "daily", "--timezone", "Asia/Tokyo", *where)
    monthly = fleetnb_json(root, "monthly", "--timezone", "UTC", *where)
    assert [row["period"] for row in utc["daily"]] != [row["period"] for row in tokyo["daily"]]
    assert "monthly" in monthly
    assert len(_cache_rows(root)) == 3
    assert fleetnb_json(root, "daily", "--timezone", "Asia/Tokyo", *where) == tokyo
