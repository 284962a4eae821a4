"""``fleetnb check PATH... [--json] [--spec FILE_OR_URL]... [--supabase-schema FILE]...``.

Exits 1 when an error-severity finding is found, 0 otherwise (warnings and
unreadable inputs are reported but do not fail the check), 2 on bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fleetnb.truth.findings import CheckReport

__all__ = ["register_check_command"]

_EXIT_OK, _EXIT_FOUND = 0, 1


def register_check_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``check`` to the ``fleetnb`` command's subcommands."""
    help_text = "check code for calls to API methods, endpoints and parameters that do not exist"
    check = commands.add_parser("check", help=help_text, description=help_text)
    check.add_argument("paths", nargs="+", metavar="PATH", help="files or directories to check")
    check.add_argument("--json", action="store_true", help="print the report as one JSON object")
    check.add_argument(
        "--spec",
        action="append",
        default=[],
        metavar="FILE_OR_URL",
        help="an OpenAPI 3 document (JSON or YAML) to check raw HTTP calls against",
    )
    check.add_argument(
        "--supabase-schema",
        action="append",
        default=[],
        metavar="FILE",
        help="SQL migrations (a file or a folder of them) or the PostgREST OpenAPI JSON "
        "(GET /rest/v1/) to check Supabase queries against, besides supabase/migrations",
    )
    check.set_defaults(handler=_check)


def _check(args: argparse.Namespace) -> int:
    # Imported here so every other fleetnb command starts without the checker's imports.
    from fleetnb.truth.checker import check_paths  # noqa: PLC0415

    report = check_paths(args.paths, specs=args.spec, supabase_schema=args.supabase_schema)
    if args.json:
        print(json.dumps(report.as_json(), indent=2, ensure_ascii=False))
    else:
        _print_text(report)
    return _EXIT_FOUND if report.errors else _EXIT_OK


def _print_text(report: CheckReport) -> None:
    for finding in report.findings:
        fix = f" (did you mean `{finding.suggestion}`?)" if finding.suggestion else ""
        print(f"{finding.location()}: {finding.severity}: {finding.kind}: {finding.message}{fix}")
    for problem in report.problems:
        print(f"fleetnb check: {problem}", file=sys.stderr)
    print(
        f"{len(report.findings)} finding(s), {report.calls_checked} call(s) checked, "
        f"{report.calls_unresolved} unresolved"
    )
