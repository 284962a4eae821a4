"""Approval policy: rules that decide a tool request without a person.

A rule matches on the tool name, the shell command (a regex and/or its
classified risk) or the file path a tool touches (a glob, inside or outside the
agent's working directory). Every matching rule votes; the strictest vote wins
(deny beats ask beats allow); with no match, the policy's default applies.
With nobody present (headless), "ask" becomes the policy's headless action.

The default policy: allow reading anything, low-risk (read-only) shell commands
and edits inside the working directory; deny commands classified critical
(``rm -rf ~``, ``git push --force``, ``curl … | sh``, ``DROP TABLE`` …); ask for
everything else, including every write outside the working directory.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeGuard

from fleetnb.approvals.classify import Risk, classify_command

__all__ = [
    "ACTIONS",
    "DEFAULT_POLICY",
    "Action",
    "Policy",
    "Rule",
    "Verdict",
    "classify_request",
]

Action = Literal["allow", "ask", "deny"]
ACTIONS: tuple[Action, ...] = ("allow", "ask", "deny")
_STRICTNESS = {"allow": 0, "ask": 1, "deny": 2}

# Tool names of every harness, lower-cased: Claude Code, Codex app-server, Gemini CLI.
SHELL_TOOLS = frozenset({"bash", "shell", "commandexecution", "run_shell_command", "exec"})
READ_TOOLS = frozenset(
    {"read", "glob", "grep", "ls", "notebookread", "read_file", "read_many_files",
     "list_directory", "search_file_content", "todowrite"}
)  # fmt: skip
EDIT_TOOLS = frozenset(
    {"write", "edit", "multiedit", "notebookedit", "filechange", "apply_patch",
     "write_file", "replace"}
)  # fmt: skip
_PATH_KEYS = ("file_path", "path", "notebook_path", "absolute_path")


@dataclasses.dataclass(frozen=True, slots=True)
class Verdict:
    """What the policy says about one request, and why."""

    action: Action
    risk: Risk
    reasons: tuple[str, ...]
    rule: str


@dataclasses.dataclass(frozen=True, slots=True)
class Rule:
    """One vote: ``action`` when every given condition matches."""

    action: Action
    tool: str = "*"
    command: str | None = None
    path: str | None = None
    outside_cwd: bool | None = None
    min_risk: str | None = None
    max_risk: str | None = None
    reason: str = ""

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"action {self.action!r} is not one of {', '.join(ACTIONS)}")
        for risk in (self.min_risk, self.max_risk):
            if risk is not None:
                Risk.parse(risk)
        if self.command is not None:
            try:
                re.compile(self.command)
            except re.error as exc:
                raise ValueError(f"command pattern {self.command!r} is not a regex: {exc}") from exc

    def matches(self, request: _Request) -> bool:
        if not fnmatch.fnmatchcase(request.tool.lower(), self.tool.lower()):
            return False
        return all(check(self, request) for check in _CONDITIONS)

    def describe(self) -> str:
        fields = dataclasses.asdict(self)
        parts = [f"{key}={value!r}" for key, value in fields.items() if value not in (None, "")]
        return "Rule(" + ", ".join(parts) + ")"


@dataclasses.dataclass(frozen=True, slots=True)
class Policy:
    """Rules plus what to do when none matches and when nobody is there to ask."""

    rules: tuple[Rule, ...] = ()
    default: Action = "ask"
    headless: Action = "deny"
    timeout_s: float = 600.0
    name: str = "custom"

    def __post_init__(self) -> None:
        for action in (self.default, self.headless):
            if action not in ACTIONS:
                raise ValueError(f"action {action!r} is not one of {', '.join(ACTIONS)}")
        if not self.timeout_s > 0:
            raise ValueError(f"timeout_s must be positive, not {self.timeout_s!r}")

    @classmethod
    def everything(cls, action: Action, timeout_s: float = 600.0) -> Policy:
        """One answer for every request: ``approvals="allow" | "ask" | "deny"``."""
        return cls((), default=action, timeout_s=timeout_s, name=f"approvals={action}")

    def evaluate(
        self, tool: str, tool_input: Mapping[str, Any], cwd: str | Path, *, headless: bool = False
    ) -> Verdict:
        request = _Request.of(tool, tool_input, Path(cwd))
        matched = [rule for rule in self.rules if rule.matches(request)]
        if matched:
            winner = max(matched, key=lambda rule: _STRICTNESS[rule.action])
            action, rule = winner.action, winner.reason or winner.describe()
        else:
            action, rule = self.default, f"{self.name}: default"
        if action == "ask" and headless:
            action, rule = self.headless, f"{rule}; headless: nobody to ask"
        return Verdict(action, request.risk, request.reasons, rule)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Policy:
        rules = tuple(Rule(**rule) for rule in data.get("rules", ()))
        names = ("default", "headless", "timeout_s", "name")
        fields = {key: data[key] for key in names if key in data}
        return cls(rules, **fields)


@dataclasses.dataclass(frozen=True, slots=True)
class _Request:
    tool: str
    command: str | None
    paths: tuple[Path, ...]
    outside_cwd: bool
    risk: Risk
    reasons: tuple[str, ...]

    @classmethod
    def of(cls, tool: str, tool_input: Mapping[str, Any], cwd: Path) -> _Request:
        command = _command_of(tool, tool_input)
        paths = _paths_of(tool_input, cwd)
        outside = any(not _inside(path, cwd) for path in paths)
        risk, reasons = classify_request(tool, tool_input, cwd)
        return cls(tool, command, paths, outside, risk, reasons)


def classify_request(
    tool: str, tool_input: Mapping[str, Any], cwd: Path
) -> tuple[Risk, tuple[str, ...]]:
    """The risk of a tool request: shell commands are classified, files by where they are."""
    name = tool.lower()
    command = _command_of(tool, tool_input)
    if command is not None:
        raw = tool_input.get("command")
        # An argv list keeps its quoting; the classifier reads it as run without a shell.
        argv = [str(part) for part in raw] if _is_argv(raw) else command
        found = classify_command(argv, cwd=cwd)
        return found.risk, found.reasons
    if name in READ_TOOLS:
        return Risk.LOW, ("reads files",)
    paths = _paths_of(tool_input, cwd)
    if name in EDIT_TOOLS or paths:
        outside = [str(p) for p in paths if not _inside(p, cwd)]
        if outside:
            return Risk.HIGH, (f"writes outside the working directory: {', '.join(outside)}",)
        return Risk.MEDIUM, ("edits files inside the working directory",)
    return Risk.MEDIUM, (f"tool {tool!r} is not known to be read-only",)


def _command_of(tool: str, tool_input: Mapping[str, Any]) -> str | None:
    command = tool_input.get("command")
    if tool.lower() not in SHELL_TOOLS and command is None:
        return None
    if _is_argv(command):
        return shlex.join(str(part) for part in command)
    return str(command or "")


def _is_argv(value: object) -> TypeGuard[Sequence[Any]]:
    return isinstance(value, Sequence) and not isinstance(value, str)


def _paths_of(tool_input: Mapping[str, Any], cwd: Path) -> tuple[Path, ...]:
    found = [tool_input[key] for key in _PATH_KEYS if isinstance(tool_input.get(key), str)]
    changes = tool_input.get("changes")
    if isinstance(changes, Mapping):
        found.extend(str(path) for path in changes)
    elif isinstance(changes, Sequence) and not isinstance(changes, str):
        found.extend(
            str(change["path"])
            for change in changes
            if isinstance(change, Mapping) and change.get("path")
        )
    return tuple(_resolve(path, cwd) for path in found)


def _resolve(path: str, cwd: Path) -> Path:
    candidate = Path(path).expanduser()
    if not candidate.is_absolute():
        candidate = cwd / candidate
    return Path(*_normalise(candidate.parts))


def _normalise(parts: Sequence[str]) -> list[str]:
    """Collapse ``..`` without touching the disk (the file may not exist yet)."""
    out: list[str] = []
    for part in parts:
        if part == "..":
            if len(out) > 1:
                out.pop()
        elif part != ".":
            out.append(part)
    return out


def _inside(path: Path, cwd: Path) -> bool:
    root = Path(*_normalise(cwd.resolve().parts))
    return path == root or root in path.parents


def _check_command(rule: Rule, request: _Request) -> bool:
    if rule.command is None:
        return True
    return request.command is not None and re.search(rule.command, request.command) is not None


def _check_path(rule: Rule, request: _Request) -> bool:
    if rule.path is None:
        return True
    return any(fnmatch.fnmatch(str(path), rule.path) for path in request.paths)


def _check_outside(rule: Rule, request: _Request) -> bool:
    if rule.outside_cwd is None:
        return True
    return bool(request.paths) and request.outside_cwd == rule.outside_cwd


def _check_risk(rule: Rule, request: _Request) -> bool:
    low = Risk.parse(rule.min_risk) if rule.min_risk else Risk.LOW
    high = Risk.parse(rule.max_risk) if rule.max_risk else Risk.CRITICAL
    return low <= request.risk <= high


_CONDITIONS = (_check_command, _check_path, _check_outside, _check_risk)


def _default_rules() -> tuple[Rule, ...]:
    def each(tools: frozenset[str], **rule: Any) -> list[Rule]:
        return [Rule(tool=tool, **rule) for tool in sorted(tools)]

    return (
        Rule("deny", min_risk="critical", reason="destructive command (critical risk)"),
        *each(READ_TOOLS, action="allow", reason="reading is always allowed"),
        *each(SHELL_TOOLS, action="allow", max_risk="low", reason="read-only command"),
        *each(EDIT_TOOLS, action="allow", outside_cwd=False, max_risk="medium",
              reason="edits inside the working directory"),
        *each(EDIT_TOOLS, action="ask", outside_cwd=True,
              reason="writes outside the working directory"),
    )  # fmt: skip


DEFAULT_POLICY = Policy(_default_rules(), default="ask", headless="deny", name="default")
