"""Waiting on the queue: poll the store until requests arrive (no fixed sleeps)."""

from __future__ import annotations

import time

import fleetnb
from fleetnb.approvals.queue import ApprovalRequest


def wait_pending(
    fleet: fleetnb.Fleet, count: int = 1, timeout: float = 90
) -> list[ApprovalRequest]:
    """At least ``count`` pending requests, oldest first."""
    deadline = time.monotonic() + timeout
    while len(pending := fleet.approvals) < count:
        assert time.monotonic() < deadline, f"only {len(pending)} requests are pending"
        time.sleep(0.05)
    return pending


def the_one_pending(fleet: fleetnb.Fleet, timeout: float = 90) -> ApprovalRequest:
    (request,) = wait_pending(fleet, 1, timeout)
    return request
