"""Policies written as TOML files.

```toml
extends = "default"        # start from the default rules ("none" starts empty)
default = "ask"            # when no rule matches
headless = "deny"          # what "ask" becomes when nobody is present
timeout_s = 600            # an unanswered request is denied after this long

[[rules]]
action = "deny"
tool = "Bash"
command = "git push"       # a regex searched in the shell command
reason = "pushing is for people"
```

A malformed file is a :class:`PolicyError` naming the file and line.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

from fleetnb.approvals.policy import DEFAULT_POLICY, Policy, Rule
from fleetnb.errors import PolicyError

__all__ = ["load_policy", "parse_policy"]

_TOP_KEYS = {"extends", "default", "headless", "timeout_s", "name", "rules"}
_RULE_KEYS = set(Rule.__dataclass_fields__)


def load_policy(path: str | os.PathLike[str]) -> Policy:
    """Read a policy file; errors name the file and the line."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"cannot read policy file {file}: {exc}") from exc
    return parse_policy(text, source=str(file), name=file.stem)


def parse_policy(text: str, *, source: str = "<policy>", name: str = "custom") -> Policy:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{source}: not valid TOML: {exc}") from exc
    unknown = set(data) - _TOP_KEYS
    if unknown:
        key = sorted(unknown)[0]
        raise PolicyError(f"{source}:{_line_of(text, key)}: unknown key {key!r}; "
                          f"expected one of {', '.join(sorted(_TOP_KEYS))}")  # fmt: skip
    rules = [_rule(text, source, index, raw) for index, raw in enumerate(data.get("rules", []))]
    base = _base(text, source, data.get("extends", "default"))
    try:
        return Policy(
            (*base, *rules),
            default=data.get("default", "ask"),
            headless=data.get("headless", "deny"),
            timeout_s=float(data.get("timeout_s", 600.0)),
            name=str(data.get("name", name)),
        )
    except (TypeError, ValueError) as exc:
        raise PolicyError(f"{source}:{_first_top_level_line(text)}: {exc}") from exc


def _base(text: str, source: str, extends: Any) -> tuple[Rule, ...]:
    if extends == "default":
        return DEFAULT_POLICY.rules
    if extends == "none":
        return ()
    line = _line_of(text, "extends")
    raise PolicyError(f'{source}:{line}: extends must be "default" or "none", not {extends!r}')


def _rule(text: str, source: str, index: int, raw: Any) -> Rule:
    line = _rule_line(text, index)
    if not isinstance(raw, dict):
        raise PolicyError(f"{source}:{line}: each [[rules]] entry must be a table")
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise PolicyError(f"{source}:{line}: rule has unknown key {sorted(unknown)[0]!r}; "
                          f"expected some of {', '.join(sorted(_RULE_KEYS))}")  # fmt: skip
    try:
        return Rule(**raw)
    except (TypeError, ValueError) as exc:
        raise PolicyError(f"{source}:{line}: {exc}") from exc


def _rule_line(text: str, index: int) -> int:
    headers = [n for n, line in enumerate(text.splitlines(), 1) if line.strip() == "[[rules]]"]
    return headers[index] if index < len(headers) else 1


def _line_of(text: str, key: str) -> int:
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for number, line in enumerate(text.splitlines(), 1):
        if pattern.match(line):
            return number
    return 1


def _first_top_level_line(text: str) -> int:
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip() and not line.lstrip().startswith("#"):
            return number
    return 1
