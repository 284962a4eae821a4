"""fleetnb: a Jupyter-native control plane for running several AI coding agents at once."""

from __future__ import annotations

from fleetnb.agent import Agent
from fleetnb.errors import (
    AgentNotFoundError,
    AgentNotRunningError,
    ApprovalError,
    BadWorkingDirectoryError,
    FleetError,
    HarnessNotFoundError,
    LaunchError,
    StoreError,
    UnknownHarnessError,
    WaitTimeoutError,
)
from fleetnb.events import Event, EventKind, State, Usage
from fleetnb.fleet import Fleet

__all__ = [
    "Agent",
    "AgentNotFoundError",
    "AgentNotRunningError",
    "ApprovalError",
    "BadWorkingDirectoryError",
    "Event",
    "EventKind",
    "Fleet",
    "FleetError",
    "HarnessNotFoundError",
    "LaunchError",
    "State",
    "StoreError",
    "UnknownHarnessError",
    "Usage",
    "WaitTimeoutError",
]

__version__ = "0.1.0"
