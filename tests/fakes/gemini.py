"""A fake Gemini API (``streamGenerateContent``) on 127.0.0.1, driven by a per-test script.

The real ``gemini`` CLI reaches it through ``GOOGLE_GEMINI_BASE_URL`` with an
API key and the ``gemini-api-key`` auth type in ``$HOME/.gemini/settings.json``
(:func:`write_gemini_home` writes one, :func:`gemini_env` the environment).
Every agent turn is a
``POST /v1beta/models/<model>:streamGenerateContent?alt=sse``; it takes the
next reply from the script and answers it as server-sent events, one
``GenerateContentResponse`` per ``data:`` line, the last one carrying the
finish reason and the final ``usageMetadata`` (the CLI keeps the last usage it
sees). A :class:`FunctionCall` reply calls one of the CLI's tools, a
:class:`Text` reply ends the turn, a :class:`Stall` holds the connection open,
and an :class:`HttpError` answers a Google API error instead (a 429
``RESOURCE_EXHAUSTED``, say). When the script runs out the fake answers a
short default text, so a stray extra turn cannot hang a test.

Non-streaming ``:generateContent`` requests (the CLI's own side questions) are
answered without taking a script step: JSON fitting the schema when one is
asked for, else a default text; ``:countTokens`` answers a fixed count;
anything else is a logged 404. :attr:`FakeGemini.requests` records every
request for assertions. gemini 0.61.0 with ``-m`` calls nothing but
``:streamGenerateContent`` (checked by logging); without ``-m`` it first asks
``gemini-3.5-flash-lite:generateContent`` for a complexity score and routes the
turn by it (score 1 goes to ``gemini-3.8-flash``).

Bounded: at most ``max_requests`` requests are answered, bodies are capped, and
a stall ends on :meth:`FakeGemini.release`, :meth:`FakeGemini.stop` or after
``stall_timeout`` seconds.
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
from urllib.parse import parse_qs, urlsplit

from tests.fakes._server import LoopbackServer

__all__ = [
    "API_KEY",
    "DEFAULT_MODEL",
    "DEFAULT_TEXT",
    "FakeGemini",
    "FakeUsage",
    "FunctionCall",
    "HttpError",
    "RecordedRequest",
    "Reply",
    "Stall",
    "Text",
    "gemini_env",
    "write_gemini_home",
]

DEFAULT_TEXT = "Done."
DEFAULT_MODEL = "gemini-2.5-flash"
API_KEY = "fake-gemini-key"
_MAX_BODY = 8 * 1024 * 1024
_ids = itertools.count(1)


@dataclasses.dataclass(frozen=True, slots=True)
class FakeUsage:
    """One reply's ``usageMetadata``, as the Gemini API names it.

    ``prompt_tokens`` *includes* ``cached_tokens``, and the total counts
    thoughts and tool-use prompt tokens too, as Google counts them.
    """

    prompt_tokens: int = 100
    candidates_tokens: int = 20
    cached_tokens: int = 0
    thoughts_tokens: int = 0
    tool_use_prompt_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return (
            self.prompt_tokens
            + self.candidates_tokens
            + self.thoughts_tokens
            + self.tool_use_prompt_tokens
        )

    def to_dict(self) -> dict[str, int]:
        usage = {
            "promptTokenCount": self.prompt_tokens,
            "candidatesTokenCount": self.candidates_tokens,
            "totalTokenCount": self.total_tokens,
        }
        # The real API leaves zero counts out; so does the fake.
        optional = {
            "cachedContentTokenCount": self.cached_tokens,
            "thoughtsTokenCount": self.thoughts_tokens,
            "toolUsePromptTokenCount": self.tool_use_prompt_tokens,
        }
        usage.update({key: value for key, value in optional.items() if value})
        return usage


@dataclasses.dataclass(frozen=True, slots=True)
class Text:
    """A final model message with text."""

    text: str = DEFAULT_TEXT
    usage: FakeUsage = FakeUsage()


@dataclasses.dataclass(frozen=True, slots=True)
class FunctionCall:
    """A model message that calls one of the CLI's tools, after optional text."""

    name: str
    args: Mapping[str, Any]
    preamble: str = ""
    usage: FakeUsage = FakeUsage()
    id: str = dataclasses.field(default_factory=lambda: f"call_fake{next(_ids):04d}")


@dataclasses.dataclass(frozen=True, slots=True)
class Stall:
    """Hold the connection open without a byte of answer until released."""


@dataclasses.dataclass(frozen=True, slots=True)
class HttpError:
    """An HTTP error answer in Google's error shape (e.g. 429 RESOURCE_EXHAUSTED)."""

    status: int = 429
    code: str = "RESOURCE_EXHAUSTED"
    message: str = "Resource has been exhausted (e.g. check quota)."

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.status, "message": self.message, "status": self.code}}


Reply: TypeAlias = Text | FunctionCall | Stall | HttpError


@dataclasses.dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the fake received."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    body: Any  # the parsed JSON body, or None
    turn: bool  # True when it took (or would take) a script step

    @property
    def model(self) -> str | None:
        """The model named in a ``/models/<model>:<method>`` path."""
        _, found, rest = self.path.partition("/models/")
        return rest.partition(":")[0] if found else None

    @property
    def function_responses(self) -> list[dict[str, Any]]:
        """Every ``functionResponse`` part the request's contents carry, oldest first."""
        contents = self.body.get("contents") if isinstance(self.body, Mapping) else None
        return [
            part["functionResponse"]
            for content in contents or []
            for part in content.get("parts") or []
            if isinstance(part, Mapping) and "functionResponse" in part
        ]

    @property
    def tool_names(self) -> list[str]:
        """The function declarations the request offers."""
        tools = self.body.get("tools") if isinstance(self.body, Mapping) else None
        return [
            declaration.get("name", "")
            for tool in tools or []
            for declaration in tool.get("functionDeclarations") or []
        ]


class FakeGemini(LoopbackServer):
    """The fake server; use as a context manager or call start() and stop()."""

    thread_name = "fake-gemini"

    def __init__(
        self,
        script: Iterable[Reply] = (),
        *,
        model_version: str | None = None,
        max_requests: int = 200,
        stall_timeout: float = 60.0,
    ) -> None:
        super().__init__()
        self.requests: list[RecordedRequest] = []
        self.model_version = model_version  # None: echo the requested model
        self.max_requests = max_requests
        self.stall_timeout = stall_timeout
        self._script = list(script)
        self._lock = threading.Lock()
        self.stalled = threading.Event()  # set once a Stall reply is holding a connection

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return type("_BoundHandler", (_Handler,), {"fake": self})

    @property
    def base_url(self) -> str:
        """The value for ``GOOGLE_GEMINI_BASE_URL``."""
        return self.origin

    @property
    def turn_requests(self) -> list[RecordedRequest]:
        """Only the agent turns (``:streamGenerateContent``)."""
        with self._lock:
            return [r for r in self.requests if r.turn]

    def add(self, *replies: Reply) -> None:
        """Append replies to the script (e.g. before a follow-up turn)."""
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


def write_gemini_home(home: Path) -> Path:
    """Write ``$HOME/.gemini/settings.json`` for API-key auth; returns its path.

    Telemetry, usage statistics and the update check are off so the CLI talks
    to nothing but the fake.
    """
    settings = home / ".gemini" / "settings.json"
    settings.parent.mkdir(parents=True, exist_ok=True)
    config = {
        "security": {"auth": {"selectedType": "gemini-api-key"}},
        "privacy": {"usageStatisticsEnabled": False},
        "telemetry": {"enabled": False},
        "general": {"enableAutoUpdate": False, "enableAutoUpdateNotification": False},
    }
    settings.write_text(json.dumps(config, indent=2), encoding="utf-8")
    return settings


def gemini_env(home: Path, base_url: str, base: Mapping[str, str]) -> dict[str, str]:
    """The environment that points the real CLI at a fake, with its own HOME."""
    env = {key: value for key, value in base.items() if not _is_google_key(key)}
    env.update(
        HOME=str(home),
        GEMINI_API_KEY=API_KEY,
        GOOGLE_GEMINI_BASE_URL=base_url,
        GEMINI_CLI_TRUST_WORKSPACE="true",  # no trust prompt for the test's folder
        NO_COLOR="1",
    )
    return env


def _is_google_key(name: str) -> bool:
    # A developer's own credentials or settings must not leak into a test run.
    return name.startswith(("GEMINI_", "GOOGLE_")) or name in {"CI_GEMINI", "GCLOUD_PROJECT"}


# -- the HTTP side ----------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    fake: FakeGemini
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Requests are recorded on the fake; stderr stays quiet."""

    def do_GET(self) -> None:
        self._record(None)
        self._json(404, HttpError(404, "NOT_FOUND", f"no route {self.path}").body())

    def do_POST(self) -> None:
        length = min(int(self.headers.get("Content-Length") or 0), _MAX_BODY)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = {"_unparsed": raw[:2000].decode("utf-8", "replace")}
        request = self._record(body)
        if request is None:
            self._json(429, HttpError(message="fake request budget spent").body())
        elif request.turn:
            self._respond(self.fake._next_reply(), request)
        elif request.path.endswith(":generateContent"):
            self._json(200, _response(_side_answer(body), request, last=True))
        elif request.path.endswith(":countTokens"):
            self._json(200, {"totalTokens": 100})
        else:
            self._json(404, HttpError(404, "NOT_FOUND", f"no route {self.path}").body())

    def _record(self, body: Any) -> RecordedRequest | None:
        split = urlsplit(self.path)
        request = RecordedRequest(
            method=self.command,
            path=split.path,
            query=parse_qs(split.query),
            headers={key.lower(): value for key, value in self.headers.items()},
            body=body,
            turn=self.command == "POST" and split.path.endswith(":streamGenerateContent"),
        )
        return request if self.fake._record(request) else None

    def _json(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self._write(data)

    def _respond(self, reply: Reply, request: RecordedRequest) -> None:
        if isinstance(reply, HttpError):
            self._json(reply.status, reply.body())
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        if isinstance(reply, Stall):
            self.fake._hold()
            return  # closing without a finish reason: the CLI sees a broken stream
        for chunk in _chunks(reply, request, self.fake.model_version):
            if not self._write(f"data: {json.dumps(chunk)}\r\n\r\n".encode()):
                return

    def _write(self, data: bytes) -> bool:
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:  # the CLI hung up (stopped or killed); nothing to tell
            return False
        return True


def _side_answer(body: Any) -> Text:
    """The answer to one of the CLI's own questions: JSON when a schema is asked for.

    Without ``-m`` the CLI first asks a small model to score the task's
    complexity (``complexity_reasoning``, ``complexity_score``) and retries until
    the answer parses, so a fixed sentence would stall it.
    """
    config = body.get("generationConfig") if isinstance(body, Mapping) else None
    schema = (config or {}).get("responseJsonSchema") or (config or {}).get("responseSchema")
    text = json.dumps(_instance(schema)) if isinstance(schema, Mapping) else "Fake side answer."
    return Text(text, FakeUsage(10, 5))


def _instance(schema: Mapping[str, Any]) -> Any:
    """The smallest value a JSON schema accepts (first enum value, required fields only)."""
    if schema.get("enum"):
        return schema["enum"][0]
    kind = str(schema.get("type", "object")).lower()
    if kind == "object":
        properties = schema.get("properties") or {}
        return {name: _instance(properties.get(name) or {}) for name in schema.get("required", [])}
    simple: dict[str, Any] = {"string": "fake", "integer": 1, "number": 1, "boolean": False}
    return [] if kind == "array" else simple.get(kind)


def _chunks(
    reply: Text | FunctionCall, request: RecordedRequest, model_version: str | None
) -> list[dict[str, Any]]:
    """The stream: a first text chunk with the prompt count only, then the rest."""
    final = _response(reply, request, last=True, model_version=model_version)
    if isinstance(reply, FunctionCall) and not reply.preamble:
        return [final]
    text = reply.text if isinstance(reply, Text) else reply.preamble
    head, tail = text[: len(text) // 2], text[len(text) // 2 :]
    first = _response(Text(head, reply.usage), request, last=False, model_version=model_version)
    final["candidates"][0]["content"]["parts"][0]["text"] = tail
    return [first, final]


def _response(
    reply: Text | FunctionCall,
    request: RecordedRequest,
    last: bool,
    model_version: str | None = None,
) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    if isinstance(reply, Text):
        parts.append({"text": reply.text})
    else:
        if reply.preamble:
            parts.append({"text": reply.preamble})
        call = {"name": reply.name, "args": dict(reply.args), "id": reply.id}
        parts.append({"functionCall": call})
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    usage: dict[str, int] = {"promptTokenCount": reply.usage.prompt_tokens}
    if last:
        candidate["finishReason"] = "STOP"
        usage = reply.usage.to_dict()
    return {
        "candidates": [candidate],
        "usageMetadata": usage,
        "modelVersion": model_version or request.model or DEFAULT_MODEL,
        "responseId": f"resp_fake{next(_ids):04d}",
    }
