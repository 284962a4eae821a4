"""Agents whose events a test writes straight into the store, without a runner."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import fleetnb
from fleetnb.store import AgentRecord

__all__ = ["Item", "command", "recorded_agent"]

Item = tuple[str, Mapping[str, Any]]


def recorded_agent(
    fleet: fleetnb.Fleet,
    items: Sequence[Item],
    *,
    task: str = "a recorded task",
    finish: bool = True,
) -> fleetnb.Agent:
    """An agent with ``items`` as its events (and a final ``done``), as a Fleet handle."""
    agent_id = uuid.uuid4().hex[:12]
    name = f"rec-{agent_id[:6]}"
    record = AgentRecord(agent_id, name, "claude", "claude-test", task, str(fleet.root),
                         time.time())  # fmt: skip
    fleet.store.create_agent(record, {"task": task, "harness": "claude", "name": name})
    tail: list[Item] = [("agent_finished", {"status": "done", "exit_code": 0})] if finish else []
    if items or tail:
        fleet.store.append_many(agent_id, [*items, *tail])
    return fleet[name]


def command(call_id: str, cmd: str, output: str, exit_code: int = 0) -> list[Item]:
    """A Bash call and its result."""
    return [
        ("tool_call", {"call_id": call_id, "tool": "Bash", "input": {"command": cmd}}),
        ("tool_result", {"call_id": call_id, "output": output, "is_error": exit_code != 0,
                         "exit_code": exit_code}),
    ]  # fmt: skip
