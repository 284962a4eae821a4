"""``fleetnb cost …``: import agents' own logs and print ccusage-style reports.

``fleetnb cost daily|monthly|session|blocks`` first imports what is new in the
logs (skip with ``--no-import``), then prints an aligned table or, with
``--json``, the same JSON ``ccusage … --json`` prints. This path imports neither
pandas nor plotly: a warm report is a stat of each log file and one SQL query.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from fleetnb.cost.blocks import blocks_report
from fleetnb.cost.importer import ImportResult, import_logs
from fleetnb.cost.report_cache import cached_report
from fleetnb.cost.reports import (
    SOURCES,
    ReportError,
    ReportOptions,
    daily_report,
    ledger,
    monthly_report,
    report_options,
    session_report,
)

__all__ = ["register_cost_commands", "run_cost_command"]

EXIT_OK, EXIT_USAGE = 0, 2

_Report = Callable[[Any, ReportOptions], dict[str, Any]]
_REPORTS: dict[str, tuple[_Report, str]] = {
    "daily": (daily_report, "usage and cost per day"),
    "monthly": (monthly_report, "usage and cost per month"),
    "session": (session_report, "usage and cost per session, most expensive first"),
    "blocks": (blocks_report, "usage and cost per 5-hour billing block"),
}


def register_cost_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """Add ``cost`` and its subcommands to the ``fleetnb`` parser."""
    help_text = "usage and cost from the agents' own logs (ccusage-style reports)"
    cost = commands.add_parser("cost", help=help_text, description=help_text)
    cost.set_defaults(handler=run_cost_command)
    subcommands = cost.add_subparsers(dest="cost_command", required=True, metavar="REPORT")
    imports = subcommands.add_parser("import", help="read what is new in the agents' logs")
    _log_options(imports)
    imports.add_argument("--json", action="store_true", help="the import's counts as JSON")
    for name, (_, help_line) in _REPORTS.items():
        report = subcommands.add_parser(name, help=help_line, description=help_line)
        _log_options(report)
        report.add_argument("--json", "-j", action="store_true", help="ccusage's JSON shape")
        report.add_argument("--since", "-s", help="first local day (YYYYMMDD or YYYY-MM-DD)")
        report.add_argument("--until", "-u", help="last local day, inclusive")
        report.add_argument("--timezone", "-z", help="IANA zone for days (default: local)")
        report.add_argument("--no-import", action="store_true", help="report the ledger as is")
        report.add_argument("--breakdown", "-b", action="store_true", help="a line per model")


def _log_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", help=f"only this agent's logs: {', '.join(SOURCES)}")
    parser.add_argument("--path", help="a log directory other than the agent's default")


def run_cost_command(args: argparse.Namespace) -> int:
    """Run ``fleetnb cost …``; bad dates, zones or sources exit 2 with the reason."""
    if args.cost_command == "import":
        return _import(args)
    try:
        options = report_options(args.since, args.until, args.timezone, args.source)
    except ReportError as exc:
        print(f"fleetnb: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not args.no_import:
        imported = _import_logs(args)
        if imported.problems:  # a report from stale data must say so; stdout stays the report
            print(f"fleetnb: warning: {imported}", file=sys.stderr)
    report = _report(args.cost_command, args.root, options)
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True))
    else:
        print(render(args.cost_command, report, options, breakdown=args.breakdown))
    return EXIT_OK


def _report(kind: str, root: str | None, options: ReportOptions) -> dict[str, Any]:
    build, _ = _REPORTS[kind]

    def fresh() -> dict[str, Any]:
        connection = ledger(root)
        try:
            return build(connection, options)
        finally:
            if connection is not None:
                connection.close()

    if kind == "blocks":  # the active block and its projection depend on the clock
        return fresh()
    key = json.dumps([kind, str(options.timezone), str(options.since), str(options.until),
                      options.source])  # fmt: skip
    return cached_report(root, key, fresh)


def _import_logs(args: argparse.Namespace) -> ImportResult:
    if args.source is not None and args.source not in SOURCES:
        raise ReportError(f"unknown source {args.source!r}; use one of {', '.join(SOURCES)}")
    return import_logs(args.source, args.path, root=args.root)


def _import(args: argparse.Namespace) -> int:
    try:
        result = _import_logs(args)
    except ReportError as exc:
        print(f"fleetnb: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(json.dumps(result.as_dict(), indent=2) if args.json else str(result))
    return EXIT_OK


# --- tables -----------------------------------------------------------------------

_HEADERS = ["Input", "Output", "Cache Create", "Cache Read", "Total Tokens", "Cost (USD)"]


def render(kind: str, report: dict[str, Any], options: ReportOptions, breakdown: bool) -> str:
    """``report`` as an aligned plain-text table, a total line last."""
    if kind == "blocks":
        return _blocks_table(report["blocks"], options)
    rows = report[kind]
    if not rows:
        return f"no usage in the ledger{_range(options)}; `fleetnb cost import` reads the logs"
    first = {"daily": "Date", "monthly": "Month", "session": "Session"}[kind]
    table = [[first, "Models", *_HEADERS]]
    for row in rows:
        label = row["period"] if kind != "session" else f"{row['period']} ({row['agent']})"
        table.append([label, ", ".join(row["modelsUsed"]), *_numbers(row, row["totalCost"])])
        if breakdown:
            for model in row["modelBreakdowns"]:
                total = sum(model[key] for key in _TOKEN_KEYS)
                cells = _numbers({**model, "totalTokens": total}, model["cost"])
                table.append(["  └ " + model["modelName"], "", *cells])
    totals = report["totals"]
    table.append(["Total", "", *_numbers(totals, totals["totalCost"])])
    return "\n".join([*_aligned(table), *_unpriced_note(totals)])


_TOKEN_KEYS = ["inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens"]


def _numbers(row: dict[str, Any], cost: float) -> list[str]:
    counts = [f"{row[key]:,}" for key in [*_TOKEN_KEYS, "totalTokens"]]
    return [*counts, f"${cost:,.2f}"]


def _aligned(
    table: list[list[str]], numeric: set[int] | None = None, total: bool = True
) -> list[str]:
    """Columns padded to their widest cell, numbers right-aligned; rules under the header
    and above the total line."""
    widths = [max(len(row[column]) for row in table) for column in range(len(table[0]))]
    numeric = numeric if numeric is not None else set(range(2, len(widths)))
    rule = "  ".join("-" * width for width in widths)
    lines = []
    for number, row in enumerate(table):
        if number == 1 or (total and number == len(table) - 1):
            lines.append(rule)
        padded = zip(row, widths, strict=True)
        cells = [cell.rjust(width) if column in numeric else cell.ljust(width)
                 for column, (cell, width) in enumerate(padded)]  # fmt: skip
        lines.append("  ".join(cells).rstrip())
    return lines


def _unpriced_note(totals: dict[str, Any]) -> list[str]:
    if not totals.get("unpricedModels"):
        return []
    models = ", ".join(totals["unpricedModels"])
    return [f"unpriced (no price known, not counted as $0): {totals['unpricedTokens']:,} "
            f"tokens of {models}; add prices in .fleetnb/prices.toml"]  # fmt: skip


def _range(options: ReportOptions) -> str:
    parts = [f" since {options.since}" if options.since else "",
             f" until {options.until}" if options.until else "",
             f" for {options.source}" if options.source else ""]  # fmt: skip
    return "".join(parts)


def _blocks_table(blocks: Sequence[dict[str, Any]], options: ReportOptions) -> str:
    if not blocks:
        return f"no usage in the ledger{_range(options)}; `fleetnb cost import` reads the logs"
    table = [["Block start", "Status", "Entries", "Models", "Total Tokens", "Cost (USD)"]]
    for block in blocks:
        start = _local(block["startTime"], options)
        status = "gap" if block["isGap"] else "ACTIVE" if block["isActive"] else ""
        models = ", ".join(block["models"])
        table.append([start, status, str(block["entries"]), models,
                      f"{block['totalTokens']:,}", f"${block['costUSD']:,.2f}"])  # fmt: skip
    lines = _aligned(table, numeric={2, 4, 5}, total=False)
    for block in blocks:
        if block["projection"]:
            ahead = block["projection"]
            lines.append(
                f"active block: {ahead['remainingMinutes']} min left, projected "
                f"{ahead['totalTokens']:,} tokens, ${ahead['totalCost']:,.2f}"
            )
    return "\n".join(lines)


def _local(iso: str, options: ReportOptions) -> str:
    moment = dt.datetime.fromisoformat(iso).astimezone(options.timezone)
    return f"{moment:%Y-%m-%d %H:%M %Z}"
