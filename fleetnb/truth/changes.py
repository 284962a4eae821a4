"""Checking what an agent changed: the lines its work added since a base commit.

Whole files are checked, since a call's meaning depends on the imports and
client bindings above it, but only findings on changed lines are kept: an agent
is answerable for its own code, not for the repository it was given. Files the
agent created are changed on every line. A working directory that is not a git
repository has no base: the files its tools wrote are checked whole.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from fleetnb.events import FILE_TOOLS, Event, EventKind
from fleetnb.truth.checker import SUFFIXES, Checker
from fleetnb.truth.findings import CheckReport, Finding

__all__ = [
    "ChangeChecker",
    "Changes",
    "changed_lines",
    "report_of",
    "summary",
    "touched_paths",
    "written_paths",
]

_GIT_TIMEOUT_S = 30.0
# The input keys naming the paths a file tool writes, across harnesses.
_PATH_KEYS = ("file_path", "path", "paths", "notebook_path")
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
# What one event keeps: a fix loop needs the first findings, not thousands.
MAX_FINDINGS_KEPT = 200
MAX_PROBLEMS_KEPT = 20

# Lines by file (relative to the work directory); None means every line.
Changes = dict[str, set[int] | None]


def changed_lines(cwd: str | os.PathLike[str], base: str) -> Changes:
    """Each checkable source file changed in ``cwd`` since ``base``, with its new lines."""
    root = Path(cwd)
    changes: Changes = {}
    diff = _git(root, "diff", "--no-color", "--no-ext-diff", "--relative", "-U0", base, "--")
    current: set[int] | None = None
    for line in (diff or "").splitlines():
        if line.startswith("+++ "):
            name = line[4:]
            current = changes.setdefault(name[2:], set()) if name.startswith("b/") else None
        elif current is not None and (hunk := _HUNK.match(line)):
            start, count = int(hunk[1]), int(hunk[2] or 1)
            current.update(range(start, start + count))
    untracked = _git(root, "ls-files", "--others", "--exclude-standard", "-z")
    for name in (untracked or "").split("\0"):
        if name:
            changes[name] = None
    return {name: lines for name, lines in changes.items() if _checkable(name) and lines != set()}


def _checkable(name: str) -> bool:
    return Path(name).suffix in SUFFIXES


def _git(cwd: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(cwd), *args],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=_GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


@dataclasses.dataclass(slots=True)
class ChangeChecker:
    """Checks one agent's changes again and again, reusing its indexes.

    ``check`` returns None when nothing checkable changed since the last check,
    so a runner may call it after every edit without repeating work.
    """

    cwd: Path
    base: str | None
    checker: Checker = dataclasses.field(default_factory=Checker)
    # As if no changes were checked: an agent that touches no source file has no check.
    _last: str = hashlib.sha256().hexdigest()

    def check(self, trigger: str, touched: Iterable[str] = ()) -> dict[str, Any] | None:
        """A ``truth_checked`` payload, or None when nothing changed since the last one."""
        changes = self._changes(touched)
        fingerprint = self._fingerprint(changes)
        if fingerprint == self._last:
            return None
        self._last = fingerprint
        return self._summary(changes, trigger)[1]

    def check_now(self, touched: Iterable[str] = ()) -> tuple[CheckReport, dict[str, Any]]:
        """The full report of the current changes, and its event payload."""
        return self._summary(self._changes(touched), "manual")

    def _summary(self, changes: Changes, trigger: str) -> tuple[CheckReport, dict[str, Any]]:
        report = self.report(changes)
        return report, summary(report, trigger=trigger, base=self.base, files=sorted(changes))

    def report(self, changes: Mapping[str, set[int] | None]) -> CheckReport:
        """The check of ``changes``: findings on changed lines only, paths relative."""
        report = CheckReport()
        for name, lines in sorted(changes.items()):
            path = self.cwd / name
            if not path.is_file():
                continue  # deleted since the diff was read
            found = self.checker.check_paths([path])
            found.findings = [
                dataclasses.replace(f, path=name)
                for f in found.findings
                if lines is None or f.line in lines
            ]
            found.problems = [p.replace(str(path), name) for p in found.problems]
            report.merge(found)
        return report

    def _changes(self, touched: Iterable[str]) -> Changes:
        if self.base is not None:
            return changed_lines(self.cwd, self.base)
        changes: Changes = {}
        for name in touched:
            path = Path(name) if Path(name).is_absolute() else self.cwd / name
            try:
                relative = path.resolve().relative_to(self.cwd.resolve())
            except (OSError, ValueError):
                continue  # outside the work directory: not this agent's code
            if _checkable(str(relative)):
                changes[str(relative)] = None
        return changes

    def _fingerprint(self, changes: Mapping[str, set[int] | None]) -> str:
        digest = hashlib.sha256()
        for name in sorted(changes):
            try:
                stat = (self.cwd / name).stat()
            except OSError:
                continue
            digest.update(f"{name}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
            lines = changes[name]
            digest.update(repr(sorted(lines) if lines is not None else None).encode())
        return digest.hexdigest()


def touched_paths(events: Iterable[Event]) -> list[str]:
    """Every path the file tools among ``events`` wrote (the ``tool_call`` events), in order."""
    return [
        path
        for event in events
        if event.kind == EventKind.TOOL_CALL and event.payload.get("tool") in FILE_TOOLS
        for path in written_paths(event.payload.get("input"))
    ]


def written_paths(tool_input: Any) -> list[str]:
    """The paths a file tool's input names (``file_path``, codex's ``paths`` …)."""
    if not isinstance(tool_input, Mapping):
        return []
    found: list[str] = []
    for key in _PATH_KEYS:
        value = tool_input.get(key)
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, list):
            found.extend(v for v in value if isinstance(v, str))
    return found


def summary(report: CheckReport, **fields: Any) -> dict[str, Any]:
    """A ``truth_checked`` event's payload: counts, and the first findings and problems."""
    findings = [finding.to_dict() for finding in report.findings]
    return {
        **fields,
        "errors": len(report.errors),
        "warnings": len(report.findings) - len(report.errors),
        "calls_checked": report.calls_checked,
        "calls_unresolved": report.calls_unresolved,
        "findings": findings[:MAX_FINDINGS_KEPT],
        "findings_omitted": max(0, len(findings) - MAX_FINDINGS_KEPT),
        "problems": report.problems[:MAX_PROBLEMS_KEPT],
    }


def report_of(payload: Mapping[str, Any]) -> CheckReport:
    """The report a ``truth_checked`` payload keeps, rebuilt (its kept findings only)."""
    fields = {field.name for field in dataclasses.fields(Finding)}
    findings = [
        Finding(**{key: value for key, value in item.items() if key in fields})
        for item in payload.get("findings") or []
    ]
    return CheckReport(
        findings=findings,
        calls_checked=int(payload.get("calls_checked") or 0),
        calls_unresolved=int(payload.get("calls_unresolved") or 0),
        problems=list(payload.get("problems") or []),
    )
