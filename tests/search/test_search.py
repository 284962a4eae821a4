"""Full-text search over the store: ranked, filtered, safe with any input."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

import fleetnb
from fleetnb.cli import main
from fleetnb.errors import StoreError
from fleetnb.events import EventKind
from fleetnb.store import AgentRecord, EventStore, store_path


def _agent(store: EventStore, agent_id: str, name: str) -> None:
    record = AgentRecord(agent_id, name, "demo", None, "task", "/", time.time())
    store.create_agent(record, {"task": f"task of {name}"})


@pytest.fixture
def root(tmp_path: Path) -> Path:
    store = EventStore(store_path(tmp_path))
    _agent(store, "a1", "alpha")
    _agent(store, "b2", "beta")
    store.append_many(
        "a1",
        [
            (EventKind.ASSISTANT_TEXT, {"text": "refactor the parser module"}),
            (EventKind.TOOL_CALL, {"tool": "Bash", "input": {"command": "pytest -k parser"}}),
            (EventKind.ASSISTANT_TEXT, {"text": "the parser, the parser, the parser again"}),
        ],
    )
    store.append("b2", EventKind.ASSISTANT_TEXT, {"text": "fix the lexer; parser untouched"})
    store.append("b2", EventKind.TOOL_RESULT, {"output": 'error: "unterminated" (line 3) *'})
    store.close()
    return tmp_path


def test_search_ranks_matches_across_agents(root: Path) -> None:
    with_fleet = fleetnb.Fleet(root)
    frame = with_fleet.search("parser")
    assert list(frame.columns) == ["agent", "agent_id", "seq", "ts", "kind", "snippet", "rank"]
    assert len(frame) == 4
    assert frame.iloc[0]["snippet"].count("[parser]") == 3  # the densest match ranks first
    assert list(frame["rank"]) == sorted(frame["rank"])
    assert set(frame["agent"]) == {"alpha", "beta"}
    with_fleet.close()


def test_nested_payload_strings_are_searchable_and_filters_apply(root: Path) -> None:
    fleet = fleetnb.Fleet(root)
    call = fleet.search("pytest")
    assert list(call["kind"]) == ["tool_call"]
    assert len(fleet.search("parser", agent="beta")) == 1
    assert len(fleet.search("parser", kind="tool_call")) == 1
    assert len(fleet.search("parser", limit=2)) == 2
    assert fleet.search("nothing-like-this").empty
    fleet.close()


@pytest.mark.parametrize(
    "query",
    ['"', '"unterminated', "*", "-k", "a:b", "(line", "AND", "parser AND", "NOT OR", "^", "", "  "],
)
def test_fts_syntax_in_queries_never_crashes(root: Path, query: str) -> None:
    fleet = fleetnb.Fleet(root)
    fleet.search(query)  # any result, but no error
    fleet.close()


def test_punctuated_words_are_found_as_written(root: Path) -> None:
    fleet = fleetnb.Fleet(root)
    assert list(fleet.search('"unterminated" (line')["agent"]) == ["beta"]
    assert list(fleet.search("-k parser")["kind"]) == ["tool_call"]
    fleet.close()


def test_raw_queries_use_fts_syntax_and_bad_ones_say_so(root: Path) -> None:
    store = EventStore(store_path(root))
    assert len(store.search("lexer OR refactor", raw=True)) == 2
    with pytest.raises(StoreError, match="FTS5 query syntax"):
        store.search('"unbalanced', raw=True)
    store.close()


def test_an_older_store_gets_its_index_on_open(tmp_path: Path) -> None:
    path = store_path(tmp_path)
    store = EventStore(path)
    _agent(store, "a1", "alpha")
    store.append("a1", EventKind.ASSISTANT_TEXT, {"text": "written before search existed"})
    store.close()
    conn = sqlite3.connect(path)
    conn.executescript("DROP TABLE events_fts; DROP VIEW events_text;")
    conn.close()
    reopened = EventStore(path)
    hits = reopened.search("before search")
    assert [(h.agent, h.seq) for h in hits] == [("alpha", 2)]
    assert hits[0].snippet == "written [before] [search] existed"
    reopened.append("a1", EventKind.ASSISTANT_TEXT, {"text": "and after"})
    assert len(reopened.search("after")) == 1
    reopened.close()


def test_cli_search(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--root", str(root), "search", "lexer", "--json"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["agent"] == "beta"
    assert main(["--root", str(root), "search", "parser", "--agent", "alpha"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3
    assert main(["--root", str(root), "search", "zzz"]) == 0
    assert "no events match" in capsys.readouterr().out
