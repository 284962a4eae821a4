"""A runner's API truth checks of its agent's changes, as the agent works.

The runner shows this every event it writes. A file edit's result, the end of a
turn and the end of the run each start a check of the agent's changed lines
(:mod:`fleetnb.truth.changes`) in a worker thread, so the agent's protocol keeps
flowing; its outcome is written as a ``truth_checked`` event. When the launch
asked for it (``fix_findings=True``), errors found at the end of a turn go back
to the agent as a follow-up message, a bounded number of times: a checker that
disagrees with an agent must not keep it looping forever.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from fleetnb.events import FILE_TOOLS, Event, EventKind
from fleetnb.truth.changes import ChangeChecker, report_of, touched_paths

__all__ = ["AgentChecks"]

FEEDBACK_ROUNDS = 2
FINAL_CHECK_TIMEOUT_S = 120.0

Append = Callable[[EventKind, dict[str, Any]], object]
# The agent's tool calls so far, from the store: a resumed run's checks know what the
# earlier runs wrote too.
ToolCalls = Callable[[], Iterable[Event]]


class AgentChecks:
    """Schedules checks from the runner's events and writes what they find."""

    def __init__(
        self, cwd: Path, base: str | None, append: Append, tool_calls: ToolCalls, *, feedback: bool
    ) -> None:
        self._checker = ChangeChecker(cwd, base)
        self._append = append
        self._tool_calls = tool_calls
        self._feedback = feedback
        self._file_calls: set[str] = set()  # call ids whose results start a check
        self._task: asyncio.Task[None] | None = None
        self._queued: str | None = None  # a trigger that arrived while a check ran
        self._latest: Mapping[str, Any] | None = None
        self._rounds = 0
        self._fed_back: set[tuple[Any, ...]] = set()

    def observe(self, kind: str, payload: Mapping[str, Any]) -> None:
        """Called with every event the runner writes, on the runner's loop."""
        if kind == EventKind.TOOL_CALL and payload.get("tool") in FILE_TOOLS:
            self._file_calls.add(str(payload.get("call_id")))
        elif kind == EventKind.TOOL_RESULT and payload.get("call_id") in self._file_calls:
            self._schedule("edit")
        elif kind == EventKind.TURN_FINISHED:
            self._schedule("turn")

    async def final(self) -> None:
        """Before the run's final event: finish what is running, then check once more."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(FINAL_CHECK_TIMEOUT_S):
                while self._task is not None and not self._task.done():
                    await asyncio.shield(self._task)
                await self._run("finish")

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def _schedule(self, trigger: str) -> None:
        if self._task is not None and not self._task.done():
            # A turn's end outranks an edit: it is where feedback may go out.
            self._queued = "turn" if "turn" in (trigger, self._queued) else trigger
            return
        self._task = asyncio.get_running_loop().create_task(self._drain(trigger))

    async def _drain(self, trigger: str) -> None:
        next_trigger: str | None = trigger
        while next_trigger is not None:
            await self._run(next_trigger)
            next_trigger, self._queued = self._queued, None

    async def _run(self, trigger: str) -> None:
        # Only a work directory outside git needs them: its changes are what tools wrote.
        touched = touched_paths(self._tool_calls()) if self._checker.base is None else []
        try:
            payload = await asyncio.to_thread(self._checker.check, trigger, touched)
        except Exception as exc:  # a checker bug must never end the agent's run
            failure = f"the API check failed: {type(exc).__name__}: {exc}"
            payload = {"trigger": trigger, "errors": 0, "warnings": 0, "problems": [failure]}
        if payload is not None:  # None: nothing changed since the last check
            self._latest = payload
            self._append(EventKind.TRUTH_CHECKED, payload)
        if trigger == "turn" and self._latest is not None:
            self._feed_back(self._latest)

    def _feed_back(self, payload: Mapping[str, Any]) -> None:
        if not self._feedback or not payload.get("errors") or self._rounds >= FEEDBACK_ROUNDS:
            return
        report = report_of(payload)
        keys = {(f.path, f.line, f.api, f.kind) for f in report.errors}
        if keys <= self._fed_back:
            return  # already told; the agent chose not to change these
        self._fed_back |= keys
        self._rounds += 1
        self._append(EventKind.USER_MESSAGE, {"text": report.as_prompt(), "by": "truth"})
