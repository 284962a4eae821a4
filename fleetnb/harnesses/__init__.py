"""Harness registry: built-in harnesses plus any installed under the entry point
group ``fleetnb.harnesses``."""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from fleetnb.errors import UnknownHarnessError
from fleetnb.harnesses.base import Decision, Harness, LaunchSpec, Outcome, Session

__all__ = [
    "Decision",
    "Harness",
    "LaunchSpec",
    "Outcome",
    "Session",
    "available",
    "get_harness",
]

# Built-ins resolve without package metadata, so a source checkout works too.
_BUILTIN = {
    "claude": "fleetnb.harnesses.claude:ClaudeHarness",
    "codex": "fleetnb.harnesses.codex:CodexHarness",
    "demo": "fleetnb.harnesses.demo:DemoHarness",
}


def available() -> list[str]:
    """Names of every harness that can be asked for."""
    names = set(_BUILTIN)
    names.update(ep.name for ep in entry_points(group="fleetnb.harnesses"))
    return sorted(names)


def get_harness(name: str) -> Harness:
    """A fresh harness instance for ``name``."""
    target = _BUILTIN.get(name)
    if target is None:
        matches = entry_points(group="fleetnb.harnesses", name=name)
        if not matches:
            raise UnknownHarnessError(
                f"no harness named {name!r}; choose one of {', '.join(available())} "
                "or install a package that registers it under 'fleetnb.harnesses'",
                harness=name,
            )
        cls = next(iter(matches)).load()
    else:
        module_name, _, attr = target.partition(":")
        cls = getattr(importlib.import_module(module_name), attr)
    harness = cls()
    if not isinstance(harness, Harness):
        raise UnknownHarnessError(f"{target or name} is not a fleetnb Harness", harness=name)
    return harness
