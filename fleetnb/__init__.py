"""fleetnb: a Jupyter-native control plane for running several AI coding agents at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fleetnb._lazy import lazy_exports

if TYPE_CHECKING:
    from fleetnb.agent import Agent
    from fleetnb.errors import (
        AgentNotFoundError,
        AgentNotRunningError,
        AgentRunningError,
        ApprovalError,
        BadWorkingDirectoryError,
        BudgetError,
        FleetError,
        HarnessNotFoundError,
        LaunchError,
        ResumeError,
        StoreError,
        UnknownHarnessError,
        WaitTimeoutError,
        WorktreeError,
    )
    from fleetnb.events import Event, EventKind, State, Usage
    from fleetnb.fleet import Fleet

_EXPORTS = {
    "Agent": "fleetnb.agent",
    "AgentNotFoundError": "fleetnb.errors",
    "AgentNotRunningError": "fleetnb.errors",
    "AgentRunningError": "fleetnb.errors",
    "ApprovalError": "fleetnb.errors",
    "BadWorkingDirectoryError": "fleetnb.errors",
    "BudgetError": "fleetnb.errors",
    "Event": "fleetnb.events",
    "EventKind": "fleetnb.events",
    "Fleet": "fleetnb.fleet",
    "FleetError": "fleetnb.errors",
    "HarnessNotFoundError": "fleetnb.errors",
    "LaunchError": "fleetnb.errors",
    "ResumeError": "fleetnb.errors",
    "State": "fleetnb.events",
    "StoreError": "fleetnb.errors",
    "UnknownHarnessError": "fleetnb.errors",
    "Usage": "fleetnb.events",
    "WaitTimeoutError": "fleetnb.errors",
    "WorktreeError": "fleetnb.errors",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "Agent",
    "AgentNotFoundError",
    "AgentNotRunningError",
    "AgentRunningError",
    "ApprovalError",
    "BadWorkingDirectoryError",
    "BudgetError",
    "Event",
    "EventKind",
    "Fleet",
    "FleetError",
    "HarnessNotFoundError",
    "LaunchError",
    "ResumeError",
    "State",
    "StoreError",
    "UnknownHarnessError",
    "Usage",
    "WaitTimeoutError",
    "WorktreeError",
]

__version__ = "0.1.0"
