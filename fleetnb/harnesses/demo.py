"""The demo harness: a deterministic local agent for trying fleetnb without an API key.

It is not a model and not a test double for the real harnesses. It follows a
fixed script in its working directory, for real: it lists the files, writes a
notes file, and runs a shell command, asking for approval through the same path
as every other harness before it writes or runs anything. Every event it emits
carries ``demo: true`` and its usage is synthetic (labelled, priced at zero), so
it can never be mistaken for a real agent's work.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path
from typing import Any

from fleetnb.events import EventKind
from fleetnb.harnesses.base import Harness, LaunchSpec, Outcome, Session

__all__ = ["DemoHarness"]

DEMO_MODEL = "demo-scripted"
NOTES_DIR = "fleetnb-demo"


class DemoHarness(Harness):
    name = "demo"
    demo = True
    idle_timeout = 20.0  # the demo finishes soon after its script, as a demo should

    def preflight(self, spec: LaunchSpec) -> None:
        """Needs nothing beyond Python and a shell."""

    async def run(self, session: Session) -> Outcome:
        demo = _DemoSession(session)
        await demo.turn(session.spec.task, first=True)
        while (message := await session.next_message()) is not None:
            await demo.turn(message, first=False)
        return Outcome()


class _DemoSession:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.spec = session.spec
        self.delay = float(self.spec.options.get("step_delay", 0.4))
        self.session_id = session.resume_id() or f"demo-{uuid.uuid4().hex[:12]}"
        self.notes = Path(self.spec.cwd) / NOTES_DIR / f"{_slug(self.spec.task)}.md"
        self.calls = 0

    def emit(self, kind: EventKind, **payload: Any) -> None:
        self.session.emit(kind, **payload)  # the runner labels demo events

    async def turn(self, text: str, *, first: bool) -> None:
        if first:
            self.emit(EventKind.SESSION_STARTED, session_id=self.session_id, model=DEMO_MODEL)
        await self.say(f"[demo] Working on: {text}")
        if first:
            await self.list_files()
            await self.chatter(int(self.spec.options.get("chatter", 0)))
        wrote = await self.write_notes(text)
        if wrote:
            # Staging changes the repository, so the default policy asks a person.
            await self.run_command(["git", "add", str(self.notes.relative_to(self.spec.cwd))])
        await self.say("[demo] Done." if wrote else "[demo] Understood, I changed nothing.")
        self.emit(EventKind.TURN_FINISHED, is_error=False, result="demo turn complete")

    async def say(self, text: str) -> None:
        await asyncio.sleep(self.delay)
        self.calls += 1
        self.emit(EventKind.ASSISTANT_TEXT, text=text)
        self.emit(
            EventKind.USAGE,
            input_tokens=120 * self.calls,
            output_tokens=40,
            cache_read_tokens=0,
            cache_write_tokens=0,
            model=DEMO_MODEL,
            cost_usd=0.0,
            synthetic=True,
        )

    async def chatter(self, count: int) -> None:
        """Stream ``count`` short messages: a busy agent, for load tests and benchmarks.

        The ``chatter_delay`` option (seconds, default 0) paces them into a steady stream.
        """
        pause = float(self.spec.options.get("chatter_delay", 0.0))
        for index in range(count):
            self.emit(EventKind.ASSISTANT_TEXT, text=f"[demo] progress {index + 1}/{count}")
            await asyncio.sleep(pause)

    async def list_files(self) -> None:
        call_id = self._call_id()
        self.emit(EventKind.TOOL_CALL, call_id=call_id, tool="Glob", input={"pattern": "*"})
        await asyncio.sleep(self.delay)
        names = sorted(p.name for p in Path(self.spec.cwd).iterdir())[:50]
        self.emit(EventKind.TOOL_RESULT, call_id=call_id, output="\n".join(names), is_error=False)

    async def write_notes(self, text: str) -> bool:
        call_id = self._call_id()
        tool_input = {"file_path": str(self.notes), "content": f"- {text}\n"}
        self.emit(EventKind.TOOL_CALL, call_id=call_id, tool="Write", input=tool_input)
        decision = await self.session.request_approval("Write", tool_input)
        if not decision.allow:
            self.emit(
                EventKind.TOOL_RESULT,
                call_id=call_id,
                output=f"denied: {decision.reason}",
                is_error=True,
            )
            return False
        await asyncio.sleep(self.delay)
        self.notes.parent.mkdir(parents=True, exist_ok=True)
        with self.notes.open("a", encoding="utf-8") as notes:
            notes.write(tool_input["content"])
        self.emit(EventKind.TOOL_RESULT, call_id=call_id, output="written", is_error=False)
        return True

    async def run_command(self, argv: list[str]) -> None:
        call_id = self._call_id()
        tool_input = {"command": " ".join(argv)}
        self.emit(EventKind.TOOL_CALL, call_id=call_id, tool="Bash", input=tool_input)
        decision = await self.session.request_approval(
            "Bash", tool_input, "the demo stages its notes"
        )
        if not decision.allow:
            self.emit(EventKind.TOOL_RESULT, call_id=call_id, output="denied", is_error=True)
            return
        process = await asyncio.create_subprocess_exec(
            *argv,
            cwd=self.spec.cwd,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await process.communicate()
        self.emit(
            EventKind.TOOL_RESULT,
            call_id=call_id,
            output=output.decode("utf-8", "replace"),
            is_error=process.returncode != 0,
            exit_code=process.returncode,
        )

    def _call_id(self) -> str:
        return f"demo-call-{uuid.uuid4().hex[:8]}"


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:40] or "task"
