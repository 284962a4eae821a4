"""API truth checks inside the fleet: the real Claude Code CLI writes a call that does
not exist, the runner checks its changed lines, and the finding goes back to it."""

from __future__ import annotations

from pathlib import Path

import pytest

import fleetnb
from fleetnb.cli import main as cli_main
from fleetnb.errors import LaunchError
from fleetnb.events import EventKind, State
from tests.conftest import stop_running, until
from tests.fakes.anthropic import FakeAnthropic, Text, ToolUse
from tests.harnesses.conftest import ClaudeLauncher

TIMEOUT = 120.0
CLIENT = "from stripe import StripeClient\nclient = StripeClient('sk_test_1')\n"


def _checks(agent: fleetnb.Agent) -> list[dict[str, object]]:
    return [dict(e.payload) for e in agent.events(kinds=[EventKind.TRUTH_CHECKED])]


def _checked(agent: fleetnb.Agent, errors: int, turns: int = 1) -> bool:
    """The latest check found ``errors`` and the agent has finished ``turns`` turns."""
    checks = _checks(agent)
    finished = agent.events(kinds=[EventKind.TURN_FINISHED])
    return bool(checks) and checks[-1]["errors"] == errors and len(finished) >= turns


def test_an_invented_call_is_found_fed_back_and_fixed(
    launch_claude: ClaudeLauncher, anthropic: FakeAnthropic, repo: Path
) -> None:
    app = repo / "billing.py"
    anthropic.add(
        ToolUse(
            "Write",
            {"file_path": str(app), "content": CLIENT + "client.v1.customers.fetch('cus_1')\n"},
        ),
        Text("Wrote billing.py."),
        ToolUse(
            "Edit",
            {"file_path": str(app), "old_string": "fetch", "new_string": "retrieve"},
        ),
        Text("Fixed."),
    )
    agent = launch_claude("write billing.py", fix_findings=True)
    until(lambda: _checked(agent, errors=0, turns=2), "the check after the fix", timeout=TIMEOUT)
    assert agent.state is State.IDLE

    assert "client.v1.customers.retrieve('cus_1')" in app.read_text()
    checks = _checks(agent)
    first = checks[0]
    assert (first["trigger"], first["errors"], first["files"]) == ("edit", 1, ["billing.py"])
    findings = first["findings"]
    assert isinstance(findings, list)
    assert [(f["line"], f["suggestion"]) for f in findings] == [(3, "retrieve")]
    # The runner told the agent, in its own words, and the agent's next turn fixed it.
    (told,) = [e.payload for e in agent.events(kinds=[EventKind.USER_MESSAGE])]
    assert told["by"] == "truth"
    assert "billing.py:3:1" in told["text"]
    assert "retrieve" in told["text"]
    assert any("billing.py:3:1" in text for text in anthropic.turn_requests[-1].user_texts)
    assert checks[-1]["errors"] == 0
    latest = agent.findings
    assert latest is not None
    assert latest.findings == []
    row = agent.row()
    assert (row["api_errors"], row["api_warnings"]) == (0, 0)
    kinds = [entry["kind"] for entry in agent.evidence(kinds=["check"]).entries]
    assert kinds == ["check"] * len(checks)


def test_without_fix_findings_the_agent_is_not_told(
    launch_claude: ClaudeLauncher, anthropic: FakeAnthropic, repo: Path
) -> None:
    app = repo / "billing.py"
    anthropic.add(
        ToolUse(
            "Write", {"file_path": str(app), "content": CLIENT + "client.v1.customer.list()\n"}
        ),
        Text("Wrote billing.py."),
    )
    agent = launch_claude("write billing.py")
    assert agent.wait(timeout=TIMEOUT) is State.IDLE
    until(lambda: _checked(agent, errors=1), "the check of the written file", timeout=TIMEOUT)
    assert agent.events(kinds=[EventKind.USER_MESSAGE]) == []
    assert agent.row()["api_errors"] == 1
    report = agent.check()  # by hand: the same finding, recorded again
    assert [f.suggestion for f in report.findings] == ["customers"]
    assert _checks(agent)[-1]["trigger"] == "manual"


def test_check_false_records_no_checks(
    launch_claude: ClaudeLauncher, anthropic: FakeAnthropic, repo: Path
) -> None:
    anthropic.add(
        ToolUse("Write", {"file_path": str(repo / "a.py"), "content": CLIENT + "client.v1.x()\n"}),
        Text("Done."),
    )
    agent = launch_claude("write a.py", check=False)
    assert agent.wait(timeout=TIMEOUT) is State.IDLE
    agent.stop()
    assert _checks(agent) == []
    assert agent.row()["api_errors"] is None


def test_a_flag_that_is_not_a_bool_is_refused(fleet: fleetnb.Fleet, repo: Path) -> None:
    with pytest.raises(LaunchError, match="fix_findings='yes' must be True or False"):
        fleet.launch("task", harness="demo", cwd=repo, fix_findings="yes")  # type: ignore[arg-type]
    assert fleet.agents == []


def test_the_cli_launch_takes_the_check_flags(tmp_path: Path, repo: Path) -> None:
    root = tmp_path / "cli-root"
    root.mkdir()
    base = ["--root", str(root), "launch", "note things", "--harness", "demo", "--cwd", str(repo),
            "--approvals", "allow", "--wait"]  # fmt: skip
    assert cli_main([*base, "--name", "plain"]) == 0
    assert cli_main([*base, "--name", "unchecked", "--no-check"]) == 0
    assert cli_main([*base, "--name", "told", "--fix-findings"]) == 0
    fleet = fleetnb.Fleet(root)
    try:
        configs = {a.name: a.record.config for a in fleet.agents}
        flags = {name: (c["check"], c["fix_findings"]) for name, c in configs.items()}
        assert flags == {
            "plain": (True, False),
            "unchecked": (False, False),
            "told": (True, True),
        }
        assert configs["plain"]["check_base"] is not None  # the repository's commit
        assert "check_base" not in configs["unchecked"]
    finally:
        stop_running(fleet)
        fleet.close()


def test_code_that_does_not_parse_is_a_problem_and_the_agent_goes_on(
    launch_claude: ClaudeLauncher, anthropic: FakeAnthropic, repo: Path
) -> None:
    anthropic.add(
        ToolUse("Write", {"file_path": str(repo / "broken.py"), "content": "def broken(:\n"}),
        Text("Wrote it."),
        Text("Still here."),
    )
    agent = launch_claude("write broken.py")
    until(lambda: _checked(agent, errors=0), "the check of the broken file", timeout=TIMEOUT)
    problems = _checks(agent)[-1]["problems"]
    assert isinstance(problems, list)
    assert [str(p)[:28] for p in problems] == ["broken.py:1: does not parse "]
    agent.send("are you there?")
    until(
        lambda: len(agent.events(kinds=[EventKind.TURN_FINISHED])) == 2,
        "a second turn",
        timeout=TIMEOUT,
    )
    assert agent.wait(timeout=TIMEOUT) is State.IDLE
