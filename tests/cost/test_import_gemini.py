"""Importing Gemini CLI chats: real chats the real CLI wrote against a fake Gemini API.

The fake sends known ``usageMetadata``; the import must give back exactly those
tokens in fleetnb's kinds (input without the cached part, thoughts counted as
output), once per model message, however often the chat is imported or grows.
The legacy whole-document format comes from a chat the real CLI 0.20.0 wrote
(``data/gemini-0.20.0-session.json``), as 0.61.0 no longer writes it.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fleetnb.cost import import_logs
from fleetnb.cost.ledger import Ledger
from fleetnb.cost.logs import LogChunk, log_format
from fleetnb.cost.logs_gemini import GeminiLogs
from fleetnb.cost.rates import rate_card
from fleetnb.cost.records import UsageRecord
from fleetnb.store import store_path
from tests.fakes.gemini import (
    DEFAULT_MODEL,
    FakeGemini,
    FakeUsage,
    FunctionCall,
    Text,
    gemini_env,
    write_gemini_home,
)

LEGACY_CHAT = Path(__file__).parent / "data" / "gemini-0.20.0-session.json"
# The usage the legacy chat was recorded with, replies one and two.
READ_USAGE = FakeUsage(
    prompt_tokens=1000, candidates_tokens=50, cached_tokens=400, thoughts_tokens=30
)
ANSWER_USAGE = FakeUsage(
    prompt_tokens=1200, candidates_tokens=40, cached_tokens=800, thoughts_tokens=10
)
FOLLOW_UP_USAGE = FakeUsage(prompt_tokens=2000, candidates_tokens=60, cached_tokens=1500)
Run = Callable[..., dict[str, Any]]
PARTIAL = b'{"id": "partial", "type": "gemini", "tok'


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    write_gemini_home(path)
    return path


@pytest.fixture
def work(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    (path / "README.md").write_text("hello\n", encoding="utf-8")
    return path


@pytest.fixture
def fleet_root(tmp_path: Path) -> Path:
    path = tmp_path / "fleet"
    path.mkdir()
    return path


@pytest.fixture
def gemini() -> Iterator[FakeGemini]:
    with FakeGemini() as fake:
        yield fake


@pytest.fixture
def run(gemini_cli: str, gemini: FakeGemini, home: Path, work: Path) -> Run:
    """One headless ``gemini -p`` run in ``work`` against the fake; returns its JSON result."""

    def run_gemini(*args: str, model: str | None = DEFAULT_MODEL) -> dict[str, Any]:
        pinned = ["-m", model] if model else []
        argv = [gemini_cli, *args, *pinned, "--output-format", "json"]
        env = gemini_env(home, gemini.base_url, os.environ)
        done = subprocess.run(
            argv, cwd=work, env=env, capture_output=True, text=True, timeout=90, check=False
        )
        assert done.returncode == 0, done.stderr[-2000:]
        result: dict[str, Any] = json.loads(done.stdout)
        return result

    return run_gemini


def expected(usage: FakeUsage) -> dict[str, int]:
    """The fleetnb token kinds of one fake reply."""
    return {
        "input_tokens": usage.prompt_tokens - usage.cached_tokens + usage.tool_use_prompt_tokens,
        "output_tokens": usage.candidates_tokens + usage.thoughts_tokens,
        "cache_read_tokens": usage.cached_tokens,
        "cache_write_tokens": 0,
        "reasoning_tokens": usage.thoughts_tokens,
    }


def tokens(record: UsageRecord) -> dict[str, int]:
    return {name: getattr(record, name) for name in expected(FakeUsage())}


def ledger(fleet_root: Path) -> list[UsageRecord]:
    with Ledger(store_path(fleet_root)) as opened:
        return opened.usage("gemini")


def chat_files(home: Path) -> list[Path]:
    return list(GeminiLogs().files(home / ".gemini"))


def read(path: Path, start: int = 0, state: dict[str, Any] | None = None) -> LogChunk:
    return GeminiLogs().read(path, start, state or {})


# -- the real CLI --------------------------------------------------------------------


def test_a_real_chat_imports_the_served_usage_exactly(
    run: Run, gemini: FakeGemini, home: Path, work: Path, fleet_root: Path
) -> None:
    gemini.add(
        FunctionCall("read_file", {"file_path": "README.md"}, "Let me look.", READ_USAGE),
        Text("It says hello.", ANSWER_USAGE),
    )
    result = run("-p", "What does README.md say?")
    assert len(gemini.turn_requests) == 2
    assert gemini.turn_requests[1].function_responses[0]["name"] == "read_file"
    [path] = chat_files(home)
    assert path.suffix == ".jsonl"

    imported = import_logs("gemini", path=home / ".gemini", root=fleet_root)
    assert (imported.records, imported.skipped, imported.problems) == (2, {}, [])
    records = ledger(fleet_root)
    assert [tokens(r) for r in records] == [expected(READ_USAGE), expected(ANSWER_USAGE)]
    session = result["session_id"]
    for record in records:
        assert (record.source, record.model, record.session) == ("gemini", DEFAULT_MODEL, session)
        assert record.project == str(work)
        assert record.key.startswith(f"{session}:")
    # The CLI's own totals agree: its "input" is the prompt count less the cache.
    stats = result["stats"]["models"][DEFAULT_MODEL]["tokens"]
    assert stats["input"] == sum(r.input_tokens for r in records)
    assert stats["candidates"] + stats["thoughts"] == sum(r.output_tokens for r in records)

    again = import_logs("gemini", path=home / ".gemini", root=fleet_root)
    assert (again.records, again.files_read, again.files_unchanged) == (0, 0, 1)
    assert ledger(fleet_root) == records


def test_a_resumed_chat_grows_and_is_counted_once(
    run: Run, gemini: FakeGemini, home: Path, fleet_root: Path
) -> None:
    gemini.add(Text("First.", READ_USAGE))
    first = run("-p", "one")
    import_logs("gemini", path=home / ".gemini", root=fleet_root)
    assert [tokens(r) for r in ledger(fleet_root)] == [expected(READ_USAGE)]
    [path] = chat_files(home)
    size = path.stat().st_size

    gemini.add(Text("Second.", FOLLOW_UP_USAGE))
    second = run("--resume", "latest", "-p", "two")
    assert second["session_id"] == first["session_id"]
    assert chat_files(home) == [path]  # the same file, appended to
    grown = import_logs("gemini", path=home / ".gemini", root=fleet_root)
    assert grown.files_read == 1
    assert grown.bytes_read == path.stat().st_size - size  # only the new part

    # The resumed CLI restates the earlier messages; they keep their keys.
    records = ledger(fleet_root)
    assert [tokens(r) for r in records] == [expected(READ_USAGE), expected(FOLLOW_UP_USAGE)]
    assert {r.session for r in records} == {first["session_id"]}
    assert {r.key: tokens(r) for r in read(path).records} == {r.key: tokens(r) for r in records}


def test_a_subagents_spend_is_imported_from_its_own_chat(
    run: Run, gemini: FakeGemini, home: Path, fleet_root: Path
) -> None:
    delegate = {"agent_name": "generalist", "prompt": "Summarise README.md in full detail."}
    gemini.add(
        FunctionCall("invoke_agent", delegate, usage=READ_USAGE),
        # The subagent's turn: it reports back through its complete_task tool.
        FunctionCall("complete_task", {"result": {"response": "hello"}}, usage=FOLLOW_UP_USAGE),
        Text("It says hello.", ANSWER_USAGE),
    )
    result = run("-p", "Delegate the summary.")
    assert [r.model for r in gemini.turn_requests] == [DEFAULT_MODEL] * 3
    assert "complete_task" in gemini.turn_requests[1].tool_names
    [sub, main] = chat_files(home)
    assert main.name.startswith("session-")
    assert sub.parent.name == result["session_id"]  # chats/<parent session>/<own session>.jsonl

    import_logs("gemini", path=home / ".gemini", root=fleet_root)
    by_session: dict[str, list[dict[str, int]]] = {}
    for record in ledger(fleet_root):
        by_session.setdefault(record.session, []).append(tokens(record))
    assert by_session == {
        result["session_id"]: [expected(READ_USAGE), expected(ANSWER_USAGE)],
        sub.stem: [expected(FOLLOW_UP_USAGE)],
    }
    roles = result["stats"]["models"][DEFAULT_MODEL]["roles"]
    assert roles["subagent"]["tokens"]["input"] == expected(FOLLOW_UP_USAGE)["input_tokens"]


def test_the_routers_own_question_is_not_in_the_chat(
    run: Run, gemini: FakeGemini, fleet_root: Path, home: Path
) -> None:
    # Without -m the CLI first asks a small model to score the task (a plain
    # generateContent) and picks the turn's model by the score; only the turn
    # is written to the chat, so no log reader sees the router's tokens.
    gemini.add(Text("Hi.", READ_USAGE))
    result = run("-p", "hello", model=None)
    [side] = [r for r in gemini.requests if not r.turn]
    [turn] = gemini.turn_requests
    assert side.path.endswith(":generateContent")
    assert side.model in result["stats"]["models"]  # the CLI counted it itself

    import_logs("gemini", path=home / ".gemini", root=fleet_root)
    [record] = ledger(fleet_root)
    assert record.model == turn.model != side.model
    assert tokens(record) == expected(READ_USAGE)


def test_ccusage_reads_the_same_chats_alike(
    run: Run, ccusage: str, gemini: FakeGemini, home: Path, fleet_root: Path
) -> None:
    delegate = {"agent_name": "generalist", "prompt": "Read README.md and report in detail."}
    gemini.add(
        FunctionCall("read_file", {"file_path": "README.md"}, "Let me look.", READ_USAGE),
        Text("It says hello.", ANSWER_USAGE),
        FunctionCall("invoke_agent", delegate, usage=FOLLOW_UP_USAGE),
        FunctionCall("complete_task", {"result": {"response": "hello"}}, usage=ANSWER_USAGE),
        Text("Again.", READ_USAGE),
    )
    run("-p", "What does README.md say?")
    run("--resume", "latest", "-p", "Ask a subagent.")
    import_logs("gemini", path=home / ".gemini", root=fleet_root)
    records = ledger(fleet_root)
    assert len(records) == 5
    assert len({r.session for r in records}) == 2

    env = gemini_env(home, gemini.base_url, os.environ)
    argv = [ccusage, "gemini", "daily", "--json", "--offline"]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=True)
    totals = json.loads(done.stdout)["totals"]

    thoughts = sum(r.reasoning_tokens for r in records)
    assert totals["inputTokens"] == sum(r.input_tokens for r in records)
    assert totals["cacheReadTokens"] == sum(r.cache_read_tokens for r in records)
    assert totals["cacheCreationTokens"] == 0
    # ccusage reports candidates only as output, but prices the thoughts as output too.
    assert totals["outputTokens"] == sum(r.output_tokens for r in records) - thoughts
    assert totals["totalTokens"] == sum(r.total_tokens for r in records)
    card = rate_card(DEFAULT_MODEL, "gemini")
    cost = sum(
        card.cost(r.input_tokens, r.output_tokens, 0, 0, r.cache_read_tokens) or 0.0
        for r in records
    )
    assert cost == pytest.approx(totals["totalCost"], rel=1e-3)


# -- damaged and partial chats -------------------------------------------------------


def test_a_damaged_chat_is_skipped_and_counted_not_fatal(
    run: Run, gemini: FakeGemini, home: Path, fleet_root: Path
) -> None:
    gemini.add(Text("Fine.", READ_USAGE))
    run("-p", "one")
    [path] = chat_files(home)
    with path.open("ab") as stream:
        stream.write(b'{"id": "broken", "type": "gem\n')  # not JSON
        stream.write(b'["not", "a", "record"]\n')
        stream.write(b'{"id": "m1", "type": "gemini", "timestamp": "2026-01-01T00:00:00Z"}\n')
        stream.write(b'{"id": "m2", "type": "gemini", "tokens": {"input": "many"}}\n')
        stream.write(PARTIAL)  # still being written

    imported = import_logs("gemini", path=home / ".gemini", root=fleet_root)
    assert imported.skipped == {
        "malformed_line": 1,
        "unknown_line": 1,
        "message_without_tokens": 1,
        "bad_usage": 1,
        "incomplete_last_line": 1,
    }
    assert imported.problems == []
    assert [tokens(r) for r in ledger(fleet_root)] == [expected(READ_USAGE)]

    # The partial last line was left for the next import, which finds it finished.
    with path.open("ab") as stream:
        stream.write(b'ens": {"input": 5}, "timestamp": "2026-01-01T00:00:00Z"}\n')
    rest = import_logs("gemini", path=home / ".gemini", root=fleet_root)
    assert (rest.records, rest.skipped) == (1, {})
    assert sorted(r.input_tokens for r in ledger(fleet_root)) == [5, 600]


def test_a_read_that_starts_midway_still_knows_its_session(
    run: Run, gemini: FakeGemini, home: Path
) -> None:
    gemini.add(Text("Fine.", READ_USAGE))
    result = run("-p", "one")
    [path] = chat_files(home)
    first_line = len(path.read_bytes().split(b"\n", 1)[0]) + 1
    chunk = read(path, first_line, {})  # no state carried over
    assert [r.session for r in chunk.records] == [result["session_id"]]
    assert chunk.state["session"] == result["session_id"]


# -- the legacy whole-document format ------------------------------------------------


def legacy_tree(tmp_path: Path, document: dict[str, Any]) -> tuple[Path, Path, str]:
    """A ``.gemini`` tree as a pre-0.61 CLI left it: chats under the project path's hash."""
    project = str(tmp_path / "project")
    root = tmp_path / "legacy" / ".gemini"
    chats = root / "tmp" / hashlib.sha256(project.encode()).hexdigest() / "chats"
    chats.mkdir(parents=True)
    registry = {"projects": {project: "project"}}
    (root / "projects.json").write_text(json.dumps(registry), encoding="utf-8")
    path = chats / "session-2026-11-28T04-16-20da6858.json"
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return root, path, project


def legacy_chat() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(LEGACY_CHAT.read_text(encoding="utf-8"))
    return document


def test_a_legacy_chat_is_reread_whole_as_it_grows(tmp_path: Path, fleet_root: Path) -> None:
    document = legacy_chat()
    assert [m["type"] for m in document["messages"]] == ["user", "gemini", "gemini"]
    # The CLI rewrote the whole document after each message; this is it after the first.
    early = {**document, "messages": document["messages"][:-1]}
    root, path, project = legacy_tree(tmp_path, early)
    assert list(GeminiLogs().files(root)) == [path]
    first = read(path)
    assert (first.rewrite, first.end) == (True, path.stat().st_size)
    import_logs("gemini", path=root, root=fleet_root)
    assert [tokens(r) for r in ledger(fleet_root)] == [expected(READ_USAGE)]

    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    import_logs("gemini", path=root, root=fleet_root)
    records = ledger(fleet_root)
    assert [tokens(r) for r in records] == [expected(READ_USAGE), expected(ANSWER_USAGE)]
    assert {r.session for r in records} == {document["sessionId"]}
    assert {r.project for r in records} == {project}
    assert {r.model for r in records} == {"gemini-2.5-flash"}


def test_a_truncated_legacy_chat_is_skipped_and_recovers(tmp_path: Path, fleet_root: Path) -> None:
    root, path, _ = legacy_tree(tmp_path, legacy_chat())
    whole = path.read_text(encoding="utf-8")
    path.write_text(whole[: len(whole) // 2], encoding="utf-8")  # caught mid-write

    chunk = read(path)
    assert (chunk.records, chunk.skipped, chunk.rewrite) == ([], {"malformed_document": 1}, False)
    imported = import_logs("gemini", path=root, root=fleet_root)
    assert (imported.skipped, imported.problems) == ({"malformed_document": 1}, [])

    path.write_text(whole, encoding="utf-8")
    import_logs("gemini", path=root, root=fleet_root)
    assert len(ledger(fleet_root)) == 2


def test_a_resumed_legacy_chat_continues_in_jsonl_under_the_same_keys(
    tmp_path: Path, fleet_root: Path
) -> None:
    # 0.61.0 resumes a .json chat by writing its messages into a .jsonl beside it.
    document = legacy_chat()
    root, path, _ = legacy_tree(tmp_path, document)
    lines = [{k: v for k, v in document.items() if k != "messages"}, *document["messages"]]
    continued = path.with_suffix(".jsonl")
    continued.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    assert list(GeminiLogs().files(root)) == [path, continued]

    imported = import_logs("gemini", path=root, root=fleet_root)
    assert imported.records == 4  # two files, the same two responses
    assert [tokens(r) for r in ledger(fleet_root)] == [
        expected(READ_USAGE),
        expected(ANSWER_USAGE),
    ]


# -- where the logs are --------------------------------------------------------------


def test_gemini_is_a_registered_log_format() -> None:
    assert isinstance(log_format("gemini"), GeminiLogs)


def test_default_root_follows_gemini_cli_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GEMINI_CLI_HOME", str(tmp_path))
    assert GeminiLogs().default_roots() == [tmp_path / ".gemini"]
    monkeypatch.delenv("GEMINI_CLI_HOME")
    assert GeminiLogs().default_roots() == [Path.home() / ".gemini"]


def test_files_are_chats_and_subagent_chats_not_backups(tmp_path: Path) -> None:
    project = tmp_path / ".gemini" / "tmp" / "work"
    chats = project / "chats"
    (chats / "parent-session").mkdir(parents=True)
    wanted = [
        chats / "parent-session" / "sub.jsonl",
        chats / "session-a.json",
        chats / "session-b.jsonl",
    ]
    for path in [
        *wanted,
        chats / "session-b.jsonl.unreadable-1764300000000",
        chats / "session-b.jsonl.tmp-4242",
        project / "logs.json",
    ]:
        path.write_text("{}\n", encoding="utf-8")
    assert list(GeminiLogs().files(tmp_path / ".gemini")) == wanted
    assert list(GeminiLogs().files(tmp_path / "elsewhere")) == []
