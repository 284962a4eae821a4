"""The SDK's subprocess transport for ``claude``, with checked stdout and a hard stop.

The SDK (0.2.189) silently skips stdout lines that do not start with ``{`` and
messages of a type it does not know, and one corrupt line starting with ``{``
ends its whole read loop. :class:`CheckedTransport` puts a checked stream
under the SDK's reader: every such line is reported (the harness records a
``parse_error``) and dropped, and the agent carries on.

It also stops the CLI at once. The SDK's own close waits up to 5 s for the CLI
to exit after stdin closes, and a CLI waiting on a stalled model reply does not
exit on stdin EOF at all (checked), so a stop signals the CLI and whatever it
started.

It reaches into three private attributes of the pinned SDK version
(``_process``, ``_stdout_stream``, ``_stderr_task``): the one seam below the
SDK's stdout parser.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import signal
from collections.abc import AsyncIterator, Callable
from typing import Any

import psutil
from anyio.abc import ByteReceiveStream, Process
from anyio.streams.text import TextReceiveStream
from claude_agent_sdk import ClaudeAgentOptions, ProcessError
from claude_agent_sdk._internal.message_parser import parse_message
from claude_agent_sdk._internal.transport.subprocess_cli import SubprocessCLITransport

__all__ = ["BadLine", "CheckedTransport"]

BadLine = Callable[[str, str], None]

_KILL_GRACE_S = 3.0
_STDERR_DRAIN_S = 2.0
_MAX_LINE = 64 * 1024 * 1024
# Lines the SDK's control layer consumes itself, never shown to its parser.
_CONTROL_TYPES = frozenset(
    {"control_request", "control_response", "control_cancel_request", "transcript_mirror"}
)
# Message types the CLI (2.1.332) can print that this SDK does not model and
# skips on purpose: well-formed protocol, not parse errors.
_UNMODELLED_TYPES = frozenset(
    {
        "audit_event",
        "auth_status",
        "keep_alive",
        "prompt_suggestion",
        "tool_progress",
        "tool_use_summary",
    }
)


def _line_error(line: str) -> str | None:
    """Why the SDK could not use this stdout line, or None if it can."""
    try:
        data = json.loads(line)
    except ValueError as exc:
        return f"not JSON: {exc}"
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        return "not a JSON object with a string 'type'"
    kind = data["type"]
    if kind in _CONTROL_TYPES or kind in _UNMODELLED_TYPES or kind.startswith("streamlined_"):
        return None
    try:
        parsed = parse_message(data)
    except Exception as exc:  # MessageParseError, or whatever else the parser trips on
        return f"{type(exc).__name__}: {exc}"
    return None if parsed is not None else f"unknown message type {kind!r}"


class _CheckedLines(TextReceiveStream):
    """The CLI's stdout, handed on only as whole lines the SDK can parse.

    Every other line goes to ``on_bad_line`` and is dropped, so the SDK neither
    skips it silently nor dies on it.
    """

    def __init__(self, source: ByteReceiveStream, on_bad_line: BadLine) -> None:
        super().__init__(source)
        self._on_bad_line = on_bad_line
        self._pending: list[str] = []

    async def receive(self) -> str:
        while True:
            try:
                chunk = await super().receive()
            except Exception:  # end of stream or a closed pipe: flush, then re-raise
                tail = self._checked(["".join(self._pending)])
                self._pending = []
                if tail:
                    return tail
                raise
            good = self._checked(self._split(chunk))
            if good:
                return good

    def _split(self, chunk: str) -> list[str]:
        self._pending.append(chunk)
        if "\n" not in chunk:
            if sum(map(len, self._pending)) > _MAX_LINE:
                line, self._pending = "".join(self._pending), []
                self._on_bad_line(line[:4096], f"line longer than {_MAX_LINE} characters")
            return []
        *lines, tail = "".join(self._pending).split("\n")
        self._pending = [tail]
        return lines

    def _checked(self, lines: list[str]) -> str:
        good = []
        for line in (raw.strip() for raw in lines):
            error = _line_error(line) if line else None
            if error is not None:
                self._on_bad_line(line, error)
            elif line:
                good.append(line + "\n")
        return "".join(good)


class CheckedTransport(SubprocessCLITransport):
    """The SDK's subprocess transport, with checked stdout and a hard stop."""

    def __init__(self, options: ClaudeAgentOptions, on_bad_line: BadLine) -> None:
        # The client applies this for its own transport only; with ours we must.
        super().__init__(
            prompt="", options=dataclasses.replace(options, permission_prompt_tool_name="stdio")
        )
        self._on_bad_line = on_bad_line
        self._child: Process | None = None
        self._killed = False

    async def connect(self) -> None:
        await super().connect()
        # Private attributes of the pinned SDK version (see the module docstring).
        self._child = self._process
        if self._child is not None and self._child.stdout is not None:
            self._stdout_stream = _CheckedLines(self._child.stdout, self._on_bad_line)

    def read_messages(self) -> AsyncIterator[dict[str, Any]]:
        return self._read_unless_killed()

    async def _read_unless_killed(self) -> AsyncIterator[dict[str, Any]]:
        try:
            async for message in super().read_messages():
                yield message
        except ProcessError:
            # The SDK logs a CLI's non-zero exit as a fatal error; after our own
            # kill() it is the expected end, not news for the runner's log.
            if not self._killed:
                raise

    @property
    def returncode(self) -> int | None:
        return None if self._child is None else self._child.returncode

    async def close(self) -> None:
        # close() cancels the stderr reader; a CLI that just died may still have
        # its last words in the pipe, and they are what the failure event shows.
        task = self._stderr_task
        if task is not None and self.returncode is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task.wait(), _STDERR_DRAIN_S)
        await super().close()

    async def kill(self) -> None:
        """End the CLI and whatever it started, now: a stop must not wait for it."""
        child = self._child
        if child is None or child.returncode is not None:
            return
        self._killed = True
        family = _descendants(child.pid)
        _signal(family, signal.SIGTERM)
        child.terminate()
        try:
            await asyncio.wait_for(child.wait(), _KILL_GRACE_S)
        except TimeoutError:
            pass
        finally:  # even when a second cancellation cuts the grace period short
            _signal(family, signal.SIGKILL)
            if child.returncode is None:
                child.kill()


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return list(psutil.Process(pid).children(recursive=True))
    except psutil.Error:
        return []


def _signal(processes: list[psutil.Process], signum: int) -> None:
    for process in processes:
        with contextlib.suppress(psutil.Error):
            if process.is_running():  # also checks that the pid was not reused
                process.send_signal(signum)
