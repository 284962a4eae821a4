"""A fake Anthropic Messages API on 127.0.0.1, driven by a per-test script.

The real ``claude`` CLI talks to it through ``ANTHROPIC_BASE_URL``. Each agent
turn request (a ``POST /v1/messages`` that offers tools) takes the next reply
from the script: a :class:`ToolUse`, a :class:`Text`, a :class:`Stall` that
holds the connection open, or an :class:`ApiError`. When the script runs out
the fake answers a short default text, so a stray extra turn cannot hang a
test.

The CLI also sends requests of its own that are not agent turns (a quota probe
with ``max_tokens: 1``, title or topic generation without tools, token
counting). They are answered with a plain text and never take a script step;
:attr:`FakeAnthropic.requests` records every request for assertions, and
:attr:`FakeAnthropic.turn_requests` only the agent turns.

Bounded: at most ``max_requests`` requests are answered, bodies are capped, and
a stall ends on :meth:`FakeAnthropic.release`, :meth:`FakeAnthropic.stop` or
after ``stall_timeout`` seconds.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import threading
from collections.abc import Callable, Iterable, Mapping
from http.server import BaseHTTPRequestHandler
from typing import Any, TypeAlias
from urllib.parse import parse_qs, urlsplit

from tests.fakes._server import LoopbackServer

__all__ = [
    "ApiError",
    "FakeAnthropic",
    "FakeUsage",
    "RecordedRequest",
    "Reply",
    "Stall",
    "Text",
    "ToolUse",
]

DEFAULT_TEXT = "Done."
_MAX_BODY = 8 * 1024 * 1024
_LOGGED_HEADERS = (
    "anthropic-beta",
    "anthropic-version",
    "content-type",
    "user-agent",
    "x-api-key",
    "authorization",
    "x-app",
)
_ids = itertools.count(1)


@dataclasses.dataclass(frozen=True, slots=True)
class FakeUsage:
    """The usage numbers one reply reports, as the Messages API names them."""

    input_tokens: int = 100
    output_tokens: int = 20
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0

    def start_dict(self) -> dict[str, int]:
        # message_start carries the input side and a provisional output count,
        # as the real API does; message_delta brings the final output count.
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": 1,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
        }

    def final_dict(self) -> dict[str, int]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
        }


@dataclasses.dataclass(frozen=True, slots=True)
class Text:
    """A final assistant message with one text block."""

    text: str = DEFAULT_TEXT
    usage: FakeUsage = FakeUsage()


@dataclasses.dataclass(frozen=True, slots=True)
class ToolUse:
    """An assistant message that calls one tool, after an optional text block."""

    name: str
    input: Mapping[str, Any]
    preamble: str = ""
    usage: FakeUsage = FakeUsage()
    id: str = dataclasses.field(default_factory=lambda: f"toolu_fake{next(_ids):04d}")


@dataclasses.dataclass(frozen=True, slots=True)
class Stall:
    """Hold the connection open without a byte of answer until released."""


@dataclasses.dataclass(frozen=True, slots=True)
class ApiError:
    """An HTTP error answer in the API's error shape (e.g. 429 rate_limit_error)."""

    status: int = 429
    type: str = "rate_limit_error"
    message: str = "Rate limited"
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)


Reply: TypeAlias = Text | ToolUse | Stall | ApiError


@dataclasses.dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the fake received."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    body: Any
    turn: bool  # True when it took (or would take) a script step

    @property
    def user_texts(self) -> list[str]:
        """Every text the request's user messages carry, oldest first."""
        texts: list[str] = []
        for message in (self.body or {}).get("messages", []):
            if message.get("role") != "user":
                continue
            content = message.get("content")
            blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
            texts.extend(b.get("text", "") for b in blocks or [] if b.get("type") == "text")
        return texts

    @property
    def tool_results(self) -> list[dict[str, Any]]:
        """Every tool_result block the request carries, oldest first."""
        return [
            block
            for message in (self.body or {}).get("messages", [])
            if isinstance(message.get("content"), list)
            for block in message["content"]
            if block.get("type") == "tool_result"
        ]


class FakeAnthropic(LoopbackServer):
    """The fake server; use as a context manager or call start() and stop()."""

    thread_name = "fake-anthropic"

    def __init__(
        self,
        script: Iterable[Reply] = (),
        *,
        model: str | None = None,
        max_requests: int = 500,
        stall_timeout: float = 120.0,
    ) -> None:
        super().__init__()
        self._script = list(script)
        self.model = model
        self.max_requests = max_requests
        self.stall_timeout = stall_timeout
        self.requests: list[RecordedRequest] = []
        self._cond = threading.Condition()

    # -- lifecycle ---------------------------------------------------------------

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return type("_BoundHandler", (_Handler,), {"fake": self})

    @property
    def url(self) -> str:
        return self.origin

    # -- script ----------------------------------------------------------------

    def add(self, *replies: Reply) -> None:
        """Append replies to the script (e.g. before a follow-up turn)."""
        with self._cond:
            self._script.extend(replies)

    @property
    def turn_requests(self) -> list[RecordedRequest]:
        with self._cond:
            return [r for r in self.requests if r.turn]

    def wait_for(
        self, predicate: Callable[[RecordedRequest], bool], timeout: float = 30.0
    ) -> RecordedRequest:
        """Block until a request matching ``predicate`` has arrived."""
        with self._cond:
            found = self._cond.wait_for(
                lambda: next((r for r in self.requests if predicate(r)), None), timeout
            )
        if found is None:
            raise TimeoutError(f"no matching request within {timeout} s")
        return found

    def _record(self, request: RecordedRequest) -> Reply | None:
        with self._cond:
            self.requests.append(request)
            self._cond.notify_all()
            if not request.turn:
                return None
            return self._script.pop(0) if self._script else Text()


def _is_turn(path: str, body: Any) -> bool:
    """An agent turn offers tools; the CLI's own side requests do not."""
    if not path.startswith("/v1/messages") or path.startswith("/v1/messages/"):
        return False
    return isinstance(body, dict) and bool(body.get("tools"))


class _Handler(BaseHTTPRequestHandler):
    fake: FakeAnthropic
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the requests are recorded, not printed."""

    def do_HEAD(self) -> None:
        # The CLI probes the base URL with HEAD / before its first request.
        split = urlsplit(self.path)
        headers = {k: v for k, v in self.headers.items() if k.lower() in _LOGGED_HEADERS}
        self.fake._record(RecordedRequest("HEAD", split.path, {}, headers, None, turn=False))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        self._send_json(404, {"type": "error", "error": {"type": "not_found_error"}})

    def do_POST(self) -> None:
        if len(self.fake.requests) >= self.fake.max_requests:
            self._send_json(503, _error("overloaded_error", "fake request budget exhausted"))
            return
        split = urlsplit(self.path)
        body = self._read_body()
        request = RecordedRequest(
            method="POST",
            path=split.path,
            query=parse_qs(split.query),
            headers={k: v for k, v in self.headers.items() if k.lower() in _LOGGED_HEADERS},
            body=body,
            turn=_is_turn(split.path, body),
        )
        reply = self.fake._record(request)
        self._answer(split.path, body, reply)

    def _read_body(self) -> Any:
        length = min(int(self.headers.get("Content-Length") or 0), _MAX_BODY)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return {"_unparsed": raw.decode("utf-8", "replace")}

    def _answer(self, path: str, body: Any, reply: Reply | None) -> None:
        if path.endswith("/count_tokens"):
            self._send_json(200, {"input_tokens": 100})
            return
        if not path.startswith("/v1/messages"):
            self._send_json(404, _error("not_found_error", f"no route {path}"))
            return
        reply = reply if reply is not None else Text("Fake side answer.", FakeUsage(10, 5))
        if isinstance(reply, Stall):
            self._stall()
            return
        if isinstance(reply, ApiError):
            self._send_json(reply.status, _error(reply.type, reply.message), reply.headers)
            return
        model = self.fake.model or str((body or {}).get("model") or "claude-fake")
        message = _message(reply, model)
        if (body or {}).get("stream"):
            self._send_stream(message, reply.usage)
        else:
            self._send_json(200, {**message, "usage": reply.usage.final_dict()})

    def _stall(self) -> None:
        # Bounded so an abandoned test cannot pin a thread forever.
        self.fake._released.wait(self.fake.stall_timeout)
        self._send_json(529, _error("overloaded_error", "stall released"))

    def _send_json(self, status: int, obj: Any, headers: Mapping[str, str] | None = None) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self._write(data)

    def _send_stream(self, message: dict[str, Any], usage: FakeUsage) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        for event in _sse_events(message, usage):
            frame = f"event: {event['type']}\ndata: {json.dumps(event)}\n\n"
            if not self._write(frame.encode()):
                return

    def _write(self, data: bytes) -> bool:
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:  # the CLI hung up (stopped or killed); nothing to tell
            return False
        return True


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}


def _message(reply: Text | ToolUse, model: str) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if isinstance(reply, Text):
        content.append({"type": "text", "text": reply.text})
        stop_reason = "end_turn"
    else:
        if reply.preamble:
            content.append({"type": "text", "text": reply.preamble})
        content.append(
            {"type": "tool_use", "id": reply.id, "name": reply.name, "input": dict(reply.input)}
        )
        stop_reason = "tool_use"
    return {
        "id": f"msg_fake{next(_ids):04d}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
    }


def _sse_events(message: dict[str, Any], usage: FakeUsage) -> list[dict[str, Any]]:
    start = {**message, "content": [], "stop_reason": None, "usage": usage.start_dict()}
    events: list[dict[str, Any]] = [{"type": "message_start", "message": start}]
    for index, block in enumerate(message["content"]):
        events.extend(_block_events(index, block))
    events.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
            "usage": {"output_tokens": usage.output_tokens},
        }
    )
    events.append({"type": "message_stop"})
    return events


def _block_events(index: int, block: dict[str, Any]) -> list[dict[str, Any]]:
    empty: dict[str, Any]
    if block["type"] == "text":
        empty = {"type": "text", "text": ""}
        delta = {"type": "text_delta", "text": block["text"]}
    else:
        empty = {**block, "input": {}}
        delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
    return [
        {"type": "content_block_start", "index": index, "content_block": empty},
        {"type": "content_block_delta", "index": index, "delta": delta},
        {"type": "content_block_stop", "index": index},
    ]
