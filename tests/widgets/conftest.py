"""Fixtures for the widget tests: live widgets on the shared ``fleet`` fixture, closed after."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

import fleetnb
from fleetnb.widgets import ApprovalQueue, FleetTable
from tests.conftest import until

__all__ = ["until"]  # the widget tests import it from here

FAST = {"step_delay": 0.01}


@pytest.fixture(autouse=True)
def settle(fleet: fleetnb.Fleet) -> Iterator[None]:
    """Let agents that were just answered finish their turn before the fleet stops them.

    A stop requested in the middle of a demo turn is only honoured after the runner is
    signalled (about 10 s), while a settled or waiting agent stops at once.
    """
    yield
    for agent in fleet.agents:
        if agent.state not in (fleetnb.State.WAITING, fleetnb.State.STALLED):
            with contextlib.suppress(fleetnb.WaitTimeoutError):
                agent.wait(15)


@pytest.fixture
def table(fleet: fleetnb.Fleet) -> Iterator[FleetTable]:
    widget = FleetTable(fleet, tick=0.2)
    yield widget
    widget.close()


@pytest.fixture
def queue(fleet: fleetnb.Fleet) -> Iterator[ApprovalQueue]:
    widget = ApprovalQueue(fleet, tick=0.2)
    yield widget
    widget.close()


def launch_waiting(
    fleet: fleetnb.Fleet,
    repo: Path,
    task: str = "notes",
    *,
    name: str | None = None,
    approval_timeout: float | None = None,
) -> fleetnb.Agent:
    """A demo agent, which the default policy stops at its ``git add`` approval."""
    return fleet.launch(
        task, harness="demo", cwd=repo, name=name, approval_timeout=approval_timeout, options=FAST
    )
