"""The approval queue with the real Codex CLI (app-server) under the default policy."""

from __future__ import annotations

from pathlib import Path

import fleetnb
from fleetnb import EventKind, State
from tests.approvals.waiting import the_one_pending
from tests.fakes.openai_responses import FakeResponses, Shell, Text
from tests.harnesses.conftest import CodexLauncher

TIMEOUT = 90


def test_an_ordinary_command_inside_the_repo_is_asked_and_approve_runs_it(
    fleet: fleetnb.Fleet, launch_codex: CodexLauncher, fake: FakeResponses, repo: Path
) -> None:
    # No escalation: codex's own sandbox would run this silently; fleetnb still asks.
    fake.add(Shell("touch made-by-codex"), Text("made it"))
    agent = launch_codex("make a file", approvals=None)
    request = the_one_pending(fleet)
    assert (request.agent.id, request.risk) == (agent.id, "medium")
    assert "touch made-by-codex" in str(request.input["command"])
    assert not (repo / "made-by-codex").exists()
    request.approve()
    assert agent.wait(TIMEOUT) is State.IDLE
    assert (repo / "made-by-codex").exists()


def test_deny_keeps_the_file(
    fleet: fleetnb.Fleet, launch_codex: CodexLauncher, fake: FakeResponses, repo: Path
) -> None:
    fake.add(Shell("touch denied-file"), Text("fine"))
    agent = launch_codex("make a file", approvals=None)
    the_one_pending(fleet).deny(reason="not in this repo")
    assert agent.wait(TIMEOUT) is State.IDLE
    assert not (repo / "denied-file").exists()
    (decided,) = agent.events(kinds=[EventKind.APPROVAL_DECIDED])
    assert decided.payload["reason"] == "not in this repo"


def test_a_destructive_command_never_runs(
    fleet: fleetnb.Fleet,
    launch_codex: CodexLauncher,
    fake: FakeResponses,
    codex_env: dict[str, str],
) -> None:
    canary = Path(codex_env["HOME"]) / "precious.txt"
    canary.write_text("keep me")
    fake.add(Shell("rm -rf ~", escalate=True), Text("stopped"))
    agent = launch_codex("clean up", approvals=None)
    assert agent.wait(TIMEOUT) is State.IDLE
    assert canary.read_text() == "keep me"
    (decided,) = agent.events(kinds=[EventKind.APPROVAL_DECIDED])
    assert (decided.payload["decision"], decided.payload["by"]) == ("deny", "rule")
    assert fleet.approvals == []
