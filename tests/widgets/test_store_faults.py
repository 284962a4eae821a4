"""A store that vanishes, turns unreadable or is locked: a banner, the last rows, recovery."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import fleetnb
from fleetnb.widgets import ApprovalQueue, FleetTable
from fleetnb.widgets._live import store_problem
from tests.widgets.conftest import launch_waiting, until


def _states(table: FleetTable) -> list[str]:
    return [str(row["state"]) for row in table.rows]


def test_a_vanished_store_is_reported_not_recreated_and_the_widgets_recover(
    fleet: fleetnb.Fleet, repo: Path, table: FleetTable, queue: ApprovalQueue
) -> None:
    agent = launch_waiting(fleet, repo)
    until(lambda: _states(table) == ["waiting"] and len(queue.requests) == 1)
    rows, requests = list(table.rows), list(queue.requests)
    path = fleet.store.path
    moved = path.with_name("moved.db")
    path.rename(moved)
    try:
        until(lambda: "vanished" in table.error and "vanished" in queue.error, what="a banner")
        assert str(path) in table.error
        assert table.rows == rows
        assert queue.requests == requests
        assert not path.exists()  # nothing made a new, empty store in its place
        data, _ = table._repr_mimebundle_()
        assert "vanished" in data["text/html"]
    finally:
        moved.rename(path)
    until(lambda: not table.error and not queue.error, what="the banner to clear")

    fleet.approvals[0].approve()
    until(lambda: _states(table) == ["idle"] and queue.requests == [], what="live again")
    assert agent.state is fleetnb.State.IDLE


def test_a_vanished_store_directory_is_reported_and_recovers(
    fleet: fleetnb.Fleet, repo: Path, table: FleetTable
) -> None:
    launch_waiting(fleet, repo)
    until(lambda: _states(table) == ["waiting"])
    rows = list(table.rows)
    folder = fleet.store.path.parent  # the store with its -wal and -shm files, and the logs
    moved = folder.with_name("moved-away")
    folder.rename(moved)
    try:
        until(lambda: "vanished" in table.error, what="a banner")
        assert table.rows == rows
        assert not folder.exists()
    finally:
        moved.rename(folder)
    until(lambda: not table.error, what="the banner to clear")
    fleet.approvals[0].approve()
    until(lambda: _states(table) == ["idle"])


_HOLD_LOCK = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=0)
conn.execute("PRAGMA locking_mode=EXCLUSIVE")
conn.execute("BEGIN EXCLUSIVE")
conn.execute("INSERT INTO agents VALUES (1)")
print("locked", flush=True)
sys.stdin.read()
"""


def test_a_locked_store_is_named_as_locked(tmp_path: Path) -> None:
    # A WAL store cannot be locked against readers while any connection is open, so
    # the widgets' check is shown a store nobody else holds, locked by another process.
    path = tmp_path / "fleet.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE agents (id)")
    conn.close()
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "locked\n"
        problem = store_problem(path)
        assert problem is not None
        assert "is locked by another process" in problem
    finally:
        holder.communicate("")
    assert store_problem(path) is None


def test_a_store_that_is_fine_has_no_problem(fleet: fleetnb.Fleet) -> None:
    assert store_problem(fleet.store.path) is None
    assert "vanished" in str(store_problem(fleet.store.path.with_name("gone.db")))
