"""Daily, monthly and session reports over a real ledger file, in ccusage's shapes.

The ledger is the fleet store's SQLite file with the committed schema, filled
here row by row, so each test states exactly which records exist.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import fleetnb.cost
from fleetnb.cost.records import LimitHit, UsageRecord
from fleetnb.cost.reports import (
    ReportError,
    daily_report,
    day_groups,
    ledger,
    monthly_report,
    offset_segments,
    report_options,
    session_report,
)
from fleetnb.store import store_path

SCHEMA = Path(fleetnb.cost.__file__).with_name("ledger_schema.sql")
_KEYS = itertools.count()
SONNET, OPUS, HAIKU = "claude-sonnet-4-20250514", "claude-opus-4-20250514", "claude-3-5-haiku"


def ts(text: str) -> float:
    """Unix seconds of an ISO time written with a ``Z``."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def record(
    when: str | float,
    model: str | None = SONNET,
    tokens: tuple[int, int, int, int] = (1, 2, 3, 4),
    session: str = "s1",
    *,
    source: str = "claude",
    project: str = "-home-u-proj",
) -> UsageRecord:
    """A record with tokens (input, output, cache write, cache read); keys are unique."""
    moment = ts(when) if isinstance(when, str) else when
    return UsageRecord(source, f"key-{next(_KEYS)}", moment, session, project, model,
                       tokens[0], tokens[1], tokens[2], 0, tokens[3])  # fmt: skip


def fill_ledger(
    root: Path,
    rows: Iterable[tuple[UsageRecord, float | None]],
    limits: Iterable[LimitHit] = (),
) -> Path:
    """Write ``(record, cost)`` rows (cost None: unpriced) and limit hits into the ledger of
    the fleet at ``root``."""
    path = store_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path)) as connection:
        connection.executescript(SCHEMA.read_text())
        connection.execute(
            "INSERT OR IGNORE INTO log_files (id, source, path, device, inode, size, mtime_ns,"
            " offset, head, imported_at) VALUES (1, 'claude', 'test', 0, 0, 0, 0, 0, '', 0)"
        )
        connection.executemany(
            "INSERT INTO usage_records VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,NULL,?,1)",
            [(r.key, r.source, r.ts, r.session, r.project, r.model, r.input_tokens,
              r.output_tokens, r.cache_write_tokens, r.cache_write_1h_tokens,
              r.cache_read_tokens, r.reasoning_tokens, cost,
              "test" if cost is not None else "unpriced: test")
             for r, cost in rows],
        )  # fmt: skip
        connection.executemany(
            "INSERT INTO limit_hits VALUES (?, ?, ?, ?, ?, ?, ?, 1)",
            [(hit.key, hit.source, hit.ts, hit.session, hit.message, hit.resets_at,
              hit.window_minutes) for hit in limits],
        )  # fmt: skip
        connection.commit()
    return root


def utc(**options: str) -> fleetnb.cost.reports.ReportOptions:
    return report_options(timezone="UTC", **options)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """Two sessions over two months; one model nobody prices."""
    return fill_ledger(tmp_path, [
        (record("2025-03-09T06:30:00Z", SONNET, (100, 200, 300, 400)), 0.5),
        (record("2025-03-09T07:45:00Z", OPUS, (10, 20, 30, 40)), 1.5),
        (record("2025-03-09T13:10:00Z", SONNET, (1, 2, 3, 4)), 0.25),
        (record("2025-03-10T02:59:00Z", HAIKU, (5, 6, 7, 8)), 0.125),
        (record("2025-04-01T23:30:00Z", OPUS, (1000, 2000, 0, 0), "s2", project="-p2"), 2.0),
        (record("2025-04-02T00:30:00Z", SONNET, (7, 8, 9, 10), "s2", project="-p2"), 0.0625),
        (record("2025-04-02T01:00:00Z", "mystery-model", (7, 8, 9, 10), "s2", project="-p2"), None),
        (record("2025-04-02T01:20:00Z", OPUS, (1, 1, 0, 0), "s2", project="-p2"), 0.03125),
    ])  # fmt: skip


def test_daily_sums_each_utc_day_like_ccusage(root: Path) -> None:
    report = daily_report(ledger(root), utc())

    assert [row["period"] for row in report["daily"]] == [
        "2025-03-09", "2025-03-10", "2025-04-01", "2025-04-02"]  # fmt: skip
    first = report["daily"][0]
    assert first == {
        "period": "2025-03-09", "agent": "all", "metadata": {"agents": ["claude"]},
        "inputTokens": 111, "outputTokens": 222, "cacheCreationTokens": 333,
        "cacheReadTokens": 444, "totalTokens": 1110, "totalCost": 2.25,
        "modelsUsed": [OPUS, SONNET],  # sorted, as ccusage sorts a day's models
        "modelBreakdowns": [  # most expensive first
            {"modelName": OPUS, "inputTokens": 10, "outputTokens": 20,
             "cacheCreationTokens": 30, "cacheReadTokens": 40, "cost": 1.5},
            {"modelName": SONNET, "inputTokens": 101, "outputTokens": 202,
             "cacheCreationTokens": 303, "cacheReadTokens": 404, "cost": 0.75},
        ],
        "unpricedTokens": 0,
    }  # fmt: skip
    assert report["totals"]["totalTokens"] == 4206
    assert report["totals"]["totalCost"] == pytest.approx(4.46875)


def test_unpriced_models_are_flagged_never_priced_at_zero_silently(root: Path) -> None:
    report = daily_report(ledger(root), utc(since="2025-04-02"))

    (day,) = report["daily"]
    mystery = next(row for row in day["modelBreakdowns"] if row["modelName"] == "mystery-model")
    assert mystery["missingPricing"] is True
    assert mystery["cost"] == 0
    assert day["unpricedTokens"] == 34
    assert report["totals"]["unpricedModels"] == ["mystery-model"]
    assert report["totals"]["unpricedTokens"] == 34
    assert "missingPricing" not in day["modelBreakdowns"][0]


def test_days_follow_the_requested_zone_across_daylight_saving(root: Path) -> None:
    tokyo = daily_report(ledger(root), report_options(timezone="Asia/Tokyo"))
    periods = {row["period"]: row["inputTokens"] for row in tokyo["daily"]}
    # 13:10Z is 22:10 in Tokyo; 02:59Z the next day is 11:59; 23:30Z on 04-01 is 08:30 on 04-02
    assert periods == {"2025-03-09": 111, "2025-03-10": 5, "2025-04-02": 1015}

    # New York switched to EDT at 07:00Z on 2025-03-09: 06:30Z is 01:30 EST (the 9th)
    york = daily_report(ledger(root), report_options(timezone="America/New_York"))
    assert [row["period"] for row in york["daily"]] == ["2025-03-09", "2025-04-01"]
    assert york["daily"][0]["inputTokens"] == 116  # 02:59Z on the 10th is 22:59 EDT on the 9th


@pytest.mark.parametrize(
    "zone", ["Europe/Berlin", "America/Santiago", "Australia/Lord_Howe", "Asia/Kathmandu",
             "Pacific/Chatham", "America/St_Johns", "UTC"])  # fmt: skip
def test_every_record_lands_on_its_local_date(tmp_path: Path, zone: str) -> None:
    rng = random.Random(zone)
    start = ts("2023-01-01T00:00:00Z")
    records = [record(start + rng.uniform(0, 3 * 365 * 86400), tokens=(rng.randint(1, 9), 0, 0, 0))
               for _ in range(3000)]  # fmt: skip
    # and some on the very instants the offset changes, and a second either side
    for change, _ in offset_segments(ZoneInfo(zone), start, start + 3 * 365 * 86400)[1:]:
        records += [record(change + delta, tokens=(1, 0, 0, 0)) for delta in (-1, 0, 1)]
    fill_ledger(tmp_path, [(each, 0.0) for each in records])
    expected: dict[dt.date, int] = defaultdict(int)
    for each in records:
        expected[dt.datetime.fromtimestamp(each.ts, ZoneInfo(zone)).date()] += each.input_tokens

    groups = day_groups(ledger(tmp_path), report_options(timezone=zone))  # type: ignore[arg-type]

    assert {day: group.total().input for day, group in groups.items()} == expected


def test_offset_changes_are_found_to_the_second() -> None:
    segments = offset_segments(ZoneInfo("Europe/Berlin"), ts("2025-01-01T00:00:00Z"),
                               ts("2025-12-31T00:00:00Z"))  # fmt: skip
    assert [(start, offset) for start, offset in segments[1:]] == [
        (ts("2025-03-30T01:00:00Z"), 7200), (ts("2025-10-26T01:00:00Z"), 3600)]  # fmt: skip
    assert segments[0][1] == 3600


def test_since_and_until_are_inclusive_local_days(root: Path) -> None:
    for since, until in [("20250310", "20250401"), ("2025-03-10", "2025-04-01")]:
        report = daily_report(ledger(root), utc(since=since, until=until))
        assert [row["period"] for row in report["daily"]] == ["2025-03-10", "2025-04-01"]
        assert report["totals"]["inputTokens"] == 1005


def test_monthly_merges_days_and_filters_by_day(root: Path) -> None:
    report = monthly_report(ledger(root), utc())
    assert [(row["period"], row["inputTokens"]) for row in report["monthly"]] == [
        ("2025-03", 116), ("2025-04", 1015)]  # fmt: skip
    assert report["monthly"][0]["modelsUsed"] == [HAIKU, OPUS, SONNET]

    since_tenth = monthly_report(ledger(root), utc(since="2025-03-10"))
    assert since_tenth["monthly"][0]["inputTokens"] == 5  # only the 10th counts in March


def test_sessions_most_expensive_first_with_their_models_in_order_of_use(root: Path) -> None:
    report = session_report(ledger(root), utc())

    earlier, latest = report["session"]
    assert (earlier["period"], latest["period"]) == ("s1", "s2")  # $2.375 before $2.09
    assert latest["agent"] == "claude"
    assert latest["metadata"] == {"lastActivity": "2025-04-02T01:20:00.000Z"}
    assert latest["firstActivity"] == "2025-04-01T23:30:00.000Z"
    assert (latest["sessionId"], latest["projectPath"]) == ("s2", "-p2")
    assert earlier["modelsUsed"] == [SONNET, OPUS, HAIKU]  # first use, not sorted
    assert earlier["totalTokens"] == 1136
    assert report["totals"]["totalTokens"] == 4206


def test_a_limit_hit_is_activity_of_its_session(tmp_path: Path) -> None:
    hit = LimitHit("claude", "hit-1", ts("2025-04-03T09:00:00Z"), "s2", "usage limit reached",
                   resets_at=ts("2025-04-03T12:00:00Z"))  # fmt: skip
    fill_ledger(tmp_path, [(record("2025-04-02T01:00:00Z", session="s2"), 1.0)], [hit])

    (session,) = session_report(ledger(tmp_path), utc(since="2025-04-03"))["session"]

    assert session["metadata"] == {"lastActivity": "2025-04-03T09:00:00.000Z"}
    assert session["firstActivity"] == "2025-04-02T01:00:00.000Z"


def test_sessions_are_kept_by_their_last_activity(root: Path) -> None:
    report = session_report(ledger(root), utc(since="2025-04-02"))
    (only,) = report["session"]
    assert only["inputTokens"] == 1015  # the whole session, also its record of April 1st


def test_a_source_filter_keeps_only_that_agent(tmp_path: Path) -> None:
    codex_record = record("2025-05-01T10:00:00Z", "gpt-5", (5, 5, 0, 0), source="codex")
    fill_ledger(tmp_path, [(codex_record, 1.0), (record("2025-05-01T11:00:00Z"), 2.0)])
    both = daily_report(ledger(tmp_path), utc())
    assert both["daily"][0]["metadata"] == {"agents": ["claude", "codex"]}
    codex = daily_report(ledger(tmp_path), utc(source="codex"))
    assert codex["daily"][0]["metadata"] == {"agents": ["codex"]}
    assert codex["totals"]["totalCost"] == 1.0


def test_an_empty_or_missing_ledger_is_an_empty_report(tmp_path: Path) -> None:
    assert ledger(tmp_path) is None
    assert daily_report(None, utc())["daily"] == []
    fill_ledger(tmp_path, [])
    report = daily_report(ledger(tmp_path), utc())
    assert report == {"daily": [], "totals": {
        "inputTokens": 0, "outputTokens": 0, "cacheCreationTokens": 0, "cacheReadTokens": 0,
        "totalTokens": 0, "totalCost": 0.0, "unpricedTokens": 0}}  # fmt: skip
    assert session_report(ledger(tmp_path), utc())["session"] == []


@pytest.mark.parametrize(
    ("options", "message"),
    [({"since": "2025-13-01"}, "YYYYMMDD"), ({"until": "yesterday"}, "YYYYMMDD"),
     ({"timezone": "Mars/Olympus"}, "IANA"), ({"since": "20250502", "until": "20250501"}, "swap"),
     ({"source": "copilot"}, "claude, codex, gemini")],
)  # fmt: skip
def test_bad_options_say_what_to_write(options: dict[str, str], message: str) -> None:
    with pytest.raises(ReportError, match=message):
        report_options(**options)


def test_dataframes_have_a_row_per_period_and_model(root: Path) -> None:
    frame = fleetnb.cost.daily(root, timezone="UTC", import_logs=False)
    assert len(frame) == 7
    assert frame.groupby("period")["input_tokens"].sum().to_dict() == {
        "2025-03-09": 111, "2025-03-10": 5, "2025-04-01": 1000, "2025-04-02": 15}  # fmt: skip
    assert frame["total_tokens"].sum() == 4206

    months = fleetnb.cost.monthly(root, timezone="UTC", import_logs=False)
    assert months.groupby("period")["cost_usd"].sum().to_dict() == pytest.approx(
        {"2025-03": 2.375, "2025-04": 2.09375})  # fmt: skip

    sessions = fleetnb.cost.sessions(root, timezone="UTC", import_logs=False)
    assert list(sessions["session"].unique()) == ["s1", "s2"]
    assert set(sessions.columns) >= {"source", "project", "last_activity", "model"}


def test_plot_daily_stacks_a_bar_trace_per_model(root: Path) -> None:
    frame = fleetnb.cost.daily(root, timezone="UTC", import_logs=False)

    figure = fleetnb.cost.plot_daily(frame)

    assert figure.layout.barmode == "stack"
    traces = {trace.name: trace for trace in figure.data}
    assert set(traces) == {HAIKU, OPUS, SONNET, "mystery-model"}
    opus = traces[OPUS]
    assert opus.type == "bar"
    assert list(opus.x) == ["2025-03-09", "2025-03-10", "2025-04-01", "2025-04-02"]
    assert list(opus.y) == [1.5, 0, 2.0, 0.03125]
    assert opus.customdata[2][4] == 3000  # total tokens on the hover of April 1st
    assert "(unpriced)" in traces["mystery-model"].customdata[3][5]


def test_plot_daily_of_an_empty_frame_is_an_empty_figure(tmp_path: Path) -> None:
    figure = fleetnb.cost.plot_daily(fleetnb.cost.daily(tmp_path, import_logs=False))
    assert len(figure.data) == 0
