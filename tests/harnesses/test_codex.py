"""The Codex harness end to end: the real ``codex app-server`` against a fake Responses API.

Every test launches through the public :class:`fleetnb.Fleet` API, so the real
runner drives the real CLI; only the model server is fake
(:mod:`tests.fakes.openai_responses`). Each test has its own HOME, CODEX_HOME
and git repo.
"""

from __future__ import annotations

import stat
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import psutil
import pytest

import fleetnb
from fleetnb import Agent, EventKind, State, Usage
from tests.fakes.openai_responses import (
    FakeResponses,
    FakeUsage,
    HttpError,
    Shell,
    Stall,
    Text,
)
from tests.harnesses.conftest import CodexLauncher

pytestmark = pytest.mark.timeout(180)

WAIT_S = 60.0


def kinds(agent: Agent) -> list[str]:
    return [event.kind for event in agent.events()]


def payloads(agent: Agent, kind: EventKind) -> list[dict[str, object]]:
    return [dict(event.payload) for event in agent.events(kinds=(kind,))]


def is_subsequence(wanted: Sequence[str], seen: Sequence[str]) -> bool:
    remaining = iter(seen)
    return all(kind in remaining for kind in wanted)


def expected_usage(*usages: FakeUsage) -> Usage:
    """fleetnb's convention: input excludes the cached tokens OpenAI counts in it."""
    total = Usage()
    for u in usages:
        total = total + Usage(u.input_tokens - u.cached_tokens, u.output_tokens, u.cached_tokens)
    return total


def wait_final(agent: Agent) -> State:
    """``Agent.wait`` returns at idle; this waits for the runner's own end."""
    eventually(lambda: agent.state.is_final, f"{agent.name} to finish")
    return agent.state


def eventually(check: Callable[[], object], what: str, timeout: float = WAIT_S) -> None:
    """Poll ``check`` until it is true: the CLI runs in another process, on its own time."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def write_wrapper(path: Path, body: str) -> Path:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def codex_processes(codex_home: Path) -> list[psutil.Process]:
    """Processes that inherited this test's CODEX_HOME: codex and what it ran, not the runner."""
    found = []
    for process in psutil.process_iter():
        try:
            mine = process.environ().get("CODEX_HOME") == str(codex_home)
            if mine and "fleetnb.runner" not in process.cmdline():
                found.append(process)
        except psutil.Error:
            continue
    return found


# -- approvals and tools ------------------------------------------------------------


def test_an_approved_shell_call_changes_the_repo(
    fake: FakeResponses, launch_codex: CodexLauncher, repo: Path
) -> None:
    call, done = FakeUsage(1200, 1000, 30), FakeUsage(1300, 1150, 12)
    fake.add(Shell("echo hi > out.txt", escalate=True, usage=call), Text("wrote it", done))
    agent = launch_codex(approvals="allow")

    assert agent.wait(WAIT_S) is State.IDLE, kinds(agent)

    assert (repo / "out.txt").read_text() == "hi\n"
    order = ["session_started", "tool_call", "approval_requested", "approval_decided",
             "tool_result", "usage", "assistant_text", "turn_finished"]  # fmt: skip
    assert is_subsequence(order, kinds(agent)), kinds(agent)
    [call_event] = payloads(agent, EventKind.TOOL_CALL)
    assert call_event["tool"] == "shell"
    assert call_event["input"] == {"command": "echo hi > out.txt", "cwd": str(repo)}
    [result] = payloads(agent, EventKind.TOOL_RESULT)
    assert result["call_id"] == call_event["call_id"]
    assert result["is_error"] is False
    assert result["exit_code"] == 0
    [decided] = payloads(agent, EventKind.APPROVAL_DECIDED)
    assert decided["decision"] == "allow"
    assert [p["text"] for p in payloads(agent, EventKind.ASSISTANT_TEXT)] == ["wrote it"]
    [finished] = payloads(agent, EventKind.TURN_FINISHED)
    assert finished["is_error"] is False
    assert finished["result"] == "wrote it"
    assert agent.usage == expected_usage(call, done)
    assert fake.responses_requests[0].headers["authorization"] == "Bearer test"


def test_a_denied_shell_call_leaves_the_repo_alone(
    fake: FakeResponses, launch_codex: CodexLauncher, repo: Path
) -> None:
    fake.add(Shell("echo hi > out.txt", escalate=True), Text("I could not write it"))
    agent = launch_codex(approvals="deny")

    assert agent.wait(WAIT_S) is State.IDLE, kinds(agent)

    assert not (repo / "out.txt").exists()
    [decided] = payloads(agent, EventKind.APPROVAL_DECIDED)
    assert decided["decision"] == "deny"
    [result] = payloads(agent, EventKind.TOOL_RESULT)
    assert result["is_error"] is True
    assert result["status"] == "declined"
    # codex told the model the command was refused, and the turn went on.
    history = fake.responses_requests[1].input_items
    outputs = [str(i.get("output")) for i in history if i.get("type") == "function_call_output"]
    assert any("rejected" in output for output in outputs), outputs


def test_a_person_answers_while_codex_waits(
    fake: FakeResponses, launch_codex: CodexLauncher, repo: Path
) -> None:
    fake.add(Shell("echo asked > out.txt", escalate=True), Text("done after asking"))
    agent = launch_codex(approvals="ask")
    eventually(lambda: agent.state is State.WAITING, "the approval request")
    [pending] = agent.status().pending_approvals
    assert pending["input"]["command"] == "echo asked > out.txt"
    assert pending["reason"] == "the task needs this command"
    assert not (repo / "out.txt").exists()

    agent.decide(str(pending["request_id"]), allow=True, reason="looks fine")

    assert agent.wait(WAIT_S) is State.IDLE, kinds(agent)
    assert (repo / "out.txt").read_text() == "asked\n"
    [decided] = payloads(agent, EventKind.APPROVAL_DECIDED)
    assert decided["by"] == "person"


PATCH = """apply_patch <<'PATCH'
*** Begin Patch
*** Add File: hello.txt
+hello
*** End Patch
PATCH
"""


@pytest.mark.parametrize(("approvals", "created"), [("allow", True), ("deny", False)])
def test_a_file_change_asks_and_reports_its_paths(
    fake: FakeResponses, launch_codex: CodexLauncher, repo: Path, approvals: str, created: bool
) -> None:
    # codex turns an apply_patch command into a fileChange item; in a read-only
    # sandbox a patch to the repo needs approval.
    fake.add(Shell(PATCH), Text("patched"))
    agent = launch_codex(approvals=approvals, options={"sandbox": "read-only"})

    assert agent.wait(WAIT_S) is State.IDLE, kinds(agent)

    assert (repo / "hello.txt").exists() is created
    [call] = payloads(agent, EventKind.TOOL_CALL)
    assert call["tool"] == "apply_patch"
    assert call["input"] == {
        "paths": [str(repo / "hello.txt")],
        "changes": [{"path": str(repo / "hello.txt"), "kind": "add", "diff": "hello\n"}],
    }
    [asked] = payloads(agent, EventKind.APPROVAL_REQUESTED)
    assert asked["tool"] == "apply_patch"
    assert asked["input"] == call["input"]
    [result] = payloads(agent, EventKind.TOOL_RESULT)
    assert result["is_error"] is not created
    assert result["status"] == ("completed" if created else "declined")


# -- sessions and usage ---------------------------------------------------------------


def test_send_continues_the_same_thread(
    fake: FakeResponses, launch_codex: CodexLauncher, codex_home: Path
) -> None:
    first, second = FakeUsage(900, 0, 10), FakeUsage(1500, 800, 25)
    fake.add(Text("first answer", first), Text("second answer", second))
    agent = launch_codex()
    assert agent.wait(WAIT_S) is State.IDLE, kinds(agent)
    session_id = agent.session_id

    agent.send("and now the follow-up")
    assert agent.wait(WAIT_S) is State.IDLE, kinds(agent)

    assert session_id
    assert agent.session_id == session_id
    assert kinds(agent).count("session_started") == 1
    assert kinds(agent).count("turn_finished") == 2
    # The second request carries the whole conversation so far.
    history = str(fake.responses_requests[1].input_items)
    assert "write hi to out.txt" in history
    assert "first answer" in history
    assert "and now the follow-up" in history
    # Summing the usage events gives exactly what the server reported.
    assert agent.usage == expected_usage(first, second)
    assert list(codex_home.glob(f"sessions/*/*/*/rollout-*{session_id}.jsonl"))


def test_a_closed_session_ends_done(fake: FakeResponses, launch_codex: CodexLauncher) -> None:
    fake.add(Text("nothing to do"))
    agent = launch_codex(idle_timeout=0.5)

    assert wait_final(agent) is State.DONE, kinds(agent)

    [finished] = payloads(agent, EventKind.AGENT_FINISHED)
    assert finished["exit_code"] == 0


def test_a_usage_limit_leaves_the_agent_limited(
    fake: FakeResponses, launch_codex: CodexLauncher
) -> None:
    fake.add(HttpError(429, "usage_limit_reached", "You've hit your usage limit."))
    agent = launch_codex()

    eventually(lambda: agent.state is State.LIMITED, "the limit")

    [limit] = payloads(agent, EventKind.LIMIT_HIT)
    assert "usage limit" in str(limit["message"])
    [finished] = payloads(agent, EventKind.TURN_FINISHED)
    assert finished["is_error"] is True
    # After turn_finished, as the Claude harness does: the agent rests limited, not idle.
    assert is_subsequence(["turn_finished", "limit_hit"], kinds(agent))


# -- a misbehaving CLI -------------------------------------------------------------------


def test_lines_that_are_not_json_become_parse_errors(
    codex: str, fake: FakeResponses, launch_codex: CodexLauncher, tmp_path: Path
) -> None:
    # Noise among the first protocol lines: plain text, JSON that is not a message, broken JSON.
    noisy = write_wrapper(
        tmp_path / "noisy-codex",
        # A shell loop, not awk or sed: those buffer a pipe's input and would hang the handshake.
        f'"{codex}" "$@" | {{ n=0; while IFS= read -r line; do n=$((n + 1))\n'
        '  case $n in 1) echo "codex: warming up";; 2) echo "[1, 2, 3]";; 3) echo "{oops";; esac\n'
        "  printf '%s\\n' \"$line\"\ndone; }",
    )
    fake.add(Text("fine anyway"))
    agent = launch_codex(binary=str(noisy), idle_timeout=0.5)

    assert wait_final(agent) is State.DONE, kinds(agent)

    raws = [error["raw"] for error in payloads(agent, EventKind.PARSE_ERROR)]
    assert raws == ["codex: warming up", "[1, 2, 3]", "{oops"]
    assert agent.status().parse_errors == 3
    assert [p["text"] for p in payloads(agent, EventKind.ASSISTANT_TEXT)] == ["fine anyway"]


def test_a_crashing_cli_fails_with_its_exit_code_and_stderr(
    launch_codex: CodexLauncher, tmp_path: Path
) -> None:
    crashing = write_wrapper(
        tmp_path / "crashing-codex",
        "head -n 1 > /dev/null\necho 'thread main panicked: simulated crash' >&2\nexit 3",
    )
    agent = launch_codex(binary=str(crashing))

    assert agent.wait(WAIT_S) is State.FAILED, kinds(agent)

    [finished] = payloads(agent, EventKind.AGENT_FINISHED)
    assert finished["exit_code"] == 3
    assert "simulated crash" in str(finished["stderr_tail"])


def test_stop_during_a_stalled_reply_kills_codex(
    fake: FakeResponses, launch_codex: CodexLauncher, codex_home: Path
) -> None:
    fake.add(Stall())
    agent = launch_codex()
    assert fake.stalled.wait(WAIT_S), kinds(agent)
    assert codex_processes(codex_home), "codex should be running while the reply stalls"

    assert agent.stop(timeout=30) is State.STOPPED

    [finished] = payloads(agent, EventKind.AGENT_FINISHED)
    assert finished["status"] == "stopped"
    assert codex_processes(codex_home) == []


def test_stop_during_a_command_kills_the_command_too(
    fake: FakeResponses, launch_codex: CodexLauncher, codex_home: Path
) -> None:
    fake.add(Shell("sleep 300"))  # fits the workspace sandbox: runs without asking
    agent = launch_codex()
    eventually(lambda: agent.events(kinds=(EventKind.TOOL_CALL,)), "the tool call")
    eventually(
        lambda: any(p.name() == "sleep" for p in codex_processes(codex_home)), "sleep to run"
    )

    assert agent.stop(timeout=30) is State.STOPPED

    assert codex_processes(codex_home) == []


def test_a_missing_binary_is_refused_before_launch(
    fleet: fleetnb.Fleet, launch_codex: CodexLauncher, tmp_path: Path
) -> None:
    with pytest.raises(fleetnb.HarnessNotFoundError, match="npm install -g @openai/codex"):
        launch_codex(binary=str(tmp_path / "no-such-codex"))
    assert fleet.agents == []


def test_resume_continues_a_finished_thread(
    fake: FakeResponses, launch_codex: CodexLauncher, codex_env: dict[str, str]
) -> None:
    fake.add(Text("first answer"))
    agent = launch_codex()
    assert agent.wait(WAIT_S) is State.IDLE, kinds(agent)
    assert agent.stop() is State.STOPPED
    session_id = agent.session_id
    assert session_id

    fake.add(Text("second answer"))
    agent.resume("the next instruction", env=codex_env)
    assert agent.wait(WAIT_S) is State.IDLE, kinds(agent)

    assert agent.session_id == session_id
    launched = agent.events(kinds=[EventKind.LAUNCHED])
    assert launched[1].payload["resume"] == session_id
    history = str(fake.responses_requests[1].input_items)
    assert "write hi to out.txt" in history
    assert "first answer" in history
    assert "the next instruction" in history
