"""The SQLite event store, with real processes writing at once."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fleetnb.errors import ApprovalError, StoreError
from fleetnb.events import EventKind
from fleetnb.store import AgentRecord, EventStore, store_path


def _agent(store: EventStore, agent_id: str) -> None:
    record = AgentRecord(agent_id, f"n-{agent_id}", "demo", None, "task", "/", time.time())
    store.create_agent(record, {"task": "task"})


@pytest.fixture
def store(tmp_path: Path) -> EventStore:
    return EventStore(store_path(tmp_path))


def test_store_lives_under_the_root_in_wal_mode(tmp_path: Path, store: EventStore) -> None:
    assert store.path == tmp_path / ".fleetnb" / "fleet.db"
    conn = sqlite3.connect(store.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_fleetnb_home_overrides_the_default_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLEETNB_HOME", str(tmp_path / "home"))
    assert store_path() == tmp_path / "home" / ".fleetnb" / "fleet.db"


def test_sequence_numbers_are_per_agent_and_tail_resumes(store: EventStore) -> None:
    _agent(store, "a")
    _agent(store, "b")
    store.append_many("a", [(EventKind.ASSISTANT_TEXT, {"text": str(i)}) for i in range(3)])
    store.append("b", EventKind.ASSISTANT_TEXT, {"text": "b"})
    assert [e.seq for e in store.events("a")] == [1, 2, 3, 4]
    assert [e.seq for e in store.events("b")] == [1, 2]
    position, _ = store.tail()[2]
    assert [e.payload.get("text") for _, e in store.tail(position)] == ["1", "2", "b"]
    assert [e.seq for e in store.events("a", after_seq=2)] == [3, 4]


def test_a_decision_is_recorded_once(store: EventStore) -> None:
    _agent(store, "a")
    store.append("a", EventKind.APPROVAL_REQUESTED, {"request_id": "r1", "tool": "Bash"})
    store.decide("a", "r1", {"decision": "allow", "by": "person"})
    with pytest.raises(ApprovalError, match="already decided"):
        store.decide("a", "r1", {"decision": "deny", "by": "person"})
    with pytest.raises(ApprovalError, match="no approval request"):
        store.decide("a", "nope", {"decision": "deny", "by": "person"})


def test_finish_is_recorded_once(store: EventStore) -> None:
    _agent(store, "a")
    assert store.finish_if_open("a", {"status": "done"}) is not None
    assert store.finish_if_open("a", {"status": "failed"}) is None
    assert [e.payload["status"] for e in store.events("a", kinds=["agent_finished"])] == ["done"]


def test_an_unusable_path_is_a_clear_error(tmp_path: Path) -> None:
    not_a_db = tmp_path / "fleet.db"
    not_a_db.write_text("this is not sqlite " * 100)
    with pytest.raises(StoreError, match="cannot open the fleet store"):
        EventStore(not_a_db)


_WRITER = """
import sys
from fleetnb.store import EventStore
store = EventStore(sys.argv[1])
own, shared, n = sys.argv[2], sys.argv[3], int(sys.argv[4])
for i in range(n):
    store.append(own, "assistant_text", {"i": i})
    store.append(shared, "assistant_text", {"writer": own, "i": i})
"""


def test_eight_processes_and_the_kernel_lose_and_double_nothing(store: EventStore) -> None:
    writers, per_writer = 8, 150
    _agent(store, "shared")
    for index in range(writers):
        _agent(store, f"w{index}")
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(store.path), f"w{i}", "shared", str(per_writer)]
        )
        for i in range(writers)
    ]
    for i in range(per_writer):  # the kernel writes at the same time
        store.append("shared", EventKind.USER_MESSAGE, {"writer": "kernel", "i": i})
    assert [p.wait(timeout=120) for p in processes] == [0] * writers

    shared = store.events("shared")
    assert [e.seq for e in shared] == list(range(1, len(shared) + 1))
    seen = [(e.payload.get("writer"), e.payload.get("i")) for e in shared[1:]]
    assert len(seen) == len(set(seen)) == (writers + 1) * per_writer
    for index in range(writers):
        own = store.events(f"w{index}")
        assert [e.seq for e in own] == list(range(1, per_writer + 2))
    positions = [position for position, _ in store.tail(limit=100_000)]
    assert positions == sorted(set(positions))
    assert len(positions) == store.count_events()


def test_readers_can_refuse_to_create_a_vanished_store(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is gone"):
        EventStore(store_path(tmp_path), create=False)
    assert not store_path(tmp_path).exists()
