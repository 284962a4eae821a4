"""Running the checker (and mypy) over the rows, and scoring what they report.

A row counts as flagged when a finding (or a mypy error) lands on the lines of its
call; as caught when it is invented and one of those findings has an expected
kind. Precision is caught over flagged rows, recall caught over invented rows;
both are computed over all rows and over the statically resolvable ones alone.
Coverage is the share of the snippets' API calls the checker resolved; a snippet
in a language it cannot read yet counts all its calls as unresolved.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from fleetnb.truth import Checker, check_paths
from fleetnb.truth.findings import CheckReport, Finding
from tests.truth.eval.oracle_openapi import SPEC
from tests.truth.eval.rows import SUPABASE_REPO, Row, npm_package

__all__ = ["Outcome", "Score", "check_rows", "mypy_rows", "score"]

SUFFIX = {"python": ".py", "typescript": ".ts", "javascript": ".js"}
_MYPY_LINE = re.compile(r"^(?P<file>[^:]+\.py):(?P<line>\d+): error: (?P<message>.*)$")


@dataclasses.dataclass(slots=True)
class Outcome:
    """What one tool said about one row."""

    row: Row
    kinds_on_call: list[str] = dataclasses.field(default_factory=list)
    stray: list[str] = dataclasses.field(default_factory=list)  # findings on other lines
    checked: int = 0
    unresolved: int = 0
    problems: list[str] = dataclasses.field(default_factory=list)
    crash: str | None = None

    @property
    def flagged(self) -> bool:
        return bool(self.kinds_on_call)

    @property
    def caught(self) -> bool:
        if not self.row.invented:
            return False
        return any(kind in self.row.expect for kind in self.kinds_on_call)


def _file_name(row: Row) -> str:
    return row.id.replace("-", "_") + SUFFIX.get(row.lang, ".txt")


def _outcome(row: Row, report: CheckReport) -> Outcome:
    outcome = Outcome(row, checked=report.calls_checked, unresolved=report.calls_unresolved)
    outcome.problems = list(report.problems)
    for finding in report.findings:
        _place(outcome, finding)
    return outcome


def _place(outcome: Outcome, finding: Finding) -> None:
    if finding.line in outcome.row.lines:
        outcome.kinds_on_call.append(finding.kind)
    else:
        outcome.stray.append(f"{finding.line}:{finding.kind}")


def _check_one(row: Row, checkers: dict[str, Checker], workdir: Path) -> Outcome:
    try:
        if row.api == "supabase":
            repo = workdir / row.id
            shutil.copytree(SUPABASE_REPO, repo)
            if row.lang != "python":
                _install_supabase_js(repo)
            (repo / _file_name(row)).write_text(row.code, encoding="utf-8")
            return _outcome(row, check_paths([repo]))
        checker = checkers.setdefault(row.api, Checker([SPEC] if row.api == "openapi" else []))
        return _outcome(row, checker.check_source(row.code, row.lang, path=_file_name(row)))
    except Exception as exc:
        return Outcome(row, crash=f"{exc.__class__.__name__}: {exc}")


def _install_supabase_js(repo: Path) -> None:
    """A TypeScript project has its dependencies installed: supabase-js and auth-js
    (the unpacked npm packages) under ``node_modules/@supabase``, linked, not copied.
    Without them (not unpacked yet) the methods count as unresolved."""
    scope = repo / "node_modules" / "@supabase"
    for name in ("supabase-js", "auth-js"):
        try:
            package = npm_package(name)
        except FileNotFoundError:
            return
        scope.mkdir(parents=True, exist_ok=True)
        (scope / name).symlink_to(package, target_is_directory=True)


def check_rows(rows: Iterable[Row]) -> list[Outcome]:
    """The checker's outcome on every row; a row the checker crashes on records the crash."""
    checkers: dict[str, Checker] = {}
    with tempfile.TemporaryDirectory(prefix="fleetnb-eval-") as tmp:
        return [_check_one(row, checkers, Path(tmp)) for row in rows]


def mypy_rows(rows: Sequence[Row]) -> list[Outcome]:
    """mypy's errors on the Python rows, from one run over all their snippets."""
    python = [row for row in rows if row.lang == "python"]
    with tempfile.TemporaryDirectory(prefix="fleetnb-eval-mypy-") as tmp:
        for row in python:
            (Path(tmp) / _file_name(row)).write_text(row.code, encoding="utf-8")
        argv = [sys.executable, "-m", "mypy", "--no-error-summary", "--hide-error-context"]
        argv += ["--cache-dir", str(Path(tmp) / ".cache"), "--no-pretty", "."]
        done = subprocess.run(argv, cwd=tmp, capture_output=True, text=True, check=False)
    errors: dict[str, list[tuple[int, str]]] = {}
    for line in done.stdout.splitlines():
        if found := _MYPY_LINE.match(line):
            errors.setdefault(found["file"], []).append((int(found["line"]), found["message"]))
    outcomes = []
    for row in python:
        outcome = Outcome(row)
        for number, message in errors.get(_file_name(row), []):
            (outcome.kinds_on_call if number in row.lines else outcome.stray).append(message)
        outcomes.append(outcome)
    return outcomes


@dataclasses.dataclass(frozen=True, slots=True)
class Score:
    rows: int
    invented: int
    flagged: int
    caught: int
    checked: int
    calls: int

    @property
    def precision(self) -> float | None:
        return self.caught / self.flagged if self.flagged else None

    @property
    def recall(self) -> float | None:
        return self.caught / self.invented if self.invented else None

    @property
    def coverage(self) -> float | None:
        return self.checked / self.calls if self.calls else None


def score(outcomes: Iterable[Outcome], *, mypy: bool = False) -> Score:
    """Precision, recall and coverage; for mypy any error on the call's line counts as caught."""
    rows = invented = flagged = caught = checked = calls = 0
    for outcome in outcomes:
        rows += 1
        invented += outcome.row.invented
        flagged += outcome.flagged
        caught += outcome.flagged and outcome.row.invented if mypy else outcome.caught
        checked += outcome.checked
        calls += max(outcome.checked + outcome.unresolved, outcome.row.calls)
    return Score(rows, invented, flagged, caught, checked, calls)
