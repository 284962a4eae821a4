"""Cost reports over the ledger: daily, monthly and per session, in ccusage's JSON shapes.

The shapes are those of ``ccusage daily|monthly|session --json`` (20.0.24): the
same top-level keys (``daily``, ``monthly``, ``session``, ``totals``), field
names, row order (periods ascending, sessions by cost descending),
``modelsUsed`` order (sorted for periods, first use for sessions) and
``modelBreakdowns`` order (cost descending), with no rounding. ``agent`` is
``"all"`` on period rows with the imported sources in ``metadata.agents``, and
the session's source on session rows, as ccusage prints them. fleetnb adds
``unpricedTokens`` (tokens of records no price table knew) to every row and the
totals; session rows also carry ccusage's Claude-report fields ``sessionId``,
``projectPath``, ``firstActivity`` and ``lastActivity``.

Where fleetnb differs on purpose: ``--since``/``--until`` are inclusive local
days for every report. ccusage 20.0.24's ``session`` keeps a session when its
last activity falls in [since, until) at midnight UTC, whatever ``--timezone``
says. Limit hits count as a session's activity, as in ccusage; ``<synthetic>``
API-error lines are not in the ledger, so a session ending in one reports an
earlier ``lastActivity`` than ccusage.

Speed matters here: ``fleetnb cost daily`` runs on every prompt of some users.
SQLite sums the records per local day in one pass, the day computed in SQL from
the zone's UTC offsets (a few constant-offset stretches between DST changes),
so Python only sees a row per day and model. Nothing here imports pandas; the
DataFrame functions import it when called.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import math
import os
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fleetnb.errors import FleetError
from fleetnb.store import store_path

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "SOURCES",
    "ReportError",
    "ReportOptions",
    "daily",
    "daily_report",
    "iso_utc",
    "ledger",
    "monthly",
    "monthly_report",
    "reading",
    "report_options",
    "session_report",
    "sessions",
]

#: The agents whose logs fleetnb imports, by the names reports use for them.
SOURCES = ("claude", "codex", "gemini")

_DAY = 86400
_DATE = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})$")
_TOKENS = "input_tokens + output_tokens + cache_write_tokens + cache_read_tokens"
_SUMS = f"""SUM(input_tokens), SUM(output_tokens), SUM(cache_write_tokens),
    SUM(cache_read_tokens), TOTAL(cost_usd), COUNT(*) - COUNT(cost_usd),
    SUM(CASE WHEN cost_usd IS NULL THEN {_TOKENS} ELSE 0 END), MIN(ts), MAX(ts)"""


class ReportError(FleetError):
    """A report was asked for with a date, zone or source it cannot use."""


@dataclasses.dataclass(frozen=True, slots=True)
class ReportOptions:
    """Which records a report covers and how it cuts them into days."""

    timezone: dt.tzinfo
    since: dt.date | None = None
    until: dt.date | None = None
    source: str | None = None

    def covers(self, day: dt.date) -> bool:
        """Whether ``day`` (a local date) is inside ``--since``/``--until``, both inclusive."""
        return (self.since is None or day >= self.since) and (
            self.until is None or day <= self.until
        )


def report_options(
    since: str | dt.date | None = None,
    until: str | dt.date | None = None,
    timezone: str | dt.tzinfo | None = None,
    source: str | None = None,
) -> ReportOptions:
    """Checked options: dates as ``YYYYMMDD`` or ``YYYY-MM-DD``, an IANA zone (default: local)."""
    options = ReportOptions(_zone(timezone), _date(since, "since"), _date(until, "until"), source)
    if options.since and options.until and options.since > options.until:
        raise ReportError(
            f"--since {options.since} is later than --until {options.until}; swap them"
        )
    if source is not None and source not in SOURCES:
        raise ReportError(f"unknown source {source!r}; use one of {', '.join(SOURCES)}")
    return options


def _date(value: str | dt.date | None, name: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    match = _DATE.match(value.strip())
    try:
        if match is None:
            raise ValueError(value)
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise ReportError(
            f"--{name} {value!r} is not a date; write it as YYYYMMDD or YYYY-MM-DD"
        ) from None


def _zone(value: str | dt.tzinfo | None) -> dt.tzinfo:
    if isinstance(value, dt.tzinfo):
        return value
    if value is None or value == "local":
        return _local_zone()
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ReportError(
            f"unknown timezone {value!r}; give an IANA name such as UTC or Europe/Berlin"
        ) from None


def _local_zone() -> dt.tzinfo:
    """The system's zone with its DST rules (a fixed offset would misplace half the year)."""
    name = os.environ.get("TZ", "").lstrip(":")
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    try:
        with open("/etc/localtime", "rb") as file:
            return ZoneInfo.from_file(file, key="localtime")
    except (OSError, ValueError):
        return dt.UTC


def ledger(root: str | os.PathLike[str] | None = None) -> sqlite3.Connection | None:
    """The fleet store, read-only, or None when nothing was ever imported into it."""
    path = store_path(root)
    if not path.exists():
        return None
    connection = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    found = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'usage_records'"
    ).fetchone()
    if found is None:
        connection.close()
        return None
    return connection


# --- aggregation ----------------------------------------------------------------


@dataclasses.dataclass(slots=True)
class Tally:
    """Summed usage of some records; ``unpriced`` counts records without a price."""

    input: int = 0
    output: int = 0
    cache_write: int = 0
    cache_read: int = 0
    cost: float = 0.0
    unpriced: int = 0
    unpriced_tokens: int = 0
    first: float = math.inf
    last: float = -math.inf

    @property
    def tokens(self) -> int:
        return self.input + self.output + self.cache_write + self.cache_read

    def add(self, other: Tally) -> None:
        self.input += other.input
        self.output += other.output
        self.cache_write += other.cache_write
        self.cache_read += other.cache_read
        self.cost += other.cost
        self.unpriced += other.unpriced
        self.unpriced_tokens += other.unpriced_tokens
        self.first = min(self.first, other.first)
        self.last = max(self.last, other.last)

    @classmethod
    def of(cls, row: Sequence[Any]) -> Tally:
        """A tally from the nine ``_SUMS`` columns."""
        return cls(*row)


@dataclasses.dataclass(slots=True)
class Group:
    """One report row before it becomes JSON: a tally per model, and their sources."""

    models: dict[str, Tally] = dataclasses.field(default_factory=dict)
    sources: set[str] = dataclasses.field(default_factory=set)
    session: str = ""
    project: str = ""
    first_seen: dict[str, tuple[str, float]] = dataclasses.field(default_factory=dict)
    # limit hits are activity too (Claude Code logs them as zero-usage lines)
    hits: tuple[float, float] = (math.inf, -math.inf)

    def span(self) -> tuple[float, float]:
        """When the group's first and last activity was, limit hits included."""
        total = self.total()
        return min(total.first, self.hits[0]), max(total.last, self.hits[1])

    def add(self, source: str, model: str, tally: Tally) -> None:
        self.sources.add(source)
        self.models.setdefault(model, Tally()).add(tally)

    def total(self) -> Tally:
        total = Tally()
        for tally in self.models.values():
            total.add(tally)
        return total


def _where(options: ReportOptions) -> tuple[str, list[Any]]:
    if options.source is None:
        return "", []
    return "WHERE source = ?", [options.source]


def day_groups(connection: sqlite3.Connection, options: ReportOptions) -> dict[dt.date, Group]:
    """Records summed per local day (inside since/until) and model."""
    bounds = connection.execute("SELECT MIN(ts), MAX(ts) FROM usage_records").fetchone()
    if bounds[0] is None:
        return {}
    offset = _offset_sql(options.timezone, bounds[0], bounds[1])
    where, params = _where(options)
    rows = connection.execute(
        f"""SELECT CAST((ts + {offset}) / {_DAY} AS INTEGER) AS day, source,
                   COALESCE(model, 'unknown') AS name, {_SUMS}
            FROM usage_records {where} GROUP BY day, source, name""",
        params,
    )
    epoch = dt.date(1970, 1, 1)
    groups: dict[dt.date, Group] = {}
    for day_number, source, model, *sums in rows:
        day = epoch + dt.timedelta(days=day_number)
        if options.covers(day):
            groups.setdefault(day, Group()).add(source, model, Tally.of(sums))
    return dict(sorted(groups.items()))


def session_groups(connection: sqlite3.Connection, options: ReportOptions) -> list[Group]:
    """Records summed per session and model; sessions whose last activity is in range,
    the most expensive first."""
    where, params = _where(options)
    rows = connection.execute(
        f"""SELECT source, session, MAX(project), COALESCE(model, 'unknown') AS name, file_id,
                   {_SUMS}
            FROM usage_records {where} GROUP BY source, session, name, file_id""",
        params,
    )
    paths = dict(connection.execute("SELECT id, path FROM log_files").fetchall())
    groups: dict[tuple[str, str], Group] = {}
    for source, session, project, model, file_id, *sums in rows:
        group = groups.setdefault((source, session), Group(session=session, project=project))
        tally = Tally.of(sums)
        group.add(source, model, tally)
        # ccusage lists a session's models as it meets them: file by file in path order
        seen = (paths.get(file_id, ""), tally.first)
        group.first_seen[model] = min(group.first_seen.get(model, seen), seen)
    hits = connection.execute(
        f"SELECT source, session, MIN(ts), MAX(ts) FROM limit_hits {where} GROUP BY 1, 2", params
    )
    for source, session, first, last in hits:
        if (source, session) in groups:
            groups[source, session].hits = (first, last)
    found = []
    for group in groups.values():
        last = dt.datetime.fromtimestamp(group.span()[1], options.timezone).date()
        if options.covers(last):
            found.append(group)
    # ccusage's order: the most expensive session first (then the latest).
    found.sort(key=lambda group: (group.total().cost, group.span()[1]), reverse=True)
    return found


def _offset_sql(zone: dt.tzinfo, low: float, high: float) -> str:
    """A SQL expression of ``ts`` giving the zone's UTC offset in seconds at that instant."""
    segments = offset_segments(zone, low, high)
    if len(segments) == 1:
        return str(segments[0][1])
    # Each stretch's offset holds until the next stretch starts.
    ends = [start for start, _ in segments[1:]]
    pairs = zip(ends, segments[:-1], strict=True)
    cases = " ".join(f"WHEN ts < {end} THEN {offset}" for end, (_, offset) in pairs)
    return f"(CASE {cases} ELSE {segments[-1][1]} END)"


def offset_segments(zone: dt.tzinfo, low: float, high: float) -> list[tuple[int, int]]:
    """``(from_ts, offset)`` stretches covering ``[low, high]`` in which the offset holds.

    The first stretch starts at ``low``'s day; each later one at a transition,
    found to the second. Zones change offset at most once a day, so one probe a
    day finds every change.
    """

    def offset(ts: int) -> int:
        delta = dt.datetime.fromtimestamp(ts, zone).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    probe = int(low) // _DAY * _DAY
    segments = [(probe, offset(probe))]
    while probe <= high:
        after = probe + _DAY
        if offset(after) != segments[-1][1]:
            before = probe  # offset(before) is the old one, offset(after) the new one
            while after - before > 1:
                middle = (before + after) // 2
                if offset(middle) == segments[-1][1]:
                    before = middle
                else:
                    after = middle
            segments.append((after, offset(after)))
        probe += _DAY
    return segments


# --- JSON -------------------------------------------------------------------------


def iso_utc(ts: float) -> str:
    """``2025-03-09T06:30:00.000Z``, ccusage's timestamp format."""
    millis = round(ts * 1000)
    moment = dt.datetime.fromtimestamp(millis // 1000, dt.UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{millis % 1000:03d}Z"


def _counts(tally: Tally) -> dict[str, Any]:
    return {
        "inputTokens": tally.input,
        "outputTokens": tally.output,
        "cacheCreationTokens": tally.cache_write,
        "cacheReadTokens": tally.cache_read,
    }


def _breakdowns(group: Group) -> list[dict[str, Any]]:
    ordered = sorted(group.models.items(), key=lambda item: (-item[1].cost, item[1].first))
    breakdowns = []
    for model, tally in ordered:
        row = {"modelName": model, **_counts(tally), "cost": tally.cost}
        if tally.unpriced:
            row["missingPricing"] = True
        breakdowns.append(row)
    return breakdowns


def _row(period: str, group: Group, models: list[str], agent: str) -> dict[str, Any]:
    total = group.total()
    return {
        "period": period,
        "agent": agent,
        **_counts(total),
        "totalTokens": total.tokens,
        "totalCost": total.cost,
        "modelsUsed": models,
        "modelBreakdowns": _breakdowns(group),
        "unpricedTokens": total.unpriced_tokens,
    }


def _period_row(period: str, group: Group) -> dict[str, Any]:
    row = _row(period, group, sorted(group.models), "all")
    row["metadata"] = {"agents": sorted(group.sources)}
    return row


def _session_row(group: Group) -> dict[str, Any]:
    first_use = sorted(group.models, key=group.first_seen.__getitem__)
    first, last = (iso_utc(moment) for moment in group.span())
    row = _row(group.session, group, first_use, min(group.sources))
    row["metadata"] = {"lastActivity": last}
    row.update(sessionId=group.session, projectPath=group.project,
               firstActivity=first, lastActivity=last)  # fmt: skip
    return row


def _totals(groups: Iterable[Group]) -> dict[str, Any]:
    total, unpriced = Tally(), set[str]()
    for group in groups:
        total.add(group.total())
        unpriced.update(model for model, tally in group.models.items() if tally.unpriced)
    totals = {
        **_counts(total),
        "totalTokens": total.tokens,
        "totalCost": total.cost,
        "unpricedTokens": total.unpriced_tokens,
    }
    if unpriced:
        totals["unpricedModels"] = sorted(unpriced)
    return totals


def month_groups(days: dict[dt.date, Group]) -> dict[str, Group]:
    """Day groups merged into calendar months (of the report's zone)."""
    months: dict[str, Group] = {}
    for day, group in days.items():
        month = months.setdefault(f"{day:%Y-%m}", Group())
        for model, tally in group.models.items():
            month.models.setdefault(model, Tally()).add(tally)
        month.sources |= group.sources
    return months


def daily_report(connection: sqlite3.Connection | None, options: ReportOptions) -> dict[str, Any]:
    """``{"daily": [...], "totals": {...}}`` as ``ccusage daily --json`` prints it."""
    days = day_groups(connection, options) if connection is not None else {}
    rows = [_period_row(day.isoformat(), group) for day, group in days.items()]
    return {"daily": rows, "totals": _totals(days.values())}


def monthly_report(connection: sqlite3.Connection | None, options: ReportOptions) -> dict[str, Any]:
    """``{"monthly": [...], "totals": {...}}`` as ``ccusage monthly --json`` prints it."""
    months = month_groups(day_groups(connection, options) if connection is not None else {})
    rows = [_period_row(month, group) for month, group in months.items()]
    return {"monthly": rows, "totals": _totals(months.values())}


def session_report(connection: sqlite3.Connection | None, options: ReportOptions) -> dict[str, Any]:
    """``{"session": [...], "totals": {...}}`` as ``ccusage session --json`` prints it."""
    groups = session_groups(connection, options) if connection is not None else []
    return {"session": [_session_row(group) for group in groups], "totals": _totals(groups)}


# --- DataFrames -------------------------------------------------------------------

_COLUMNS = ["input_tokens", "output_tokens", "cache_creation_tokens", "cache_read_tokens",
            "total_tokens", "cost_usd", "unpriced_tokens"]  # fmt: skip


def _model_rows(group: Group) -> list[dict[str, Any]]:
    return [
        dict(zip(["model", *_COLUMNS], [model, tally.input, tally.output, tally.cache_write,
             tally.cache_read, tally.tokens, tally.cost, tally.unpriced_tokens], strict=True))
        for model, tally in sorted(group.models.items())
    ]  # fmt: skip


def _frame(rows: list[dict[str, Any]], keys: list[str]) -> pd.DataFrame:
    import pandas as pd  # noqa: PLC0415  # only the Python API pays for pandas, never the CLI

    return pd.DataFrame(rows, columns=[*keys, "model", *_COLUMNS])


@contextlib.contextmanager
def reading(
    root: str | os.PathLike[str] | None,
    path: str | os.PathLike[str] | None,
    import_first: bool,
    **options: Any,
) -> Iterator[tuple[sqlite3.Connection | None, ReportOptions]]:
    """The checked options and the ledger (after importing new log lines if asked), closed
    afterwards."""
    checked = report_options(**options)
    if import_first:
        from fleetnb.cost.importer import import_logs  # noqa: PLC0415  # not needed to report

        import_logs(checked.source, path, root=root)
    connection = ledger(root)
    try:
        yield connection, checked
    finally:
        if connection is not None:
            connection.close()


def daily(
    root: str | os.PathLike[str] | None = None,
    *,
    since: str | dt.date | None = None,
    until: str | dt.date | None = None,
    timezone: str | dt.tzinfo | None = None,
    source: str | None = None,
    path: str | os.PathLike[str] | None = None,
    import_logs: bool = True,
) -> pd.DataFrame:
    """Usage per local day and model, one row each (import new log lines first).

    ``df.groupby("period").sum(numeric_only=True)`` gives ccusage's daily rows.
    """
    options = {"since": since, "until": until, "timezone": timezone, "source": source}
    with reading(root, path, import_logs, **options) as (connection, checked):
        days = day_groups(connection, checked) if connection is not None else {}
    rows = [{"period": day.isoformat(), **row}
            for day, group in days.items() for row in _model_rows(group)]  # fmt: skip
    return _frame(rows, ["period"])


def monthly(
    root: str | os.PathLike[str] | None = None,
    *,
    since: str | dt.date | None = None,
    until: str | dt.date | None = None,
    timezone: str | dt.tzinfo | None = None,
    source: str | None = None,
    path: str | os.PathLike[str] | None = None,
    import_logs: bool = True,
) -> pd.DataFrame:
    """Usage per calendar month (of ``timezone``) and model, one row each."""
    options = {"since": since, "until": until, "timezone": timezone, "source": source}
    with reading(root, path, import_logs, **options) as (connection, checked):
        months = month_groups(day_groups(connection, checked) if connection is not None else {})
    rows = [{"period": month, **row}
            for month, group in months.items() for row in _model_rows(group)]  # fmt: skip
    return _frame(rows, ["period"])


def sessions(
    root: str | os.PathLike[str] | None = None,
    *,
    since: str | dt.date | None = None,
    until: str | dt.date | None = None,
    timezone: str | dt.tzinfo | None = None,
    source: str | None = None,
    path: str | os.PathLike[str] | None = None,
    import_logs: bool = True,
) -> pd.DataFrame:
    """Usage per session and model, the most expensive sessions first."""
    options = {"since": since, "until": until, "timezone": timezone, "source": source}
    with reading(root, path, import_logs, **options) as (connection, checked):
        groups = session_groups(connection, checked) if connection is not None else []
    rows: list[dict[str, Any]] = []
    for group in groups:
        row = _session_row(group)
        keys = {"session": row["sessionId"], "source": row["agent"],
                "project": row["projectPath"], "last_activity": row["lastActivity"]}  # fmt: skip
        rows.extend({**keys, **model_row} for model_row in _model_rows(group))
    return _frame(rows, ["session", "source", "project", "last_activity"])
