"""Approval requests as the queue shows them: what the agent wants, pretty and truncated.

A request's input is whatever the harness's tool takes. The queue shows the
command of a shell call, the path and content of a write, a unified diff of an
edit, and indented JSON for anything else, each cut to a screenful so a huge
file cannot flood the notebook.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from fleetnb.approvals.queue import ApprovalRequest
from fleetnb.events import Event
from fleetnb.widgets._fold import AgentFold

__all__ = ["request_of", "request_of_api", "request_view", "shorten_block"]

_MAX_LINES = 40
_MAX_CHARS = 4000
_COMMAND_KEYS = ("command", "cmd")
_PATH_KEYS = ("file_path", "path", "notebook_path")


def request_of(agent: AgentFold, event: Event) -> dict[str, Any]:
    """The queue's view of one ``approval_requested`` event."""
    payload = event.payload
    return request_view(
        request_id=str(payload.get("request_id")),
        agent=agent.record.name,
        agent_id=agent.record.id,
        tool=str(payload.get("tool", "")),
        tool_input=payload.get("input") or {},
        risk=str(payload.get("risk") or "medium"),
        reason=str(payload.get("reason") or ""),
        rule=str(payload.get("rule") or ""),
        risk_reasons=[str(r) for r in payload.get("risk_reasons") or ()],
        requested_ts=event.ts,
    )


def request_of_api(request: ApprovalRequest) -> dict[str, Any]:
    """The same view of an :class:`ApprovalRequest` from ``fleet.approvals``."""
    return request_view(
        request_id=request.id,
        agent=request.agent.name,
        agent_id=request.agent.id,
        tool=request.tool,
        tool_input=request.input,
        risk=request.risk,
        reason=request.reason,
        rule=request.rule,
        risk_reasons=list(request.risk_reasons),
        requested_ts=request.requested_at.timestamp(),
    )


def request_view(
    *,
    request_id: str,
    agent: str,
    agent_id: str,
    tool: str,
    tool_input: Mapping[str, Any],
    risk: str,
    reason: str,
    rule: str,
    risk_reasons: list[str],
    requested_ts: float,
) -> dict[str, Any]:
    command, path, body, body_kind = _describe(tool_input)
    return {
        "id": request_id,
        "agent": agent,
        "agent_id": agent_id,
        "tool": tool,
        "risk": risk,
        "reason": reason,
        "rule": rule,
        "risk_reasons": risk_reasons[:5],
        "requested_ts": requested_ts,
        "requested_at": datetime.fromtimestamp(requested_ts, UTC).isoformat(timespec="seconds"),
        "command": command,
        "path": path,
        "body": body,
        "body_kind": body_kind,
        "error": "",
        "stale": False,
    }


def _describe(tool_input: Mapping[str, Any]) -> tuple[str, str, str, str]:
    """(command, path, body, body_kind) of a tool's input."""
    command = next((str(tool_input[k]) for k in _COMMAND_KEYS if k in tool_input), "")
    if isinstance(tool_input.get("command"), list):
        command = " ".join(str(part) for part in tool_input["command"])
    path = next((str(tool_input[k]) for k in _PATH_KEYS if k in tool_input), "")
    if "old_string" in tool_input or "new_string" in tool_input:
        return command, path, shorten_block(_diff(tool_input, path)), "diff"
    if "content" in tool_input:
        return command, path, shorten_block(str(tool_input["content"])), "content"
    if command or path:
        return shorten_block(command, _MAX_LINES), path, "", ""
    text = json.dumps(dict(tool_input), indent=2, ensure_ascii=False, default=str)
    return "", "", shorten_block(text), "input"


def _diff(tool_input: Mapping[str, Any], path: str) -> str:
    old = str(tool_input.get("old_string", "")).splitlines(keepends=True)
    new = str(tool_input.get("new_string", "")).splitlines(keepends=True)
    name = path or "file"
    return "".join(difflib.unified_diff(old, new, f"a/{name}", f"b/{name}", n=2))


def shorten_block(text: str, max_lines: int = _MAX_LINES, max_chars: int = _MAX_CHARS) -> str:
    """At most ``max_lines`` lines and ``max_chars`` characters, saying how much was cut."""
    whole = "\n".join(text.splitlines())
    kept = "\n".join(whole.split("\n")[:max_lines])[:max_chars]
    if kept == whole:
        return kept
    return f"{kept}\n… (cut: {len(kept)} of {len(whole)} characters shown)"
