"""Five-hour billing blocks, as ``ccusage blocks --json`` (20.0.24) reports them.

A block starts at the UTC hour of its first record and lasts five hours; the
next record after its end, or after more than five hours without any record,
starts a new block. Between two blocks more than five hours apart lies a gap
block (``isGap``) from five hours after the last record to the next record. A
block is active while it has not ended and its last record is under five hours
old; only the active block gets ``burnRate`` (over the time between its first
and last record) and a ``projection`` to its end, rounded as ccusage rounds
them (whole minutes and tokens, cents).

Limit hits count as entries, as ccusage counts Claude Code's zero-usage limit
lines, and the first one of a block gives its ``usageLimitResetTime``. Other
zero-usage lines (``<synthetic>`` API errors) never reach the ledger, so
``entries`` and ``actualEndTime`` can fall short of ccusage's by those; tokens,
costs, models and the blocks themselves are the same.

Left out: ccusage's ``--token-limit`` quota warnings, ``--session-length`` other
than five hours, ``--order desc`` and ``--recent``/``--active`` (filter the list
instead), and its ``--mode display`` (costs are always fleetnb's own, priced at
import). ``--since``/``--until`` keep the blocks that start on those local days.

Speed: no block boundary falls inside an hour ``(h - 1, h]``, so SQLite sums
the records per such hour and model, and Python walks the hours, not the records.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import math
import operator
import os
import sqlite3
import time
from typing import TYPE_CHECKING, Any

from fleetnb.cost.reports import ReportOptions, Tally, iso_utc, reading

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["BLOCK_SECONDS", "blocks", "blocks_report"]

#: How long a billing block lasts.
BLOCK_SECONDS = 5 * 3600
_HOUR = 3600


@dataclasses.dataclass(slots=True)
class _Block:
    start: float
    tally: Tally = dataclasses.field(default_factory=Tally)
    entries: int = 0
    models: dict[str, float] = dataclasses.field(default_factory=dict)  # model -> first use
    limit: tuple[float, float] = (math.inf, math.inf)  # the first limit hit: when, and its reset

    @property
    def end(self) -> float:
        return self.start + BLOCK_SECONDS


def _hours(connection: sqlite3.Connection, options: ReportOptions) -> list[tuple[Any, ...]]:
    """Per hour ``(h - 1, h]`` and model: hour, model, record count, the tally columns, and
    None; then each limit hit as a row of its own, without a model, ending in its reset."""
    where, params = ("WHERE source = ?", [options.source]) if options.source else ("", [])
    hour = f"(CAST(ts / {_HOUR} AS INTEGER) + (ts > CAST(ts / {_HOUR} AS INTEGER) * {_HOUR}))"
    return connection.execute(
        f"""SELECT {hour} AS hour, COALESCE(model, 'unknown') AS name, COUNT(*),
                   SUM(input_tokens), SUM(output_tokens), SUM(cache_write_tokens),
                   SUM(cache_read_tokens), TOTAL(cost_usd), COUNT(*) - COUNT(cost_usd),
                   SUM(CASE WHEN cost_usd IS NULL THEN input_tokens + output_tokens
                       + cache_write_tokens + cache_read_tokens ELSE 0 END), MIN(ts), MAX(ts),
                   NULL
            FROM usage_records {where} GROUP BY hour, name
            UNION ALL
            SELECT {hour} AS hour, NULL, 1, 0, 0, 0, 0, 0.0, 0, 0, ts, ts, resets_at
            FROM limit_hits {where}
            ORDER BY hour""",
        params * 2,
    ).fetchall()


def _walk(rows: list[tuple[Any, ...]]) -> list[_Block]:
    """The blocks of the hour rows, in time order; gaps are implied between them.

    A limit hit is an entry as ccusage counts one (Claude Code logs it as a
    zero-usage line): it can start or extend a block, and the first one of a
    block gives its ``usageLimitResetTime``.
    """
    found: list[_Block] = []
    for _, group in itertools.groupby(rows, key=operator.itemgetter(0)):
        same = list(group)
        first = min(row[10] for row in same)
        current = found[-1] if found else None
        if current is None or first > current.end or first - current.tally.last > BLOCK_SECONDS:
            current = _Block(start=first // _HOUR * _HOUR)
            found.append(current)
        for _, model, count, *sums, reset in same:
            tally = Tally.of(sums)
            current.tally.add(tally)
            current.entries += count
            if model is None:
                current.limit = min(current.limit, (tally.first, reset or math.inf))
            else:
                current.models[model] = min(current.models.get(model, tally.first), tally.first)
    return found


def _counts(tally: Tally | None) -> dict[str, int]:
    tally = tally or Tally()
    return {
        "inputTokens": tally.input,
        "outputTokens": tally.output,
        "cacheCreationInputTokens": tally.cache_write,
        "cacheReadInputTokens": tally.cache_read,
    }


def _gap(after: _Block, before: _Block) -> dict[str, Any] | None:
    start = after.tally.last + BLOCK_SECONDS
    if start >= before.tally.first:
        return None
    return {
        "id": f"gap-{iso_utc(start)}", "startTime": iso_utc(start),
        "endTime": iso_utc(before.tally.first), "actualEndTime": None, "isActive": False,
        "isGap": True, "entries": 0, "tokenCounts": _counts(None), "totalTokens": 0,
        "costUSD": 0, "models": [], "burnRate": None, "projection": None,
    }  # fmt: skip


def _json(block: _Block, now: float) -> dict[str, Any]:
    tally = block.tally
    active = now - tally.last < BLOCK_SECONDS and now < block.end
    burn = _burn_rate(block) if active else None
    row = {
        "id": iso_utc(block.start), "startTime": iso_utc(block.start),
        "endTime": iso_utc(block.end), "actualEndTime": iso_utc(tally.last),
        "isActive": active, "isGap": False, "entries": block.entries,
        "tokenCounts": _counts(tally), "totalTokens": tally.tokens, "costUSD": tally.cost,
        "models": sorted(block.models, key=block.models.__getitem__),
        "burnRate": burn, "projection": _projection(block, burn, now) if burn else None,
        "unpricedTokens": tally.unpriced_tokens,
    }  # fmt: skip
    if block.limit[1] != math.inf:
        row["usageLimitResetTime"] = iso_utc(block.limit[1])
    return row


def _burn_rate(block: _Block) -> dict[str, float] | None:
    minutes = (block.tally.last - block.tally.first) / 60
    if minutes <= 0:
        return None
    tally = block.tally
    return {
        "tokensPerMinute": tally.tokens / minutes,
        "tokensPerMinuteForIndicator": (tally.input + tally.output) / minutes,
        "costPerHour": tally.cost / minutes * 60,
    }


def _projection(block: _Block, burn: dict[str, float], now: float) -> dict[str, Any]:
    remaining = round(max(0.0, block.end - now) / 60)
    return {
        "remainingMinutes": remaining,
        "totalTokens": round(block.tally.tokens + burn["tokensPerMinute"] * remaining),
        "totalCost": round(block.tally.cost + burn["costPerHour"] / 60 * remaining, 2),
    }


def blocks_report(
    connection: sqlite3.Connection | None, options: ReportOptions, now: float | None = None
) -> dict[str, Any]:
    """``{"blocks": [...]}`` as ``ccusage blocks --json`` prints it; ``now`` decides activity."""
    if connection is None:
        return {"blocks": []}
    now = time.time() if now is None else now
    found = _walk(_hours(connection, options))
    rows: list[dict[str, Any]] = []
    for previous, block in zip([None, *found], found, strict=False):
        gap = _gap(previous, block) if previous is not None else None
        rows.extend([gap, _json(block, now)] if gap else [_json(block, now)])
    return {"blocks": [row for row in rows if _starts_inside(row, options)]}


def _starts_inside(row: dict[str, Any], options: ReportOptions) -> bool:
    start = dt.datetime.fromisoformat(row["startTime"]).astimezone(options.timezone)
    return options.covers(start.date())


def blocks(
    root: str | os.PathLike[str] | None = None,
    *,
    since: str | dt.date | None = None,
    until: str | dt.date | None = None,
    timezone: str | dt.tzinfo | None = None,
    source: str | None = None,
    path: str | os.PathLike[str] | None = None,
    import_logs: bool = True,
) -> pd.DataFrame:
    """The billing blocks, one row each, gaps included (``is_gap``)."""
    import pandas as pd  # noqa: PLC0415  # only the Python API pays for pandas

    options = {"since": since, "until": until, "timezone": timezone, "source": source}
    with reading(root, path, import_logs, **options) as (connection, checked):
        rows = blocks_report(connection, checked)["blocks"]
    return pd.DataFrame([_flat(row) for row in rows], columns=_FLAT_COLUMNS)


_FLAT_COLUMNS = ["id", "start", "end", "actual_end", "is_active", "is_gap", "entries",
                 "input_tokens", "output_tokens", "cache_creation_tokens", "cache_read_tokens",
                 "total_tokens", "cost_usd", "models"]  # fmt: skip


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    counts = row["tokenCounts"]
    when = {key: None if row[name] is None else dt.datetime.fromisoformat(row[name])
            for key, name in (("start", "startTime"), ("end", "endTime"),
                              ("actual_end", "actualEndTime"))}  # fmt: skip
    return {
        "id": row["id"], **when, "is_active": row["isActive"], "is_gap": row["isGap"],
        "entries": row["entries"], "input_tokens": counts["inputTokens"],
        "output_tokens": counts["outputTokens"],
        "cache_creation_tokens": counts["cacheCreationInputTokens"],
        "cache_read_tokens": counts["cacheReadInputTokens"],
        "total_tokens": row["totalTokens"], "cost_usd": row["costUSD"], "models": row["models"],
    }  # fmt: skip
