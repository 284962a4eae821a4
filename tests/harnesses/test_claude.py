"""The Claude harness end to end: the real ``claude`` CLI, a fake Anthropic API, the Fleet API.

Nothing of fleetnb is mocked: each test launches a detached runner that drives
the real CLI through ``claude-agent-sdk``; the fake model server decides what
the model says and records what the CLI sent.
"""

from __future__ import annotations

import http.client
import json
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import psutil
import pytest

import fleetnb
from fleetnb import EventKind, State, Usage
from tests.fakes.anthropic import ApiError, FakeAnthropic, FakeUsage, Stall, Text, ToolUse
from tests.harnesses.conftest import MODEL, ClaudeLauncher

TIMEOUT = 90  # the CLI takes a few seconds to start; a busy CI machine more


def _kinds(agent: fleetnb.Agent) -> list[str]:
    return [e.kind for e in agent.events()]


def _payloads(agent: fleetnb.Agent, kind: str) -> list[dict[str, object]]:
    return [dict(e.payload) for e in agent.events(kinds=[kind])]


def _is_subsequence(wanted: Sequence[str], kinds: Sequence[str]) -> bool:
    remaining = iter(kinds)
    return all(kind in remaining for kind in wanted)


def _until(condition: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    """Poll ``condition`` until it holds (synchronisation on a fact, not a sleep)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout


def _script(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text(body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def _claude_processes(config_dir: str) -> list[psutil.Process]:
    """Live CLI processes of one test (its CLAUDE_CONFIG_DIR is unique)."""
    found = []
    for process in psutil.process_iter():
        try:
            if "stream-json" not in process.cmdline() or process.status() == psutil.STATUS_ZOMBIE:
                continue
            if process.environ().get("CLAUDE_CONFIG_DIR") == config_dir:
                found.append(process)
        except psutil.Error:
            continue
    return found


def test_tool_calls_change_the_repo_and_events_follow_the_cli(
    launch_claude: ClaudeLauncher, anthropic: FakeAnthropic, repo: Path
) -> None:
    target = repo / "hello.txt"
    anthropic.add(
        ToolUse(
            "Write",
            {"file_path": str(target), "content": "hello from claude\n"},
            preamble="I'll write the file.",
            usage=FakeUsage(111, 22, 33, 44),
        ),
        ToolUse(
            "Bash",
            {"command": "git add hello.txt", "description": "Stage the file"},
            usage=FakeUsage(200, 30, 0, 150),
        ),
        Text("Wrote and staged hello.txt.", FakeUsage(5, 6, 7, 8)),
    )
    agent = launch_claude("write hello.txt and stage it")
    assert agent.wait(timeout=TIMEOUT) is State.IDLE

    assert target.read_text() == "hello from claude\n"
    assert _git(repo, "status", "--porcelain").splitlines() == ["A  hello.txt"]
    kinds = _kinds(agent)
    assert _is_subsequence(
        ["session_started", "tool_call", "tool_result", "usage", "turn_finished"], kinds
    ), kinds
    calls = _payloads(agent, EventKind.TOOL_CALL)
    results = _payloads(agent, EventKind.TOOL_RESULT)
    assert [c["tool"] for c in calls] == ["Write", "Bash"]
    assert [r["call_id"] for r in results] == [c["call_id"] for c in calls]
    assert not any(r["is_error"] for r in results)
    assert "I'll write the file." in [p["text"] for p in _payloads(agent, "assistant_text")]
    assert agent.session_id == _payloads(agent, EventKind.SESSION_STARTED)[0]["session_id"]
    assert agent.model == MODEL


def test_usage_is_counted_once_per_message_and_cost_is_the_clis(
    launch_claude: ClaudeLauncher, anthropic: FakeAnthropic, repo: Path
) -> None:
    anthropic.add(
        # Two content blocks in one message: the CLI sends two AssistantMessages.
        ToolUse(
            "Write",
            {"file_path": str(repo / "a.txt"), "content": "a\n"},
            preamble="Writing a.txt.",
            usage=FakeUsage(111, 22, 33, 44),
        ),
        Text("Done.", FakeUsage(5, 6, 7, 8)),
    )
    agent = launch_claude()
    assert agent.wait(timeout=TIMEOUT) is State.IDLE

    usage = _payloads(agent, EventKind.USAGE)
    reported = [
        (u["input_tokens"], u["output_tokens"], u["cache_write_tokens"], u["cache_read_tokens"])
        for u in usage
    ]
    assert reported == [(111, 22, 33, 44), (5, 6, 7, 8)]
    assert agent.usage == Usage(116, 28, 52, 40)
    (finished,) = _payloads(agent, EventKind.TURN_FINISHED)
    assert agent.cost_usd == finished["session_cost_usd"]
    # The CLI's own list price for claude-sonnet-4-5: $3 in, $15 out,
    # $3.75 cache write, $0.30 cache read per million tokens.
    assert agent.cost_usd == pytest.approx((116 * 3 + 28 * 15 + 40 * 3.75 + 52 * 0.3) / 1e6)


def test_send_continues_the_same_session(
    launch_claude: ClaudeLauncher, anthropic: FakeAnthropic
) -> None:
    anthropic.add(Text("First answer."))
    agent = launch_claude("first question")
    assert agent.wait(timeout=TIMEOUT) is State.IDLE
    first_session, first_cost = agent.session_id, agent.cost_usd

    anthropic.add(Text("Second answer."))
    agent.send("a follow-up question")
    _until(lambda: len(agent.events(kinds=[EventKind.TURN_FINISHED])) == 2)
    assert agent.wait(timeout=TIMEOUT) is State.IDLE

    assert first_session is not None
    assert agent.session_id == first_session
    assert len(_payloads(agent, EventKind.SESSION_STARTED)) == 1
    assert agent.cost_usd > first_cost  # the CLI's session cost is cumulative
    last = anthropic.turn_requests[-1]
    assert "a follow-up question" in last.user_texts[-1]
    assert any("first question" in text for text in last.user_texts)  # same conversation


def test_denied_tool_leaves_the_file_alone_and_tells_the_agent_why(
    launch_claude: ClaudeLauncher, anthropic: FakeAnthropic, repo: Path
) -> None:
    target = repo / "notes.txt"
    anthropic.add(
        ToolUse("Write", {"file_path": str(target), "content": "not allowed\n"}),
        Text("Understood, I will not write it."),
    )
    agent = launch_claude("write notes.txt", approvals="deny")
    assert agent.wait(timeout=TIMEOUT) is State.IDLE

    assert not target.exists()
    assert _git(repo, "status", "--porcelain") == ""
    (decided,) = _payloads(agent, EventKind.APPROVAL_DECIDED)
    assert decided["decision"] == "deny"
    why = str(decided["reason"])
    assert why
    (result,) = _payloads(agent, EventKind.TOOL_RESULT)
    assert result["is_error"] is True
    assert why in str(result["output"])
    (told,) = anthropic.turn_requests[1].tool_results  # what the model was told
    assert told["is_error"] is True
    assert why in str(told["content"])


def test_an_asked_approval_waits_for_a_person(
    launch_claude: ClaudeLauncher, anthropic: FakeAnthropic, repo: Path
) -> None:
    target = repo / "approved.txt"
    anthropic.add(
        ToolUse("Write", {"file_path": str(target), "content": "approved\n"}),
        Text("Written after approval."),
    )
    agent = launch_claude("write approved.txt", approvals="ask")
    _until(lambda: agent.state is State.WAITING)
    (pending,) = agent.status().pending_approvals
    assert pending["tool"] == "Write"
    assert not target.exists()

    agent.decide(str(pending["request_id"]), allow=True, reason="looks fine")
    assert agent.wait(timeout=TIMEOUT) is State.IDLE
    assert target.read_text() == "approved\n"


def test_bad_stdout_lines_become_parse_errors_and_the_agent_goes_on(
    launch_claude: ClaudeLauncher, anthropic: FakeAnthropic, claude_cli: str, tmp_path: Path
) -> None:
    garbage = [
        "plain text, not JSON",
        '{"type": "assistant", "message": {"content": [',  # cut off mid-object
        '{"type": "a_message_type_from_the_future", "x": 1}',
        '{"type": "assistant"}',  # a known type without its fields
        "[1, 2, 3]",
    ]
    wrapper = _script(
        tmp_path,
        "claude-noisy",
        f"""#!{sys.executable}
import subprocess, sys
cli = subprocess.Popen([{claude_cli!r}, *sys.argv[1:]], stdout=subprocess.PIPE)
for number, line in enumerate(cli.stdout):
    sys.stdout.buffer.write(line)
    if number == 0:  # right after the CLI's first message
        sys.stdout.write("".join(g + "\\n" for g in {garbage!r}))
    sys.stdout.flush()
sys.exit(cli.wait())
""",
    )
    anthropic.add(Text("Still here."))
    agent = launch_claude(binary=wrapper)
    assert agent.wait(timeout=TIMEOUT) is State.IDLE

    errors = _payloads(agent, EventKind.PARSE_ERROR)
    assert [e["raw"] for e in errors] == garbage
    assert all(e["error"] for e in errors)
    assert agent.status().parse_errors == len(garbage)
    (finished,) = _payloads(agent, EventKind.TURN_FINISHED)
    assert finished["result"] == "Still here."


def test_a_crashing_cli_fails_the_agent_with_its_exit_code_and_stderr(
    launch_claude: ClaudeLauncher, tmp_path: Path
) -> None:
    wrapper = _script(
        tmp_path,
        "claude-crash",
        "#!/bin/sh\necho 'claude: segmentation fault in the fake crash' >&2\nexit 3\n",
    )
    agent = launch_claude(binary=wrapper)
    assert agent.wait(timeout=TIMEOUT) is State.FAILED

    (finished,) = _payloads(agent, EventKind.AGENT_FINISHED)
    assert finished["status"] == "failed"
    assert finished["exit_code"] == 3
    assert "segmentation fault in the fake crash" in str(finished["stderr_tail"])


def test_stop_during_a_stalled_reply_kills_the_cli(
    launch_claude: ClaudeLauncher, anthropic: FakeAnthropic, claude_env: dict[str, str]
) -> None:
    anthropic.add(Stall())
    agent = launch_claude()
    anthropic.wait_for(lambda request: request.turn, timeout=TIMEOUT)
    config_dir = claude_env["CLAUDE_CONFIG_DIR"]
    assert _claude_processes(config_dir), "the CLI should be waiting on the stalled reply"
    assert agent.state is State.RUNNING

    assert agent.stop() is State.STOPPED
    _until(lambda: not _claude_processes(config_dir), timeout=10)
    (finished,) = _payloads(agent, EventKind.AGENT_FINISHED)
    assert finished["status"] == "stopped"


@pytest.mark.parametrize(
    ("reply", "message", "resets_at"),
    [
        pytest.param(
            ApiError(429, "rate_limit_error", "Number of requests has exceeded your limit"),
            "429",
            None,
            id="api-429",
        ),
        pytest.param(
            Text("Claude AI usage limit reached|1893456000"),
            "Claude AI usage limit reached",
            1893456000,
            id="subscription-usage-limit",
        ),
    ],
)
def test_a_limited_turn_puts_the_agent_in_limited(
    launch_claude: ClaudeLauncher,
    anthropic: FakeAnthropic,
    reply: ApiError | Text,
    message: str,
    resets_at: int | None,
) -> None:
    anthropic.add(reply)
    agent = launch_claude()
    _until(lambda: agent.state is State.LIMITED)

    (limit,) = _payloads(agent, EventKind.LIMIT_HIT)
    assert message in str(limit["message"])
    assert limit["resets_at"] == resets_at
    assert agent.status().limit_resets_at == resets_at
    assert len(_payloads(agent, EventKind.TURN_FINISHED)) == 1


def test_a_missing_binary_is_refused_at_launch(
    fleet: fleetnb.Fleet, repo: Path, tmp_path: Path
) -> None:
    with pytest.raises(fleetnb.HarnessNotFoundError, match="binary="):
        fleet.launch("task", harness="claude", cwd=repo, binary=str(tmp_path / "no-claude"))
    assert len(fleet) == 0


def test_the_fake_answers_side_requests_without_using_the_script() -> None:
    # Not an agent turn (no tools): a quota probe or title request the CLI may send.
    with FakeAnthropic([Text("scripted")]) as fake:
        host, port = fake.url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        body = {"model": MODEL, "max_tokens": 1, "messages": [{"role": "user", "content": "q"}]}
        connection.request("POST", "/v1/messages?beta=true", json.dumps(body))
        answer = json.loads(connection.getresponse().read())
        connection.close()
    assert answer["content"][0]["text"] != "scripted"
    assert [r.turn for r in fake.requests] == [False]


def test_without_the_sdk_launch_says_what_to_install(repo: Path, tmp_path: Path) -> None:
    # A real interpreter in which claude_agent_sdk cannot be imported.
    code = f"""
import sys
class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "claude_agent_sdk":
            raise ModuleNotFoundError(name)
sys.meta_path.insert(0, Blocker())
import fleetnb
try:
    fleetnb.Fleet({str(tmp_path / "root")!r}).launch("t", harness="claude", cwd={str(repo)!r})
except fleetnb.HarnessNotFoundError as exc:
    print(exc)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "`claude-agent-sdk` is not installed; install `fleetnb[claude]`" in out.stdout
    assert "binary=" in out.stdout


def test_resume_continues_a_finished_session(
    launch_claude: ClaudeLauncher, anthropic: FakeAnthropic, claude_env: dict[str, str]
) -> None:
    anthropic.add(Text("First answer."))
    agent = launch_claude("first question")
    assert agent.wait(timeout=TIMEOUT) is State.IDLE
    assert agent.stop() is State.STOPPED
    first_session = agent.session_id
    assert first_session is not None
    requests_before = len(anthropic.turn_requests)

    anthropic.add(Text("Second answer."))
    agent.resume("the next instruction", env=claude_env)
    _until(lambda: len(agent.events(kinds=[EventKind.TURN_FINISHED])) == 2)
    assert agent.wait(timeout=TIMEOUT) is State.IDLE

    assert agent.session_id == first_session
    launched = _payloads(agent, EventKind.LAUNCHED)
    assert launched[1]["resume"] == first_session
    assert launched[1]["task"] == "the next instruction"
    first_of_second_run = anthropic.turn_requests[requests_before]
    assert "the next instruction" in first_of_second_run.user_texts[-1]
    assert any("first question" in text for text in first_of_second_run.user_texts)
    assert "First answer." in json.dumps(first_of_second_run.body)
