"""Translating ``codex app-server`` items and counters into fleetnb event payloads.

Pure functions, no I/O: :mod:`fleetnb.harnesses.codex` feeds them the
``item/started`` and ``item/completed`` items, token totals and error infos
it reads from the server.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shlex
from collections.abc import Mapping
from typing import Any

__all__ = [
    "COUNTERS",
    "RAW_LIMIT",
    "Tool",
    "is_limit",
    "tool_of",
    "tool_result",
    "unwrap_command",
    "usage_payload",
]

RAW_LIMIT = 10_000  # characters of a raw line or tool output kept in one event
# The cumulative counters of thread/tokenUsage/updated, as the server names them.
COUNTERS = (
    "inputTokens",
    "cachedInputTokens",
    "cacheWriteInputTokens",
    "outputTokens",
    "reasoningOutputTokens",
)
_LIMIT_CODES = frozenset({"usageLimitExceeded", "rateLimitExceeded", "sessionBudgetExceeded"})


@dataclasses.dataclass(frozen=True, slots=True)
class Tool:
    """A tool call as fleetnb records it: the tool's name and its input."""

    name: str
    input: Mapping[str, Any]


def tool_of(item: Mapping[str, Any]) -> Tool | None:
    """The tool call an item stands for; None for items that are not tool calls."""
    kind = item.get("type")
    if kind == "commandExecution":
        return Tool(
            "shell", {"command": unwrap_command(str(item["command"])), "cwd": item.get("cwd")}
        )
    if kind == "fileChange":
        changes = [
            {"path": c.get("path"), "kind": _change_kind(c), "diff": c.get("diff")}
            for c in item.get("changes") or ()
        ]
        return Tool("apply_patch", {"paths": [c["path"] for c in changes], "changes": changes})
    if kind == "mcpToolCall":
        return Tool(f"mcp__{item.get('server')}__{item.get('tool')}", _as_input(item))
    if kind == "dynamicToolCall":
        return Tool(str(item.get("tool")), _as_input(item))
    if kind == "webSearch":
        return Tool("web_search", {"query": item.get("query")})
    return None


def _as_input(item: Mapping[str, Any]) -> Mapping[str, Any]:
    arguments = item.get("arguments")
    return arguments if isinstance(arguments, dict) else {"arguments": arguments}


def tool_result(item: Mapping[str, Any]) -> dict[str, Any]:
    """The ``tool_result`` payload of a completed tool item."""
    status = str(item.get("status"))
    exit_code = item.get("exitCode")
    is_error = status in ("failed", "declined") or exit_code not in (None, 0)
    return {
        "call_id": str(item.get("id")),
        "output": _output_of(item, status),
        "is_error": is_error,
        "status": status,
        "exit_code": exit_code,
    }


def _output_of(item: Mapping[str, Any], status: str) -> str:
    kind = item.get("type")
    if status == "declined":
        return "declined"
    if kind == "commandExecution":
        return str(item.get("aggregatedOutput") or "")
    if kind == "fileChange":
        changes = item.get("changes") or ()
        return "\n".join(f"{_change_kind(c)} {c.get('path')}" for c in changes)
    for key in ("error", "result", "contentItems"):
        if item.get(key) is not None:
            return json.dumps(item[key], ensure_ascii=False)[:RAW_LIMIT]
    return ""


def _change_kind(change: Mapping[str, Any]) -> Any:
    kind = change.get("kind")
    return kind.get("type") if isinstance(kind, dict) else kind


def unwrap_command(command: str) -> str:
    """codex reports ``/bin/bash -lc '<script>'``; a person wants the script."""
    try:
        argv = shlex.split(command)
    except ValueError:
        return command
    shells = ("bash", "sh", "zsh", "dash")
    if len(argv) == 3 and os.path.basename(argv[0]) in shells and argv[1] in ("-c", "-lc"):
        return argv[2]
    return command


def usage_payload(delta: Mapping[str, int], model: str | None) -> dict[str, Any]:
    """A ``usage`` payload in fleetnb's convention: input without cache reads and writes."""
    cached, written = delta["cachedInputTokens"], delta["cacheWriteInputTokens"]
    return {
        "input_tokens": max(0, delta["inputTokens"] - cached - written),
        "output_tokens": delta["outputTokens"],
        "cache_read_tokens": cached,
        "cache_write_tokens": written,
        "reasoning_output_tokens": delta["reasoningOutputTokens"],  # part of output_tokens
        "model": model,
    }


def is_limit(info: Any) -> bool:
    """Whether a ``codexErrorInfo`` says a rate or usage limit was hit."""
    if isinstance(info, str):
        return info in _LIMIT_CODES
    if isinstance(info, dict):  # {"responseTooManyFailedAttempts": {"httpStatusCode": 429}}
        return any(isinstance(v, dict) and v.get("httpStatusCode") == 429 for v in info.values())
    return False
