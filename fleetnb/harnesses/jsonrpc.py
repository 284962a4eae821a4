"""A small JSON-RPC client for agent CLIs that speak it over stdio, one JSON object a line.

It sends requests (each with its own id, answered through a future), sends
notifications, and serves the peer's own requests and notifications through
callbacks. ``codex app-server`` omits the ``"jsonrpc": "2.0"`` member on every
message, so this side neither requires it nor sends it.

Lines that are not JSON, or JSON that is not a JSON-RPC message, go to the
``on_garbage`` callback with the raw line, and reading goes on: one stray line
from a CLI must not end an agent. When the peer's output ends, every pending
request fails with :class:`ConnectionClosed`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

__all__ = [
    "INTERNAL_ERROR",
    "METHOD_NOT_FOUND",
    "ConnectionClosed",
    "JsonRpcConnection",
    "RpcError",
]

METHOD_NOT_FOUND = -32601
INTERNAL_ERROR = -32603

RequestHandler = Callable[[str, Any], Awaitable[Any]]
NotificationHandler = Callable[[str, Any], None]
GarbageHandler = Callable[[str, str], None]


class RpcError(Exception):
    """An error answer, received from the peer or to be sent to it."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"{message} (JSON-RPC error {code})")
        self.code = code
        self.message = message
        self.data = data

    def to_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


class ConnectionClosed(Exception):
    """The peer's output ended, usually because its process exited."""


class JsonRpcConnection:
    """One JSON-RPC connection over a reader (the peer's stdout) and a writer (its stdin).

    Call :meth:`serve` in a task; it returns when the peer's output ends.
    Notifications are handled in order on the reading task, so handlers must
    not block; each peer request runs in its own task, so a slow answer (a
    person deciding an approval) does not stop the reading.
    """

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        on_request: RequestHandler,
        on_notification: NotificationHandler,
        on_garbage: GarbageHandler,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._on_request = on_request
        self._on_notification = on_notification
        self._on_garbage = on_garbage
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._serving: set[asyncio.Task[None]] = set()
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    # -- our side ----------------------------------------------------------------

    async def request(self, method: str, params: Mapping[str, Any] | None = None) -> Any:
        """Send a request and wait for its result; raises :class:`RpcError` on an error."""
        if self._closed:
            raise ConnectionClosed(f"cannot send {method}: the connection is closed")
        request_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            await self._send({"id": request_id, "method": method, "params": dict(params or {})})
            return await future
        finally:
            self._pending.pop(request_id, None)

    async def notify(self, method: str, params: Mapping[str, Any] | None = None) -> None:
        message: dict[str, Any] = {"method": method}
        if params is not None:
            message["params"] = dict(params)
        await self._send(message)

    def close_input(self) -> None:
        """Close the peer's stdin: the polite way to ask a stdio server to exit."""
        if not self._writer.is_closing():
            self._writer.close()

    async def _send(self, message: Mapping[str, Any]) -> None:
        line = json.dumps(message, ensure_ascii=False, separators=(",", ":")) + "\n"
        try:
            self._writer.write(line.encode("utf-8"))
            await self._writer.drain()
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise ConnectionClosed(f"the peer stopped reading: {exc}") from exc

    # -- their side --------------------------------------------------------------

    async def serve(self) -> None:
        """Read and dispatch messages until the peer's output ends."""
        try:
            while line := await self._read_line():
                self._dispatch(line)
        finally:
            await self._shut()

    async def _read_line(self) -> bytes:
        while True:
            try:
                return await self._reader.readline()
            except ValueError as exc:  # a line over the reader's limit; it was dropped
                self._on_garbage("", f"line too long: {exc}")

    def _dispatch(self, raw: bytes) -> None:
        text = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not text.strip():
            return
        try:
            message = json.loads(text)
        except ValueError as exc:
            self._on_garbage(text, f"not JSON: {exc}")
            return
        if not isinstance(message, dict):
            self._on_garbage(text, "not a JSON-RPC message: not an object")
        elif isinstance(message.get("method"), str):
            if "id" in message:
                self._start_serving(message["id"], message["method"], message.get("params"))
            else:
                self._on_notification(message["method"], message.get("params"))
        elif "id" in message and ("result" in message or "error" in message):
            self._resolve(message, text)
        else:
            self._on_garbage(text, "not a JSON-RPC message: no method, result or error")

    def _resolve(self, message: Mapping[str, Any], text: str) -> None:
        future = self._pending.get(message["id"]) if isinstance(message["id"], int) else None
        if future is None or future.done():
            self._on_garbage(text, "a response to no pending request")
        elif "error" in message:
            error = message["error"] if isinstance(message["error"], dict) else {}
            future.set_exception(
                RpcError(
                    int(error.get("code", INTERNAL_ERROR)),
                    str(error.get("message", message["error"])),
                    error.get("data"),
                )
            )
        else:
            future.set_result(message["result"])

    def _start_serving(self, request_id: Any, method: str, params: Any) -> None:
        task = asyncio.ensure_future(self._answer(request_id, method, params))
        self._serving.add(task)
        task.add_done_callback(self._serving.discard)

    async def _answer(self, request_id: Any, method: str, params: Any) -> None:
        try:
            result = await self._on_request(method, params)
            reply: dict[str, Any] = {"id": request_id, "result": result}
        except RpcError as exc:
            reply = {"id": request_id, "error": exc.to_json()}
        except Exception as exc:
            # The peer must not hang on a bug of ours; asyncio's handler logs it.
            reply = {"id": request_id, "error": RpcError(INTERNAL_ERROR, str(exc)).to_json()}
            asyncio.get_running_loop().call_exception_handler(
                {"message": f"error answering {method}", "exception": exc}
            )
        with contextlib.suppress(ConnectionClosed):
            await self._send(reply)

    async def _shut(self) -> None:
        self._closed = True
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ConnectionClosed("the peer's output ended"))
        for task in list(self._serving):
            task.cancel()
        if self._serving:
            await asyncio.gather(*self._serving, return_exceptions=True)
