"""What a truth check reports: findings about calls that do not exist, and the report.

A finding is only ever raised for a call the checker could resolve against a real
API surface; whatever it could not resolve is counted in ``calls_unresolved``
instead, because a false alarm sends an agent into a useless fix loop.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable
from typing import Any, Literal

__all__ = ["KINDS", "CheckReport", "Finding", "FindingKind", "Severity", "closest"]

FindingKind = Literal[
    "unknown_method",
    "unknown_param",
    "missing_required_param",
    "unknown_endpoint",
    "wrong_verb",
    "unknown_table",
    "unknown_column",
    "unknown_package",
]
KINDS: tuple[FindingKind, ...] = (
    "unknown_method",
    "unknown_param",
    "missing_required_param",
    "unknown_endpoint",
    "wrong_verb",
    "unknown_table",
    "unknown_column",
    "unknown_package",
)
Severity = Literal["error", "warning"]


# Verbs agents reach for that SDKs spell differently: spelling distance misses these.
_SYNONYMS = {
    "retrieve": ("fetch", "get", "read", "find", "find_one", "get_one", "show", "load", "lookup"),
    "list": ("all", "get_all", "find_all", "list_all", "fetch_all", "index", "query"),
    "create": ("add", "new", "make", "insert", "post", "build"),
    "update": ("modify", "edit", "patch", "change", "set", "save"),
    "delete": ("remove", "destroy", "del", "erase", "archive"),
    "search": ("find", "query", "lookup", "filter"),
    "cancel": ("void", "stop", "abort"),
}
_SYNONYM_OF = {alias: real for real, aliases in _SYNONYMS.items() for alias in aliases}


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The real name nearest to ``name``, or None when nothing is close enough.

    difflib's ratio is enough here: candidate sets are small (one service's
    methods, one object's keys), so a faster fuzzy matcher would not pay for itself.
    """
    pool = sorted(set(candidates))
    if not pool:
        return None
    stem, dot, suffix = name.partition("_async")
    if stem in _SYNONYM_OF and _SYNONYM_OF[stem] + dot + suffix in pool:
        return _SYNONYM_OF[stem] + dot + suffix
    found = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    if found:
        return found[0]
    # Singular/plural and prefix slips ("customer" for "customers") score low on ratio.
    for candidate in pool:
        if candidate.startswith(name) or name.startswith(candidate):
            return candidate
    return None


@dataclasses.dataclass(frozen=True, slots=True)
class Finding:
    """One call that does not match the real API it names."""

    path: str | None
    line: int
    column: int
    api: str
    kind: FindingKind
    severity: Severity
    message: str
    suggestion: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def location(self) -> str:
        return f"{self.path or '<source>'}:{self.line}:{self.column}"


@dataclasses.dataclass(slots=True)
class CheckReport:
    """Findings of one check, with how many calls were checked and left unresolved.

    ``problems`` lists inputs the check could not read (a file that does not
    parse, a binary or oversized file, a spec that cannot be loaded); they are
    reported, never raised, so one bad file does not hide the findings of the rest.
    """

    findings: list[Finding] = dataclasses.field(default_factory=list)
    calls_checked: int = 0
    calls_unresolved: int = 0
    problems: list[str] = dataclasses.field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.severity == "error"]

    def merge(self, other: CheckReport) -> None:
        self.findings.extend(other.findings)
        self.calls_checked += other.calls_checked
        self.calls_unresolved += other.calls_unresolved
        self.problems.extend(other.problems)

    def as_json(self) -> dict[str, Any]:
        return {
            "findings": [finding.to_dict() for finding in self.findings],
            "calls_checked": self.calls_checked,
            "calls_unresolved": self.calls_unresolved,
            "problems": list(self.problems),
        }

    def as_prompt(self) -> str:
        """A follow-up message an agent can act on: each bad call, where, and the fix."""
        if not self.findings:
            return (
                "The API check found no calls to methods, endpoints or parameters "
                "that do not exist."
            )
        lines = [
            f"The API check found {len(self.findings)} call(s) that do not match the real APIs. "
            "Fix each one, using the real name where one is suggested; do not change calls "
            "that are not listed:"
        ]
        for finding in self.findings:
            fix = f" Use `{finding.suggestion}` instead." if finding.suggestion else ""
            lines.append(f"- {finding.location()} ({finding.severity}) {finding.message}{fix}")
        return "\n".join(lines)
