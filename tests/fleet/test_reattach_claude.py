"""A real Claude Code agent outlives a SIGKILLed kernel; its events match the CLI's transcript."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import fleetnb
from fleetnb import EventKind, State
from tests.fakes.anthropic import FakeAnthropic, Stall, Text, ToolUse
from tests.harnesses.conftest import MODEL

TIMEOUT = 90

KERNEL = textwrap.dedent(
    """
    import json, sys, time
    import fleetnb
    fleet = fleetnb.Fleet(sys.argv[1])
    agent = fleet.launch(
        "run the steps", harness="claude", cwd=sys.argv[2], approvals="allow",
        model=sys.argv[3], env=json.loads(sys.argv[4]), name="survivor",
    )
    print(agent.id, flush=True)
    time.sleep(600)  # the kernel, busy elsewhere, until it is killed
    """
)


def _until(check: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.05)


def _transcript(config_dir: Path, session_id: str) -> list[dict[str, object]]:
    found = sorted(config_dir.glob(f"projects/*/{session_id}.jsonl"))
    assert len(found) == 1, sorted(str(p) for p in config_dir.rglob("*.jsonl"))
    return [json.loads(line) for line in found[0].read_text().splitlines() if line.strip()]


def _blocks(lines: list[dict[str, object]], kind: str) -> list[dict[str, object]]:
    """Content blocks of the conversation entries (not the api-request-blob copies)."""
    blocks: list[dict[str, object]] = []
    for line in lines:
        if line.get("type") not in {"assistant", "user"}:
            continue
        message = line.get("message")
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):
            blocks.extend(b for b in content if isinstance(b, dict) and b.get("type") == kind)
    return blocks


@pytest.mark.usefixtures("claude_cli")  # skips without the CLI; fleetnb finds it itself
def test_a_claude_agent_survives_a_killed_kernel_and_matches_its_transcript(
    tmp_path: Path,
    repo: Path,
    claude_env: dict[str, str],
    anthropic: FakeAnthropic,
) -> None:
    before = [ToolUse("Bash", {"command": f"echo step {n}"}) for n in (1, 2, 3)]
    after = [ToolUse("Bash", {"command": f"echo step {n}"}) for n in (4, 5)]
    anthropic.add(*before, Stall(), *after, Text("All steps done."))
    # The released stall answers 529; one retry takes the next scripted reply.
    env = {**claude_env, "CLAUDE_CODE_MAX_RETRIES": "2"}
    root = tmp_path / "root"
    kernel = subprocess.Popen(
        [sys.executable, "-c", KERNEL, str(root), str(repo), MODEL, json.dumps(env)],
        stdout=subprocess.PIPE,
    )
    assert kernel.stdout is not None
    agent_id = kernel.stdout.readline().decode().strip()
    assert agent_id, "the kernel never launched the agent"
    fleet: fleetnb.Fleet | None = None
    try:
        anthropic.wait_for(
            lambda _: len(anthropic.turn_requests) > len(before), timeout=TIMEOUT
        )  # the CLI now waits on the stall, mid-run
        os.kill(kernel.pid, signal.SIGKILL)  # the kernel dies without a word
        kernel.wait()

        fleet = fleetnb.Fleet(root)
        agent = fleet[agent_id]
        assert agent.state is State.RUNNING
        _until(
            lambda: len(agent.events(kinds=[EventKind.TOOL_RESULT])) == len(before),
            "the first tool results reached the store",
        )
        assert agent.state is State.RUNNING  # not failed, not lost
        anthropic.release()
        assert agent.wait(timeout=TIMEOUT) is State.IDLE

        events = agent.events()
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert len(agent.events(kinds=[EventKind.RUNNER_STARTED])) == 1
        calls = [str(e.payload["call_id"]) for e in agent.events(kinds=[EventKind.TOOL_CALL])]
        results = [str(e.payload["call_id"]) for e in agent.events(kinds=[EventKind.TOOL_RESULT])]
        scripted = [reply.id for reply in (*before, *after)]
        assert calls == scripted  # each exactly once, in order: none lost, none doubled
        assert sorted(results) == sorted(scripted)

        assert agent.session_id
        lines = _transcript(Path(claude_env["CLAUDE_CONFIG_DIR"]), agent.session_id)
        uses = {str(b["id"]) for b in _blocks(lines, "tool_use")}
        answered = [str(b["tool_use_id"]) for b in _blocks(lines, "tool_result")]
        assert len(uses) == len(calls)
        assert uses == set(calls)
        assert len(answered) == len(results)
        assert sorted(answered) == sorted(results)  # each answered exactly once
    finally:
        if kernel.poll() is None:
            os.kill(kernel.pid, signal.SIGKILL)
            kernel.wait()
        kernel.stdout.close()
        if fleet is None and root.exists():
            fleet = fleetnb.Fleet(root)
        if fleet is not None:
            for leftover in fleet.agents:
                if not leftover.state.is_final:
                    leftover.stop()
            fleet.close()
