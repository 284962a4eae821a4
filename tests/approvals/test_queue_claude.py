"""The approval queue with the real Claude Code CLI under the default policy."""

from __future__ import annotations

from pathlib import Path

import fleetnb
from fleetnb import EventKind, State
from tests.approvals.waiting import the_one_pending
from tests.fakes.anthropic import FakeAnthropic, Text, ToolUse
from tests.harnesses.conftest import ClaudeLauncher

TIMEOUT = 90


def test_approve_lets_the_cli_run_the_command(
    fleet: fleetnb.Fleet, launch_claude: ClaudeLauncher, anthropic: FakeAnthropic, repo: Path
) -> None:
    anthropic.add(ToolUse("Bash", {"command": "touch made-by-claude"}), Text("Made it."))
    agent = launch_claude("make a file", approvals=None)  # the default policy asks
    request = the_one_pending(fleet)
    assert (request.agent.id, request.tool, request.risk) == (agent.id, "Bash", "medium")
    assert request.input["command"] == "touch made-by-claude"
    assert agent.state is State.WAITING
    assert not (repo / "made-by-claude").exists()
    request.approve()
    assert agent.wait(TIMEOUT) is State.IDLE
    assert (repo / "made-by-claude").exists()


def test_deny_keeps_the_file_and_tells_the_agent_why(
    fleet: fleetnb.Fleet, launch_claude: ClaudeLauncher, anthropic: FakeAnthropic, repo: Path
) -> None:
    anthropic.add(ToolUse("Bash", {"command": "touch denied-file"}), Text("Fine."))
    agent = launch_claude("make a file", approvals=None)
    the_one_pending(fleet).deny(reason="use the build script instead")
    assert agent.wait(TIMEOUT) is State.IDLE
    assert not (repo / "denied-file").exists()
    (told,) = anthropic.turn_requests[1].tool_results
    assert told["is_error"] is True
    assert "use the build script instead" in str(told["content"])


def test_an_unanswered_request_is_denied_after_the_timeout(
    fleet: fleetnb.Fleet, launch_claude: ClaudeLauncher, anthropic: FakeAnthropic, repo: Path
) -> None:
    anthropic.add(ToolUse("Bash", {"command": "touch too-late"}), Text("Okay."))
    agent = launch_claude("make a file", approvals=None, approval_timeout=1.0)
    assert agent.wait(TIMEOUT) is State.IDLE
    decided = agent.events(kinds=[EventKind.APPROVAL_DECIDED])
    assert [(e.payload["decision"], e.payload["by"]) for e in decided] == [("deny", "timeout")]
    assert not (repo / "too-late").exists()


def test_a_destructive_command_never_reaches_the_cli(
    fleet: fleetnb.Fleet,
    launch_claude: ClaudeLauncher,
    anthropic: FakeAnthropic,
    claude_env: dict[str, str],
) -> None:
    canary = Path(claude_env["HOME"]) / "precious.txt"
    canary.write_text("keep me")
    anthropic.add(ToolUse("Bash", {"command": "rm -rf ~"}), Text("I was stopped."))
    agent = launch_claude("clean up", approvals=None)
    assert agent.wait(TIMEOUT) is State.IDLE
    assert canary.read_text() == "keep me"
    (decided,) = agent.events(kinds=[EventKind.APPROVAL_DECIDED])
    assert (decided.payload["decision"], decided.payload["by"]) == ("deny", "rule")
    assert "destructive" in decided.payload["reason"]
    assert fleet.approvals == []  # nobody was asked
    (told,) = anthropic.turn_requests[1].tool_results
    assert told["is_error"] is True
