"""Importing Codex rollouts: real ones from the real CLI, and hand-written ones for the rules.

The real rollouts come from the harness fixtures (codex app-server against the fake
Responses API); the import must find, response by response, the usage fleetnb's
own events recorded. The hand-written rollouts pin the rules learnt from
ccusage's ``codex`` reports and are checked against ccusage itself.
"""

from __future__ import annotations

import json
import os
import shutil
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
from tests.fakes.openai_responses import FakeResponses, FakeUsage, HttpError, Shell, Text
from tests.harnesses.conftest import CODEX_MODEL, CodexLauncher

pytestmark = pytest.mark.timeout(180)

WAIT_S = 60.0

Tokens = tuple[int, int, int]  # uncached input, output, cache read


def _until(condition: Callable[[], bool], timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


def _event_tokens(agent: fleetnb.Agent) -> list[Tokens]:
    return sorted(
        (p["input_tokens"], p["output_tokens"], p["cache_read_tokens"])
        for p in (dict(e.payload) for e in agent.events(kinds=[EventKind.USAGE]))
    )


def _ledger_tokens(root: Path) -> list[Tokens]:
    with Ledger(store_path(root)) as ledger:
        return sorted(
            (r.input_tokens, r.output_tokens, r.cache_read_tokens) for r in ledger.usage("codex")
        )


def _fake_tokens(*usages: FakeUsage) -> list[Tokens]:
    """The fake's figures in fleetnb's convention: input without the cached part."""
    return sorted(
        (u.input_tokens - u.cached_tokens, u.output_tokens, u.cached_tokens) for u in usages
    )


# -- the real CLI ----------------------------------------------------------------------


def test_a_real_thread_resumed_imports_exactly_the_usage_fleetnb_recorded(
    fake: FakeResponses,
    launch_codex: CodexLauncher,
    codex_env: dict[str, str],
    fleet: fleetnb.Fleet,
    repo: Path,
) -> None:
    codex_home = Path(codex_env["CODEX_HOME"])
    call, done, later = FakeUsage(1200, 1000, 30), FakeUsage(1300, 1150, 12), FakeUsage(900, 0, 7)
    fake.add(Shell("echo hi > out.txt", usage=call), Text("wrote it", done))
    agent = launch_codex(approvals="allow")
    assert agent.wait(WAIT_S) is State.IDLE
    assert agent.stop() is State.STOPPED
    # A resumed thread: the CLI re-reads its rollout and goes on writing cumulative counts.
    fake.add(Text("and more", later))
    agent.resume("go on", env=codex_env)
    assert agent.wait(WAIT_S) is State.IDLE

    result = import_logs("codex", codex_home, root=fleet.root)

    expected = _fake_tokens(call, done, later)
    assert _event_tokens(agent) == expected
    assert _ledger_tokens(fleet.root) == expected
    assert result.problems == [], str(result)
    assert result.skipped == {}, str(result)
    with Ledger(store_path(fleet.root)) as ledger:
        records = ledger.usage("codex")
    assert {r.model for r in records} == {CODEX_MODEL}
    assert {r.project for r in records} == {str(repo)}
    assert all(agent.session_id and agent.session_id in r.session for r in records)

    again = import_logs("codex", codex_home, root=fleet.root)
    assert (again.files_read, again.records) == (0, 0)


def test_a_real_usage_limit_becomes_a_limit_hit(
    fake: FakeResponses, launch_codex: CodexLauncher, codex_home: Path, fleet: fleetnb.Fleet
) -> None:
    fake.add(HttpError(429, "usage_limit_reached", "You've hit your usage limit."))
    agent = launch_codex()
    _until(lambda: agent.state is State.LIMITED)
    _until(lambda: b"usage_limit_exceeded" in b"".join(
        p.read_bytes() for p in codex_home.rglob("rollout-*.jsonl")))  # fmt: skip

    result = import_logs("codex", codex_home, root=fleet.root)

    assert result.limits == 1, str(result)
    with Ledger(store_path(fleet.root)) as ledger:
        (hit,) = ledger.limits("codex")
    assert "usage limit" in hit.message
    assert agent.session_id
    assert agent.session_id in hit.session


# -- hand-written rollouts -------------------------------------------------------------


def _tokens(inp: int, out: int, cached: int = 0, written: int = 0, reasoning: int = 0) -> Any:
    return {
        "input_tokens": inp,
        "cached_input_tokens": cached,
        "cache_write_input_tokens": written,
        "output_tokens": out,
        "reasoning_output_tokens": reasoning,
        "total_tokens": inp + out,
    }


def _count(second: int, total: Any, last: Any, limits: Any = None) -> dict[str, Any]:
    info: dict[str, Any] | None = None if total is None and last is None else {}
    if info is not None and total is not None:
        info["total_token_usage"] = total
    if info is not None and last is not None:
        info["last_token_usage"] = last
    rate_limits = {"limit_id": "codex", "primary": None, "secondary": None, **(limits or {})}
    payload = {"type": "token_count", "info": info, "rate_limits": rate_limits}
    return {
        "timestamp": f"2026-11-20T10:00:{second:02d}.000Z",
        "type": "event_msg",
        "payload": payload,
    }


def _rollout(thread: str, model: str, *events: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"timestamp": "2026-11-20T10:00:00.000Z", "type": "session_meta",
         "payload": {"id": thread, "cwd": "/srv/demo", "cli_version": "0.171.0"}},
        {"timestamp": "2026-11-20T10:00:00.100Z", "type": "turn_context",
         "payload": {"turn_id": "t1", "cwd": "/srv/demo", "model": model}},
        {"timestamp": "2026-11-20T10:00:00.200Z", "type": "response_item",
         "payload": {"type": "message", "role": "user", "content": []}},
        *events,
    ]  # fmt: skip


def _write(path: Path, lines: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(x, separators=(",", ":")) + "\n" for x in lines))


def _ccusage(home: Path) -> tuple[int, int, int, int]:
    binary = require_binary("ccusage")
    env = {"PATH": os.environ["PATH"], "HOME": str(home.parent), "CODEX_HOME": str(home)}
    out = subprocess.run(
        [binary, "codex", "session", "--json", "--offline"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    t = json.loads(out)["totals"]
    return (t["inputTokens"], t["outputTokens"], t["cacheCreationTokens"], t["cacheReadTokens"])


def test_hand_written_rollouts_follow_ccusages_rules(tmp_path: Path) -> None:
    home = tmp_path / "codex-home"
    day = home / "sessions" / "2026" / "11" / "20"
    _write(
        day / "rollout-2026-11-20T10-00-00-aaaa.jsonl",
        _rollout(
            "aaaa",
            "gpt-5.1-codex",
            _count(1, None, None),  # before any usage
            _count(2, _tokens(1000, 20, 400, 50, 7), _tokens(1000, 20, 400, 50, 7)),
            _count(3, _tokens(1000, 20, 400, 50, 7), _tokens(1000, 20, 400, 50, 7)),  # a repeat
            _count(4, _tokens(1100, 30, 400, 50, 7), None),  # no last: the growth counts
            _count(5, _tokens(1300, 40, 400, 50, 7), _tokens(200, 10)),
        ),
    )
    limits = {
        "primary": {"used_percent": 100.0, "window_minutes": 300, "resets_at": 1764300000},
        "secondary": {"used_percent": 40.0, "window_minutes": 10080, "resets_at": 1764900000},
    }
    _write(
        home / "archived_sessions" / "rollout-2026-11-20T09-00-00-bbbb.jsonl",
        _rollout("bbbb", "gpt-5.2", _count(6, _tokens(10, 5), _tokens(10, 5), limits)),
    )

    result = import_logs("codex", home, root=tmp_path / "fleet")

    with Ledger(store_path(tmp_path / "fleet")) as ledger:
        records = ledger.usage("codex")
        hits = ledger.limits("codex")
    rows = sorted(
        (r.input_tokens, r.output_tokens, r.cache_write_tokens, r.cache_read_tokens, r.model)
        for r in records
    )
    assert rows == [
        (10, 5, 0, 0, "gpt-5.2"),
        (100, 10, 0, 0, "gpt-5.1-codex"),
        (200, 10, 0, 0, "gpt-5.1-codex"),
        (550, 20, 50, 400, "gpt-5.1-codex"),
    ]
    assert {r.session for r in records} == {
        "2026/11/20/rollout-2026-11-20T10-00-00-aaaa",
        "rollout-2026-11-20T09-00-00-bbbb",
    }
    assert [(h.window_minutes, h.resets_at, h.message) for h in hits] == [
        (300, 1764300000, "5-hour limit reached (100% used)")
    ]
    assert result.skipped == {}
    totals = tuple(sum(row[i] for row in rows) for i in range(4))  # type: ignore[misc]
    assert _ccusage(home) == totals


def test_a_rollout_moved_to_the_archive_is_not_counted_twice(tmp_path: Path) -> None:
    home = tmp_path / "codex-home"
    live = home / "sessions" / "2026" / "11" / "20" / "rollout-2026-11-20T10-00-00-aaaa.jsonl"
    _write(live, _rollout("aaaa", "gpt-5.1-codex", _count(2, _tokens(100, 20), _tokens(100, 20))))
    import_logs("codex", home, root=tmp_path / "fleet")
    archived = home / "archived_sessions" / live.name
    archived.parent.mkdir(parents=True)
    shutil.move(live, archived)

    result = import_logs("codex", home, root=tmp_path / "fleet")

    assert (result.files_gone, result.files_read) == (1, 1)
    assert _ledger_tokens(tmp_path / "fleet") == [(100, 20, 0)]


def test_default_root_follows_codex_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    codex = log_format("codex")
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "ch"))
    assert codex.default_roots() == [tmp_path / "ch"]
    monkeypatch.delenv("CODEX_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert codex.default_roots() == [tmp_path / ".codex"]
