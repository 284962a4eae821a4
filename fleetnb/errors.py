"""Errors raised by fleetnb.

The hierarchy::

    FleetError
    ├── LaunchError               an agent could not be started
    │   ├── UnknownHarnessError   no harness registered under that name
    │   ├── HarnessNotFoundError  the harness's CLI binary or package is missing
    │   └── BadWorkingDirectoryError  cwd does not exist or is not a directory
    ├── AgentNotFoundError        no agent with that name or id in the store
    ├── AgentNotRunningError      the agent's runner has ended; it cannot take input
    ├── AgentRunningError         the agent is still running; it cannot be resumed or merged yet
    ├── ResumeError               a finished agent has no session to resume
    ├── WorktreeError             a git worktree step failed (a merge conflict names the files)
    ├── WaitTimeoutError          an agent did not settle within the time given
    ├── ApprovalError             an approval cannot be decided (already decided, unknown)
    ├── PolicyError               an approval policy is malformed (names the line)
    ├── BudgetError               a budget is not a positive number of dollars, or is spent
    ├── PriceOverrideError        a price override file is malformed (names the model and field)
    └── StoreError                the event store cannot be opened or written

Every message says the cause and what to do about it.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "AgentNotFoundError",
    "AgentNotRunningError",
    "AgentRunningError",
    "ApprovalError",
    "BadWorkingDirectoryError",
    "BudgetError",
    "FleetError",
    "HarnessNotFoundError",
    "LaunchError",
    "PolicyError",
    "PriceOverrideError",
    "ResumeError",
    "StoreError",
    "UnknownHarnessError",
    "WaitTimeoutError",
    "WorktreeError",
]


class FleetError(Exception):
    """Base class of every error fleetnb raises on purpose."""


class LaunchError(FleetError):
    """An agent could not be started; carries what was tried."""

    def __init__(
        self,
        message: str,
        *,
        harness: str | None = None,
        argv: Sequence[str] = (),
        returncode: int | None = None,
        stderr_tail: str = "",
    ) -> None:
        super().__init__(message)
        self.harness = harness
        self.argv = list(argv)
        self.returncode = returncode
        self.stderr_tail = stderr_tail


class UnknownHarnessError(LaunchError):
    """No harness is registered under the requested name."""


class HarnessNotFoundError(LaunchError):
    """The CLI binary or Python package a harness drives is not installed."""


class BadWorkingDirectoryError(LaunchError):
    """The working directory given for an agent is unusable."""


class AgentNotFoundError(FleetError, KeyError):
    """No agent matches the given name or id."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class AgentNotRunningError(FleetError):
    """The agent's runner has ended, so it cannot take a message or a stop."""


class AgentRunningError(FleetError):
    """The agent has not finished, so it cannot be resumed, merged or discarded yet."""


class ResumeError(FleetError):
    """The agent cannot be resumed: it never reported a session id."""


class WorktreeError(FleetError):
    """A git step on an agent's worktree failed; nothing was lost.

    ``files`` names the conflicting paths when a merge conflicted.
    """

    def __init__(self, message: str, *, files: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.files = list(files)


class ApprovalError(FleetError):
    """An approval request cannot be decided as asked."""


class PolicyError(FleetError, ValueError):
    """An approval policy or policy file is malformed."""


class PriceOverrideError(FleetError, ValueError):
    """A price override TOML is malformed: the message names the model and field."""


class BudgetError(FleetError, ValueError):
    """A budget is not a positive, finite number of dollars, or it is already spent.

    ``scope`` is "agent" or "fleet"; ``budget_usd`` and ``spent_usd`` are set when
    a spent budget refused a launch or a resume.
    """

    def __init__(
        self,
        message: str,
        *,
        scope: str = "agent",
        budget_usd: float | None = None,
        spent_usd: float | None = None,
    ) -> None:
        super().__init__(message)
        self.scope = scope
        self.budget_usd = budget_usd
        self.spent_usd = spent_usd


class StoreError(FleetError):
    """The event store cannot be opened or written."""


class WaitTimeoutError(FleetError, TimeoutError):
    """An agent did not reach the awaited state in time; it keeps running."""
