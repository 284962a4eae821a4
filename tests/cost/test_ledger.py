"""The ledger: tables in the fleet store's file, the larger record wins, resets, pricing."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from fleetnb.cost.ledger import Ledger
from fleetnb.cost.logs import LogChunk
from fleetnb.cost.rates import load_overrides
from fleetnb.cost.records import LimitHit, UsageRecord
from fleetnb.store import EventStore, store_path

MODEL = "claude-sonnet-4-5-20250929"


def _record(key: str, output: int, *, model: str | None = MODEL, ts: float = 1.0) -> UsageRecord:
    return UsageRecord("claude", key, ts, "s1", "p1", model, 10, output, 100, 40, 1000)


def _save(ledger: Ledger, log: Path, *records: UsageRecord, reset: bool = False) -> None:
    log.touch()
    chunk = LogChunk(list(records), [], log.stat().st_size, {}, {"seen": len(records)})
    ledger.save("claude", log, os.stat(log), "0:", chunk, reset=reset)
    ledger.flush()


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger(store_path(tmp_path)) as opened:
        yield opened


def test_the_tables_live_beside_the_event_store(tmp_path: Path) -> None:
    with Ledger(store_path(tmp_path)) as ledger:
        _save(ledger, tmp_path / "a.jsonl", _record("m1:r1", 5))
    store = EventStore(store_path(tmp_path))  # the event store opens the same file after it
    try:
        assert store.agents() == []
    finally:
        store.close()
    with Ledger(store_path(tmp_path)) as again:  # and the ledger opens it again, kept
        assert [r.key for r in again.usage()] == ["m1:r1"]
    tables = sqlite3.connect(store_path(tmp_path)).execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'"
    )
    assert {"events", "log_files", "usage_records", "limit_hits"} <= {t for (t,) in tables}


def test_a_repeated_key_keeps_the_record_with_the_most_tokens(
    ledger: Ledger, tmp_path: Path
) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    _save(ledger, first, _record("m1:r1", 5, ts=1.0))
    _save(ledger, second, _record("m1:r1", 50, ts=2.0))  # more tokens: replaces, across files
    _save(ledger, first, _record("m1:r1", 20, ts=3.0))  # fewer: ignored
    _save(ledger, first, _record("m1:r1", 50, ts=4.0))  # a tie: the first one read stays
    (kept,) = ledger.usage()
    assert (kept.output_tokens, kept.ts) == (50, 2.0)
    owner = ledger.file_states("claude")[str(second)].id
    (file_id,) = (
        sqlite3.connect(ledger.path).execute("SELECT file_id FROM usage_records").fetchone()
    )
    assert file_id == owner


def test_a_reset_drops_only_that_files_records_and_limits(ledger: Ledger, tmp_path: Path) -> None:
    rotated, other = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    _save(ledger, rotated, _record("old", 5))
    hit = LimitHit("claude", "s1:99", 1.0, "s1", "Claude AI usage limit reached", 99.0)
    chunk = LogChunk([], [hit, hit], 0, {}, {})
    ledger.save("claude", rotated, os.stat(rotated), "0:", chunk)
    _save(ledger, other, _record("kept", 5))
    assert len(ledger.limits()) == 1  # the same hit twice is one

    _save(ledger, rotated, _record("new", 7), reset=True)

    assert sorted(r.key for r in ledger.usage()) == ["kept", "new"]
    assert ledger.limits() == []


def test_file_states_round_trip(ledger: Ledger, tmp_path: Path) -> None:
    log = tmp_path / "a.jsonl"
    log.write_bytes(b"{}\n")
    _save(ledger, log, _record("m1", 5))
    state = ledger.file_states("claude")[str(log)]
    stat = log.stat()
    assert (state.device, state.inode, state.size, state.mtime_ns, state.offset) == (
        stat.st_dev,
        stat.st_ino,
        3,
        stat.st_mtime_ns,
        3,
    )
    assert state.state == {"seen": 1}
    assert ledger.file_states("codex") == {}


def test_each_record_is_priced_once_at_import(tmp_path: Path) -> None:
    overrides_file = tmp_path / "prices.toml"
    overrides_file.write_text('[models."local/*"]\ninput = 1.0\noutput = 2.0\n')
    with Ledger(store_path(tmp_path), load_overrides(overrides_file)) as ledger:
        _save(
            ledger,
            tmp_path / "a.jsonl",
            _record("known", 5),
            _record("unknown", 5, model="no-such-model-9"),
            _record("none", 5, model=None),
            _record("local", 5, model="local/llama"),
        )
    query = "SELECT key, cost_usd, priced_by FROM usage_records"
    rows = {
        key: (cost, priced_by)
        for key, cost, priced_by in sqlite3.connect(store_path(tmp_path)).execute(query)
    }
    # $3 in, $15 out, $3.75 5-minute and $6 1-hour cache writes, $0.30 cache read per million.
    known = (10 * 3 + 5 * 15 + 60 * 3.75 + 40 * 6 + 1000 * 0.3) / 1e6
    assert rows["claude:known"][0] == pytest.approx(known)
    assert rows["claude:known"][1].startswith("genai-prices")
    assert rows["claude:unknown"][0] is None
    assert rows["claude:unknown"][1].startswith("unpriced")
    assert rows["claude:none"] == (None, "unpriced: no model named")
    assert rows["claude:local"][0] == pytest.approx((10 * 1.0 + 5 * 2.0 + 1100 * 1.0) / 1e6)
    assert "override" in rows["claude:local"][1]
