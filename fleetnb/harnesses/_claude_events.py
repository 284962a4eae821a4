"""Claude Code's SDK messages as fleetnb's normalised events.

Facts this relies on (claude-agent-sdk 0.2.189, bundled CLI 2.1.332, checked
against the real CLI):

- Each content block arrives as its own ``AssistantMessage`` carrying the
  provisional ``message_start`` usage, whose ``output_tokens`` is not the final
  count. The final count only travels in the raw ``message_delta`` stream
  event, so the harness asks for partial messages and usage is counted once
  per message id from ``message_start`` plus ``message_delta``.
- Every turn repeats the ``system/init`` message with the same session id.
- ``ResultMessage.total_cost_usd`` is cumulative for the session.
- An API rate limit ends the turn with an error result, ``api_error_status``
  429 and the text "API Error: Request rejected (429) · …"; a subscription
  limit comes as a ``rate_limit_event`` with status ``rejected``, or as the
  text "Claude AI usage limit reached|<epoch>".
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from claude_agent_sdk import (
    AssistantMessage,
    RateLimitEvent,
    RateLimitInfo,
    ResultMessage,
    StreamEvent,
    SystemMessage,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
    UserMessage,
)

from fleetnb.events import EventKind
from fleetnb.harnesses.base import Session

__all__ = ["ClaudeEvents"]

_USAGE_LIMIT = re.compile(r"^(?P<message>.*usage limit reached.*?)\|(?P<resets>\d{9,})\s*$", re.I)


class ClaudeEvents:
    """Turns SDK messages into normalised events for one session."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.session_id: str | None = None
        self._streamed: dict[str, dict[str, Any]] = {}  # message id -> usage so far
        self._counted: set[str] = set()
        self._unstreamed: dict[str, tuple[str, dict[str, Any]]] = {}
        # Subagents stream beside the main thread: one open message per thread.
        self._open: dict[str | None, str] = {}
        self._limited = False

    def handle(self, message: object) -> None:
        if isinstance(message, StreamEvent):
            self._stream_event(message.parent_tool_use_id, message.event)
        elif isinstance(message, AssistantMessage):
            self._assistant(message)
        elif isinstance(message, UserMessage):
            self._user(message)
        elif isinstance(message, ResultMessage):
            self._result(message)
        elif isinstance(message, RateLimitEvent):
            self._rate_limit(message.rate_limit_info)
        elif isinstance(message, SystemMessage) and message.subtype == "init":
            self._init(message.data)

    def bad_line(self, raw: str, error: str) -> None:
        self.session.emit(EventKind.PARSE_ERROR, raw=raw, error=error)

    def _init(self, data: Mapping[str, Any]) -> None:
        session_id = data.get("session_id")
        if session_id and session_id != self.session_id:  # every turn repeats init
            self.session_id = str(session_id)
            self.session.emit(
                EventKind.SESSION_STARTED, session_id=self.session_id, model=data.get("model")
            )

    def _assistant(self, message: AssistantMessage) -> None:
        for block in message.content:
            if isinstance(block, TextBlock) and block.text:
                self.session.emit(EventKind.ASSISTANT_TEXT, text=block.text)
            elif isinstance(block, ToolUseBlock):
                self.session.emit(
                    EventKind.TOOL_CALL, call_id=block.id, tool=block.name, input=block.input
                )
        message_id = message.message_id
        if message_id and message.usage and message_id not in self._streamed:
            # No stream events for it (a CLI that sends none): keep the best figure.
            self._unstreamed[message_id] = (message.model, dict(message.usage))

    def _user(self, message: UserMessage) -> None:
        if isinstance(message.content, str):
            return
        for block in message.content:
            if isinstance(block, ToolResultBlock):
                self.session.emit(
                    EventKind.TOOL_RESULT,
                    call_id=block.tool_use_id,
                    output=_output_text(block.content),
                    is_error=bool(block.is_error),
                )

    def _stream_event(self, thread: str | None, event: Mapping[str, Any]) -> None:
        kind = event.get("type")
        if kind == "message_start":
            start = event.get("message") or {}
            message_id = str(start.get("id") or "")
            if message_id and message_id not in self._counted:
                self._streamed[message_id] = {
                    **(start.get("usage") or {}),
                    "model": start.get("model"),
                }
                self._open[thread] = message_id
        elif kind == "message_delta":
            open_usage = self._streamed.get(self._open.get(thread, ""))
            if open_usage is not None:
                open_usage.update(event.get("usage") or {})  # final counts replace the start's
        elif kind == "message_stop":
            self._count(self._open.pop(thread, ""))

    def _count(self, message_id: str) -> None:
        usage = self._streamed.get(message_id)
        if usage is None or message_id in self._counted:
            return
        self._counted.add(message_id)
        self._unstreamed.pop(message_id, None)
        self._emit_usage(str(usage.get("model") or ""), usage, message_id)

    def _emit_usage(self, model: str, usage: Mapping[str, Any], message_id: str) -> None:
        self.session.emit(
            EventKind.USAGE,
            input_tokens=int(usage.get("input_tokens") or 0),
            output_tokens=int(usage.get("output_tokens") or 0),
            cache_read_tokens=int(usage.get("cache_read_input_tokens") or 0),
            cache_write_tokens=int(usage.get("cache_creation_input_tokens") or 0),
            model=model,
            message_id=message_id,
            synthetic=False,
        )

    def _result(self, message: ResultMessage) -> None:
        for message_id, (model, usage) in self._unstreamed.items():
            # "<synthetic>" marks the CLI's own error messages: no API call was billed.
            if message_id not in self._counted and model != "<synthetic>":
                self._counted.add(message_id)
                self._emit_usage(model, usage, message_id)
        self._unstreamed.clear()
        self.session.emit(
            EventKind.TURN_FINISHED,
            is_error=message.is_error,
            result=message.result,
            session_cost_usd=message.total_cost_usd,
            num_turns=message.num_turns,
            duration_ms=message.duration_ms,
            subtype=message.subtype,
        )
        limit = _limit_of(message)
        if limit is not None and not self._limited:
            self.session.emit(EventKind.LIMIT_HIT, message=limit[0], resets_at=limit[1])
        self._limited = False

    def _rate_limit(self, info: RateLimitInfo) -> None:
        if info.status != "rejected":
            return
        self._limited = True  # the turn's error result then needs no second event
        kind = info.rate_limit_type or "usage"
        self.session.emit(
            EventKind.LIMIT_HIT, message=f"Claude {kind} limit reached", resets_at=info.resets_at
        )


def _limit_of(message: ResultMessage) -> tuple[str, int | None] | None:
    """(message, resets_at) when a turn ended on a rate or usage limit."""
    text = (message.result or "").strip()
    match = _USAGE_LIMIT.match(text)
    if match:
        return match["message"].strip(), int(match["resets"])
    if not message.is_error:
        return None
    if message.api_error_status == 429 or "rate_limit" in text.lower().replace(" ", "_"):
        return text or "rate limited (HTTP 429)", None
    return None


def _output_text(content: Any) -> str:
    """A tool result as one string: text blocks joined, anything else as JSON."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    parts = []
    for block in content:
        if isinstance(block, Mapping) and block.get("type") == "text":
            parts.append(str(block.get("text", "")))
        else:
            parts.append(json.dumps(block, ensure_ascii=False, default=str))
    return "\n".join(parts)
