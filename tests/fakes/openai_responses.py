"""A fake OpenAI Responses API on 127.0.0.1, driven by a per-test script.

The real ``codex`` CLI reaches it through a custom model provider in
``$CODEX_HOME/config.toml`` (:func:`write_codex_home` writes one). Every
``POST /v1/responses`` takes the next reply from the script and answers it as
server-sent events::

    response.created → response.output_item.added → response.output_item.done
    → response.completed (with usage)

A :class:`Shell` reply calls codex's shell tool with a command (whichever of
``exec_command``, ``shell_command`` or ``shell`` the request offers), a
:class:`Text` reply ends the turn with a message, a :class:`Stall` starts a
response and holds the connection open without finishing it, and an
:class:`HttpError` answers an API error instead (a 429 ``usage_limit_reached``,
say). When the script runs out the fake answers a short default text, so a
stray extra request cannot hang a test.

codex 0.171.0 with a custom provider calls nothing but ``POST /v1/responses``
(checked by logging); ``GET .../models`` still answers an empty model list and
anything else is a logged 404.

Bounded: at most ``max_requests`` requests are answered, bodies are capped, and
a stall ends on :meth:`FakeResponses.release`, :meth:`FakeResponses.stop` or
after ``stall_timeout`` seconds.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import threading
from collections.abc import Iterable, Mapping
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, TypeAlias
from urllib.parse import urlsplit

from tests.fakes._server import LoopbackServer

__all__ = [
    "API_KEY_ENV",
    "DEFAULT_TEXT",
    "PROVIDER_ID",
    "FakeResponses",
    "FakeUsage",
    "HttpError",
    "RecordedRequest",
    "Reply",
    "Shell",
    "Stall",
    "Text",
    "write_codex_home",
]

DEFAULT_TEXT = "Done."
PROVIDER_ID = "fake"
API_KEY_ENV = "FAKE_OPENAI_API_KEY"
_MAX_BODY = 8 * 1024 * 1024
_ids = itertools.count(1)


@dataclasses.dataclass(frozen=True, slots=True)
class FakeUsage:
    """One reply's usage, as the Responses API reports it.

    ``input_tokens`` *includes* ``cached_tokens``, as OpenAI counts them.
    """

    input_tokens: int = 100
    cached_tokens: int = 0
    output_tokens: int = 20

    def to_dict(self) -> dict[str, Any]:
        return {
            "input_tokens": self.input_tokens,
            "input_tokens_details": {"cached_tokens": self.cached_tokens},
            "output_tokens": self.output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": self.input_tokens + self.output_tokens,
        }


@dataclasses.dataclass(frozen=True, slots=True)
class Text:
    """A final assistant message."""

    text: str = DEFAULT_TEXT
    usage: FakeUsage = FakeUsage()


@dataclasses.dataclass(frozen=True, slots=True)
class Shell:
    """A call of codex's shell tool with one command line."""

    command: str
    usage: FakeUsage = FakeUsage()
    # Ask to run outside codex's sandbox, as a model does for a write or network
    # use; under approvalPolicy "on-request" that is what makes codex ask.
    escalate: bool = False
    justification: str = "the task needs this command"
    call_id: str = dataclasses.field(default_factory=lambda: f"call_fake{next(_ids):04d}")


@dataclasses.dataclass(frozen=True, slots=True)
class Stall:
    """Start a response, then hold the connection open until released."""


@dataclasses.dataclass(frozen=True, slots=True)
class HttpError:
    """An HTTP error answer in the API's error shape (e.g. a 429 usage limit)."""

    status: int = 429
    type: str = "usage_limit_reached"
    message: str = "You've hit your usage limit."
    resets_at: int | None = None

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.resets_at is not None:
            error["resets_at"] = self.resets_at
        return {"error": error}


Reply: TypeAlias = Text | Shell | Stall | HttpError


@dataclasses.dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the fake received."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: Any  # the parsed JSON body, or None

    @property
    def input_items(self) -> list[Mapping[str, Any]]:
        """The conversation items a Responses request carries (its history)."""
        items = self.body.get("input") if isinstance(self.body, Mapping) else None
        return list(items) if isinstance(items, list) else []


class FakeResponses(LoopbackServer):
    """The fake server; use as a context manager or call start()/stop()."""

    thread_name = "fake-openai-responses"

    def __init__(
        self,
        script: Iterable[Reply] = (),
        *,
        max_requests: int = 200,
        stall_timeout: float = 60.0,
    ) -> None:
        super().__init__()
        self.requests: list[RecordedRequest] = []
        self.max_requests = max_requests
        self.stall_timeout = stall_timeout
        self._script = list(script)
        self._lock = threading.Lock()
        self.stalled = threading.Event()  # set once a Stall reply is holding a connection

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    # -- reading -----------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The provider ``base_url`` for codex: requests go to ``{base_url}/responses``."""
        return f"{self.origin}/v1"

    @property
    def responses_requests(self) -> list[RecordedRequest]:
        """Only the model turns (``POST /v1/responses``)."""
        with self._lock:
            return [r for r in self.requests if r.method == "POST" and _is_responses(r.path)]

    def add(self, *replies: Reply) -> None:
        with self._lock:
            self._script.extend(replies)

    # -- serving (called from handler threads) ----------------------------------

    def _record(self, request: RecordedRequest) -> bool:
        with self._lock:
            self.requests.append(request)
            return len(self.requests) <= self.max_requests

    def _next_reply(self) -> Reply:
        with self._lock:
            return self._script.pop(0) if self._script else Text()

    def _hold(self) -> None:
        self.stalled.set()
        self._released.wait(self.stall_timeout)


def write_codex_home(codex_home: Path, base_url: str, model: str = "gpt-5.1-codex") -> Path:
    """Write a ``config.toml`` that points codex at ``base_url``; returns its path.

    Retries are off so a failing or stalled fake shows at once instead of after
    codex's backoff; the API key is read from :data:`API_KEY_ENV`.
    """
    codex_home.mkdir(parents=True, exist_ok=True)
    config = codex_home / "config.toml"
    config.write_text(
        f'model = "{model}"\n'
        f'model_provider = "{PROVIDER_ID}"\n'
        "\n"
        f"[model_providers.{PROVIDER_ID}]\n"
        'name = "fake responses"\n'
        f'base_url = "{base_url}"\n'
        f'env_key = "{API_KEY_ENV}"\n'
        'wire_api = "responses"\n'
        "request_max_retries = 0\n"
        "stream_max_retries = 0\n",
        encoding="utf-8",
    )
    return config


# -- the HTTP side ----------------------------------------------------------------


def _is_responses(path: str) -> bool:
    return urlsplit(path).path.rstrip("/").endswith("/responses")


def _handler_for(fake: FakeResponses) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        owner = fake

    return Handler


class _Handler(BaseHTTPRequestHandler):
    owner: FakeResponses

    def log_message(self, format: str, *args: Any) -> None:
        """Requests are recorded on the fake; stderr stays quiet."""

    def do_GET(self) -> None:
        if not self.owner._record(self._recorded(None)):
            self._json(429, {"error": {"message": "fake request budget spent"}})
        elif urlsplit(self.path).path.rstrip("/").endswith("/models"):
            self._json(200, {"object": "list", "data": [], "models": []})
        else:
            self._json(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self) -> None:
        length = min(int(self.headers.get("Content-Length") or 0), _MAX_BODY)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = {"unparsed": raw[:2000].decode("utf-8", "replace")}
        if not self.owner._record(self._recorded(body)):
            self._json(429, {"error": {"message": "fake request budget spent"}})
        elif _is_responses(self.path):
            self._respond(self.owner._next_reply(), body)
        else:
            self._json(404, {"error": {"message": f"no route {self.path}"}})

    def _recorded(self, body: Any) -> RecordedRequest:
        headers = {key.lower(): value for key, value in self.headers.items()}
        return RecordedRequest(self.command, self.path, headers, body)

    def _json(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _respond(self, reply: Reply, body: Any) -> None:
        if isinstance(reply, HttpError):
            self._json(reply.status, reply.body())
            return
        model = body.get("model", "fake") if isinstance(body, Mapping) else "fake"
        response_id = f"resp_fake{next(_ids):04d}"
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        shell = {"id": response_id, "object": "response", "model": model, "status": "in_progress"}
        self._event("response.created", {"response": shell})
        if isinstance(reply, Stall):
            self.owner._hold()
            return  # closing without response.completed: codex sees a broken stream
        item = _output_item(reply, _shell_tool(body))
        self._event("response.output_item.added", {"output_index": 0, "item": item})
        self._event("response.output_item.done", {"output_index": 0, "item": item})
        done = {**shell, "status": "completed", "output": [item], "usage": reply.usage.to_dict()}
        self._event("response.completed", {"response": done})

    def _event(self, name: str, data: Mapping[str, Any]) -> None:
        payload = json.dumps({"type": name, **data})
        try:
            self.wfile.write(f"event: {name}\ndata: {payload}\n\n".encode())
            self.wfile.flush()
        except OSError:
            pass  # codex hung up (a stop); nothing more to say


def _output_item(reply: Text | Shell, tool: str) -> dict[str, Any]:
    item_id = f"item_fake{next(_ids):04d}"
    if isinstance(reply, Text):
        return {
            "type": "message",
            "id": item_id,
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": reply.text, "annotations": []}],
        }
    return {
        "type": "function_call",
        "id": item_id,
        "call_id": reply.call_id,
        "name": tool,
        "arguments": json.dumps(_shell_arguments(tool, reply)),
        "status": "completed",
    }


# codex offers one of these depending on model and features; the fake calls
# whichever the request lists, so the script does not depend on that choice.
_SHELL_TOOLS = ("shell_command", "shell", "exec_command")


def _shell_tool(body: Any) -> str:
    tools = body.get("tools") if isinstance(body, Mapping) else None
    names = {t.get("name") for t in tools or () if isinstance(t, Mapping)}
    return next((name for name in _SHELL_TOOLS if name in names), "shell_command")


def _shell_arguments(tool: str, reply: Shell) -> dict[str, Any]:
    arguments: dict[str, Any]
    if tool == "shell":
        arguments = {"command": ["bash", "-lc", reply.command]}
    elif tool == "exec_command":
        arguments = {"cmd": reply.command}
    else:
        arguments = {"command": reply.command}
    if reply.escalate:
        arguments["sandbox_permissions"] = "require_escalated"
        arguments["justification"] = reply.justification
    return arguments
