"""The small protocol every harness speaks, and the session the runner gives it.

A harness knows how to start one agent CLI and translate its machine channel
into normalised events. It never touches the store: it calls ``session.emit``
for facts, ``session.request_approval`` when the agent asks permission, and
``session.next_message`` when a turn ends, to learn whether a follow-up came
(a string) or the session should close (``None``).

``run`` returns an :class:`Outcome` for a clean end and raises for anything
else; cancellation (a stop) must kill the CLI before it propagates.
"""

from __future__ import annotations

import abc
import dataclasses
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol

from fleetnb.errors import HarnessNotFoundError
from fleetnb.events import EventKind

__all__ = [
    "Decision",
    "Harness",
    "LaunchSpec",
    "Outcome",
    "Session",
    "find_binary",
    "stderr_tail",
]


@dataclasses.dataclass(frozen=True, slots=True)
class LaunchSpec:
    """What the user asked for, as the runner reads it back from the store."""

    task: str
    cwd: Path
    model: str | None = None
    binary: str | None = None
    options: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True, slots=True)
class Decision:
    """The answer to one approval request."""

    allow: bool
    reason: str = ""
    by: str = "policy"


@dataclasses.dataclass(frozen=True, slots=True)
class Outcome:
    """How a harness ended on its own terms."""

    status: Literal["done", "failed"] = "done"
    exit_code: int | None = 0
    stderr_tail: str = ""
    error: str = ""


class Session(Protocol):
    """The runner's side of the conversation, as a harness sees it."""

    spec: LaunchSpec

    def emit(self, kind: EventKind, **payload: Any) -> None: ...

    async def request_approval(
        self, tool: str, tool_input: Mapping[str, Any], reason: str = ""
    ) -> Decision: ...

    async def next_message(self) -> str | None: ...

    def resume_id(self) -> str | None: ...


class Harness(abc.ABC):
    """One agent CLI. Subclasses register under ``name`` (entry point group
    ``fleetnb.harnesses``)."""

    name: ClassVar[str]
    demo: ClassVar[bool] = False
    # Seconds an idle session waits for a follow-up before it closes; None
    # leaves the runner's default.
    idle_timeout: ClassVar[float | None] = None

    @abc.abstractmethod
    def preflight(self, spec: LaunchSpec) -> None:
        """Raise :class:`HarnessNotFoundError` if the CLI cannot be started.

        Called in the kernel before anything is written, and again in the runner.
        """

    @abc.abstractmethod
    async def run(self, session: Session) -> Outcome:
        """Drive the agent until its session closes."""


def find_binary(harness: str, command: str, spec: LaunchSpec, hint: str) -> str:
    """Resolve the CLI to run: ``binary=`` from the launch, else ``command`` on PATH."""
    wanted = spec.binary or command
    found = shutil.which(wanted)
    if found is None:
        where = (
            f"{wanted!r} does not exist or is not executable"
            if spec.binary
            else (f"`{command}` was not found on PATH")
        )
        raise HarnessNotFoundError(f"{where}; {hint}", harness=harness, argv=[wanted])
    return found


def stderr_tail(lines: list[str], limit: int = 40) -> str:
    """The last lines a CLI wrote to stderr, for failure events."""
    return "\n".join(lines[-limit:])
