"""Five-hour billing blocks over a real ledger file, as ccusage 20.0.24 draws them.

The expected blocks of the first test are what ``ccusage blocks --json`` printed
for the same records (costs aside, which are the ledger's own here).
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import pytest

import fleetnb.cost
from fleetnb.cost.blocks import BLOCK_SECONDS, blocks_report
from fleetnb.cost.records import LimitHit
from fleetnb.cost.reports import iso_utc, ledger, report_options
from tests.cost.test_reports import HAIKU, OPUS, SONNET, fill_ledger, record, ts

UTC = report_options(timezone="UTC")


def _ids(report: dict[str, Any]) -> list[tuple[str, int]]:
    return [(block["id"], block["entries"]) for block in report["blocks"]]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return fill_ledger(tmp_path, [
        (record("2025-03-09T06:30:00Z", SONNET, (100, 200, 300, 400)), 0.5),
        (record("2025-03-09T07:45:00Z", OPUS, (10, 20, 30, 40)), 1.5),
        (record("2025-03-09T13:10:00Z", SONNET, (1, 2, 3, 4)), 0.25),
        (record("2025-03-10T02:59:00Z", HAIKU, (5, 6, 7, 8)), 0.125),
        (record("2025-04-01T23:30:00Z", OPUS, (1000, 2000, 0, 0), "s2"), 2.0),
        (record("2025-04-02T00:30:00Z", SONNET, (7, 8, 9, 10), "s2"), 0.0625),
        (record("2025-04-02T01:00:00Z", "mystery-model", (7, 8, 9, 10), "s2"), None),
    ])  # fmt: skip


def test_blocks_and_gaps_match_ccusage(root: Path) -> None:
    report = blocks_report(ledger(root), UTC, now=ts("2026-01-01T00:00:00Z"))

    assert _ids(report) == [
        ("2025-03-09T06:00:00.000Z", 2),
        ("gap-2025-03-09T12:45:00.000Z", 0),  # 5 h after 07:45, until the next record
        ("2025-03-09T13:00:00.000Z", 1),
        ("gap-2025-03-09T18:10:00.000Z", 0),
        ("2025-03-10T02:00:00.000Z", 1),
        ("gap-2025-03-10T07:59:00.000Z", 0),
        ("2025-04-01T23:00:00.000Z", 3),
    ]
    first, gap = report["blocks"][:2]
    assert "usageLimitResetTime" not in first
    assert first == {
        "id": "2025-03-09T06:00:00.000Z", "startTime": "2025-03-09T06:00:00.000Z",
        "endTime": "2025-03-09T11:00:00.000Z", "actualEndTime": "2025-03-09T07:45:00.000Z",
        "isActive": False, "isGap": False, "entries": 2,
        "tokenCounts": {"inputTokens": 110, "outputTokens": 220,
                        "cacheCreationInputTokens": 330, "cacheReadInputTokens": 440},
        "totalTokens": 1100, "costUSD": 2.0, "models": [SONNET, OPUS],
        "burnRate": None, "projection": None, "unpricedTokens": 0,
    }  # fmt: skip
    assert gap == {
        "id": "gap-2025-03-09T12:45:00.000Z", "startTime": "2025-03-09T12:45:00.000Z",
        "endTime": "2025-03-09T13:10:00.000Z", "actualEndTime": None, "isActive": False,
        "isGap": True, "entries": 0,
        "tokenCounts": {"inputTokens": 0, "outputTokens": 0, "cacheCreationInputTokens": 0,
                        "cacheReadInputTokens": 0},
        "totalTokens": 0, "costUSD": 0, "models": [], "burnRate": None, "projection": None,
    }  # fmt: skip
    last = report["blocks"][-1]
    assert last["models"] == [OPUS, SONNET, "mystery-model"]  # in order of first use
    assert last["unpricedTokens"] == 34


def test_a_record_exactly_at_the_end_stays_and_a_gap_of_exactly_five_hours_is_none(
    tmp_path: Path,
) -> None:
    fill_ledger(tmp_path, [(record(when), 0.0) for when in (
        "2025-05-01T06:30:00Z", "2025-05-01T11:00:00Z",  # 11:00 is the first block's end
        "2025-05-01T16:00:00Z",  # 5 h after the last record: a new block, no gap block
        "2025-05-01T21:00:00.001Z",  # 1 ms past that block's end: a gap block of 1 ms
    )])  # fmt: skip

    report = blocks_report(ledger(tmp_path), UTC, now=ts("2026-01-01T00:00:00Z"))

    assert _ids(report) == [("2025-05-01T06:00:00.000Z", 2), ("2025-05-01T16:00:00.000Z", 1),
                            ("gap-2025-05-01T21:00:00.000Z", 0),
                            ("2025-05-01T21:00:00.000Z", 1)]  # fmt: skip
    assert report["blocks"][2]["endTime"] == "2025-05-01T21:00:00.001Z"


def test_the_active_block_has_a_burn_rate_and_a_projection(tmp_path: Path) -> None:
    fill_ledger(tmp_path, [
        (record("2026-11-28T03:35:17Z", SONNET, (1000, 500, 2000, 3000)), 0.02),
        (record("2026-11-28T04:05:17Z", OPUS, (100, 50, 200, 300)), 0.01),
    ])  # fmt: skip
    now = ts("2026-11-28T04:15:17Z")

    (block,) = blocks_report(ledger(tmp_path), UTC, now=now)["blocks"]

    assert block["isActive"] is True
    assert block["burnRate"] == pytest.approx({
        "tokensPerMinute": 7150 / 30, "tokensPerMinuteForIndicator": 1650 / 30,
        "costPerHour": 0.03 / 30 * 60})  # fmt: skip
    # 225 minutes to 08:00; ccusage rounds minutes and tokens, and the cost to cents
    assert block["projection"] == {"remainingMinutes": 225,
                                   "totalTokens": round(7150 + 7150 / 30 * 225),
                                   "totalCost": round(0.03 + 0.06 / 60 * 225, 2)}  # fmt: skip
    later = blocks_report(ledger(tmp_path), UTC, now=now + BLOCK_SECONDS)["blocks"][0]
    assert (later["isActive"], later["burnRate"], later["projection"]) == (False, None, None)


def test_limit_hits_are_entries_and_the_first_gives_the_reset_time(tmp_path: Path) -> None:
    hits = [LimitHit("claude", f"hit-{n}", ts(when), "s1", "usage limit reached",
                     resets_at=ts(reset)) for n, (when, reset) in enumerate([
        ("2025-05-01T09:30:00Z", "2025-05-01T11:00:00Z"),
        ("2025-05-01T09:00:00Z", "2025-05-01T10:00:00Z"),  # the first one, by time
        ("2025-05-01T12:30:00Z", "2025-05-01T14:00:00Z"),  # after the last record: starts a block
    ])]  # fmt: skip
    fill_ledger(tmp_path, [(record("2025-05-01T06:30:00Z"), 0.5)], hits)

    first, second = blocks_report(ledger(tmp_path), UTC, now=ts("2026-01-01T00:00:00Z"))["blocks"]

    assert (first["entries"], first["totalTokens"]) == (3, 10)
    assert first["actualEndTime"] == "2025-05-01T09:30:00.000Z"
    assert first["usageLimitResetTime"] == "2025-05-01T10:00:00.000Z"
    assert first["models"] == [SONNET]
    assert second["id"] == "2025-05-01T12:00:00.000Z"
    assert (second["entries"], second["models"]) == (1, [])


def test_since_keeps_the_blocks_that_start_on_those_days(root: Path) -> None:
    options = report_options(since="20250310", timezone="UTC")
    report = blocks_report(ledger(root), options, now=ts("2026-01-01T00:00:00Z"))
    assert _ids(report) == [("2025-03-10T02:00:00.000Z", 1),
                            ("gap-2025-03-10T07:59:00.000Z", 0),
                            ("2025-04-01T23:00:00.000Z", 3)]  # fmt: skip


def _reference(stamps: list[float]) -> list[tuple[str, int]]:
    """ccusage's rule applied record by record (no hourly sums), for comparison."""
    found: list[list[float]] = []
    for stamp in sorted(stamps):
        if found:
            start, last = found[-1][0], found[-1][-1]
            if stamp - start <= BLOCK_SECONDS and stamp - last <= BLOCK_SECONDS:
                found[-1].append(stamp)
                continue
        found.append([stamp // 3600 * 3600, stamp])
    return [(iso_utc(block[0]), len(block) - 1) for block in found]


@pytest.mark.parametrize("seed", range(5))
def test_hourly_sums_draw_the_same_blocks_as_record_by_record(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    stamps, now = [], ts("2025-01-01T00:00:00Z")
    for _ in range(2000):
        # bursts, pauses just under and over five hours, and records on whole hours
        now += rng.choice([rng.uniform(0, 600), rng.uniform(4.9, 5.1) * 3600,
                           rng.randint(0, 30) * 3600.0, 0.001])  # fmt: skip
        stamps.append(round(now, 3))
    fill_ledger(tmp_path, [(record(stamp), 0.0) for stamp in stamps])

    report = blocks_report(ledger(tmp_path), UTC, now=ts("2030-01-01T00:00:00Z"))

    assert [row for row in _ids(report) if not row[0].startswith("gap-")] == _reference(stamps)


def test_an_empty_ledger_has_no_blocks(tmp_path: Path) -> None:
    assert blocks_report(None, UTC) == {"blocks": []}
    fill_ledger(tmp_path, [])
    assert blocks_report(ledger(tmp_path), UTC) == {"blocks": []}


def test_blocks_as_a_dataframe(root: Path) -> None:
    frame = fleetnb.cost.blocks(root, timezone="UTC", import_logs=False)

    assert list(frame["is_gap"]) == [False, True, False, True, False, True, False]
    assert frame["total_tokens"].sum() == 4204
    assert frame.loc[0, "start"] == dt.datetime(2025, 3, 9, 6, tzinfo=dt.UTC)
    assert frame.loc[6, "models"] == [OPUS, SONNET, "mystery-model"]
