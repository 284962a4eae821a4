"""Importing Claude Code transcripts: real ones from the real CLI, and a hand-checked tree.

The real transcripts come from the harness fixtures (the real CLI against the fake
Anthropic API); what the import finds must equal, response by response, what
fleetnb's own events recorded for the same agent. The hand-written tree pins the
deduplication rules learnt from ccusage, and is checked against ccusage itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import fleetnb
from fleetnb import EventKind, State
from fleetnb.cost import import_logs
from fleetnb.cost.ledger import Ledger
from fleetnb.cost.logs import log_format
from fleetnb.store import store_path
from tests.conftest import require_binary
from tests.fakes.anthropic import FakeAnthropic, FakeUsage, Text, ToolUse
from tests.harnesses.conftest import ClaudeLauncher

TIMEOUT = 90
SONNET = "claude-sonnet-4-5-20250929"
OPUS = "claude-opus-4-1-20250805"

Tokens = tuple[int, int, int, int]  # input, output, cache write, cache read


def _until(condition: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def _event_tokens(agent: fleetnb.Agent) -> list[Tokens]:
    return sorted(
        (p["input_tokens"], p["output_tokens"], p["cache_write_tokens"], p["cache_read_tokens"])
        for p in (dict(e.payload) for e in agent.events(kinds=[EventKind.USAGE]))
    )


def _ledger_tokens(root: Path, source: str = "claude") -> list[Tokens]:
    with Ledger(store_path(root)) as ledger:
        return sorted(
            (r.input_tokens, r.output_tokens, r.cache_write_tokens, r.cache_read_tokens)
            for r in ledger.usage(source)
        )


def _ccusage(config: Path, report: str = "session") -> Tokens:
    binary = require_binary("ccusage")
    env = {"PATH": os.environ["PATH"], "HOME": str(config.parent), "CLAUDE_CONFIG_DIR": str(config)}
    out = subprocess.run(
        [binary, "claude", report, "--json", "--offline"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    t = json.loads(out)["totals"]
    return (t["inputTokens"], t["outputTokens"], t["cacheCreationTokens"], t["cacheReadTokens"])


def _sum(rows: list[Tokens]) -> Tokens:
    return (
        sum(r[0] for r in rows),
        sum(r[1] for r in rows),
        sum(r[2] for r in rows),
        sum(r[3] for r in rows),
    )


# -- the real CLI ----------------------------------------------------------------------


def test_a_real_session_imports_exactly_the_usage_fleetnb_recorded(
    launch_claude: ClaudeLauncher,
    anthropic: FakeAnthropic,
    claude_env: dict[str, str],
    fleet: fleetnb.Fleet,
    repo: Path,
) -> None:
    anthropic.add(
        # A text block and a tool call in one response: two transcript lines, one usage.
        ToolUse(
            "Write",
            {"file_path": str(repo / "a.txt"), "content": "a\n"},
            preamble="Writing a.txt.",
            usage=FakeUsage(111, 22, 33, 44),
        ),
        ToolUse("Bash", {"command": "cat a.txt"}, usage=FakeUsage(200, 30, 0, 150)),
        Text("Done.", FakeUsage(5, 6, 7, 8)),
    )
    agent = launch_claude("write a.txt")
    assert agent.wait(timeout=TIMEOUT) is State.IDLE
    anthropic.add(Text("Second answer.", FakeUsage(50, 10, 0, 300)))
    agent.send("and again")
    _until(lambda: len(agent.events(kinds=[EventKind.TURN_FINISHED])) == 2)
    assert agent.wait(timeout=TIMEOUT) is State.IDLE

    config = Path(claude_env["CLAUDE_CONFIG_DIR"])
    result = import_logs("claude", config, root=fleet.root)

    expected = [(5, 6, 7, 8), (50, 10, 0, 300), (111, 22, 33, 44), (200, 30, 0, 150)]
    assert _event_tokens(agent) == expected  # what fleetnb saw live, the fake's figures
    assert _ledger_tokens(fleet.root) == expected  # what the CLI's own transcript says
    assert result.records >= 4, str(result)
    assert result.problems == [], str(result)
    assert result.skipped == {}, str(result)
    with Ledger(store_path(fleet.root)) as ledger:
        (session,) = {r.session for r in ledger.usage()}
        assert {r.model for r in ledger.usage()} == {SONNET}
    assert session == agent.session_id

    # ccusage's session report agrees on every kind but cache writes: Claude Code writes an
    # all-zero 5m/1h split when the API sent none (this fake does), and ccusage trusts it.
    ours = _sum(expected)
    assert _ccusage(config) == (ours[0], ours[1], 0, ours[3])

    again = import_logs("claude", config, root=fleet.root)
    assert (again.files_unchanged, again.files_read, again.records) == (result.files_seen, 0, 0)
    assert _ledger_tokens(fleet.root) == expected


def test_a_usage_limit_message_becomes_a_limit_hit_with_its_reset(
    launch_claude: ClaudeLauncher,
    anthropic: FakeAnthropic,
    claude_env: dict[str, str],
    fleet: fleetnb.Fleet,
) -> None:
    anthropic.add(Text("Claude AI usage limit reached|1893456000", FakeUsage(100, 20)))
    agent = launch_claude()
    _until(lambda: agent.state is State.LIMITED)
    _until(lambda: bool(list(Path(claude_env["CLAUDE_CONFIG_DIR"]).rglob("*.jsonl"))))

    result = import_logs("claude", claude_env["CLAUDE_CONFIG_DIR"], root=fleet.root)

    assert result.limits == 1, str(result)
    with Ledger(store_path(fleet.root)) as ledger:
        (hit,) = ledger.limits()
    assert hit.resets_at == 1893456000
    assert hit.message == "Claude AI usage limit reached"
    assert hit.session == agent.session_id
    (event,) = [dict(e.payload) for e in agent.events(kinds=[EventKind.LIMIT_HIT])]
    assert event["resets_at"] == hit.resets_at
    assert _ledger_tokens(fleet.root) == _event_tokens(agent) == [(100, 20, 0, 0)]


# -- a hand-checked tree ---------------------------------------------------------------


def _line(mid: str | None, rid: str | None, usage: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """An assistant line shaped as Claude Code writes it (fields it never reads left out)."""
    message: dict[str, Any] = {
        "type": "message",
        "role": "assistant",
        "model": extra.pop("model", SONNET),
        "content": [{"type": "text", "text": extra.pop("text", "ok")}],
        "usage": usage,
    }
    if mid is not None:
        message["id"] = mid
    line = {
        "parentUuid": None,
        "isSidechain": False,
        "message": message,
        "type": "assistant",
        "uuid": f"u-{mid}-{rid}-{len(str(usage))}",
        "timestamp": extra.pop("timestamp", "2026-11-20T10:00:00.000Z"),
        "sessionId": "ignored-by-ccusage",
        "version": "2.1.332",
    }
    if rid is not None:
        line["requestId"] = rid
    line.update(extra)
    return line


def _u(inp: int, out: int, write: int = 0, read: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "input_tokens": inp,
        "cache_creation_input_tokens": write,
        "cache_read_input_tokens": read,
        "output_tokens": out,
        **extra,
    }


def _write(path: Path, lines: list[Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(
        (x if isinstance(x, str) else json.dumps(x, separators=(",", ":"))) + "\n" for x in lines
    )
    path.write_text(text)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    config = tmp_path / "claude-config"
    projects = config / "projects"
    _write(
        projects / "-p1" / "s1.jsonl",
        [
            {"type": "user", "message": {"role": "user", "content": "hi"}, "timestamp": "x"},
            # One response over three lines: the one with the most tokens counts (50, not 20).
            _line("m1", "r1", _u(10, 5, 100, 1000)),
            _line("m1", "r1", _u(10, 50, 100, 1000)),
            _line("m1", "r1", _u(10, 20, 100, 1000)),
            # No requestId: message.id alone keys it, whatever the timestamps.
            _line("m2", None, _u(7, 3), timestamp="2026-11-20T10:00:01.000Z"),
            _line("m2", None, _u(7, 3), timestamp="2026-11-20T10:00:01.050Z"),
            # No message.id: never deduplicated.
            _line(None, "r3", _u(1, 1)),
            _line(None, "r3", _u(1, 1)),
            # Sidechain and API-error lines count; a 1-hour cache split counts as written.
            _line("m4", "r4", _u(2, 2), isSidechain=True),
            _line(
                "m5",
                "r5",
                _u(
                    3,
                    3,
                    0,
                    0,
                    cache_creation={
                        "ephemeral_5m_input_tokens": 100,
                        "ephemeral_1h_input_tokens": 200,
                    },
                ),
                model=OPUS,
                isApiErrorMessage=True,
            ),
            # Lines ccusage drops: no timestamp, no output_tokens.
            {**_line("m6", "r6", _u(1000, 1000)), "timestamp": None},
            _line("m7", "r7", {"input_tokens": 1000}),
            # Claude Code's synthetic limit message: zero usage, a limit hit.
            _line(
                "m8",
                None,
                _u(0, 0),
                model="<synthetic>",
                isApiErrorMessage=True,
                text="Claude AI usage limit reached|1764300000",
            ),
            {"type": "summary", "summary": "a compaction summary", "leafUuid": "u1"},
        ],
    )
    # The same response again in another session's file: still one.
    _write(projects / "-p2" / "s2.jsonl", [_line("m1", "r1", _u(10, 50, 100, 1000))])
    # A subagent's file counts for its parent session.
    _write(projects / "-p1" / "s1" / "subagents" / "agent-a1.jsonl", [_line("m9", "r9", _u(4, 4))])
    return config


def test_the_hand_checked_tree_follows_ccusages_rules(tree: Path, tmp_path: Path) -> None:
    result = import_logs("claude", tree, root=tmp_path)

    with Ledger(store_path(tmp_path)) as ledger:
        records = {r.key: r for r in ledger.usage()}
        limits = ledger.limits()
    m1 = records["m1:r1"]
    assert (m1.output_tokens, m1.session, m1.project) == (50, "s1", "-p1")
    assert records["m2"].input_tokens == 7
    assert len([k for k in records if "@" in k]) == 2  # the two id-less lines
    assert records["m5:r5"].cache_write_tokens == 300
    assert records["m5:r5"].cache_write_1h_tokens == 200
    assert records["m9:r9"].session == "s1"
    assert not {"m6:r6", "m7:r7", "m8"} & set(records)
    assert [(h.resets_at, h.session) for h in limits] == [(1764300000, "s1")]
    assert result.skipped == {"bad_timestamp": 1, "invalid_usage": 1}
    totals = _sum(
        [
            (r.input_tokens, r.output_tokens, r.cache_write_tokens, r.cache_read_tokens)
            for r in records.values()
        ]
    )
    assert totals == (10 + 7 + 1 + 1 + 2 + 3 + 4, 50 + 3 + 1 + 1 + 2 + 3 + 4, 400, 1000)
    assert _ccusage(tree, "session") == totals


def test_default_roots_follow_claude_config_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    claude = log_format("claude")
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", f"{tmp_path / 'a'}, {tmp_path / 'b'}")
    assert claude.default_roots() == [tmp_path / "a", tmp_path / "b"]
    monkeypatch.delenv("CLAUDE_CONFIG_DIR")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert claude.default_roots() == [tmp_path / ".config" / "claude", tmp_path / ".claude"]


def test_an_import_without_a_path_reads_the_default_roots(
    tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tree))
    result = import_logs("claude", root=tmp_path / "fleet")
    assert result.files_seen == 3
    assert result.records > 0
