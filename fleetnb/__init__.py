"""fleetnb: a Jupyter-native control plane for running several AI coding agents at once."""

from __future__ import annotations

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
