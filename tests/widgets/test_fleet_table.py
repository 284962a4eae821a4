"""FleetTable against real demo agents: live rows, the expand reply, stalls, stopping."""

from __future__ import annotations

import threading
from pathlib import Path

import fleetnb
from fleetnb.widgets import FleetTable
from tests.widgets.conftest import launch_waiting, until


def _row(table: FleetTable, name: str) -> dict[str, object]:
    return next((row for row in table.rows if row["name"] == name), {})


def test_rows_appear_and_follow_the_agent_live(
    fleet: fleetnb.Fleet, repo: Path, table: FleetTable
) -> None:
    assert table.rows == []
    agent = launch_waiting(fleet, repo, "stage the notes")
    until(lambda: _row(table, agent.name).get("state") == "waiting", what="a waiting row")
    row = _row(table, agent.name)
    assert row["harness"] == "demo"
    assert row["model"] == "demo-scripted"
    assert row["task"] == "stage the notes"
    assert row["pending_approvals"] == 1
    assert row["demo"] is True
    assert str(row["last_action"]).startswith("Bash: git add")
    assert int(str(row["total_tokens"])) > 0

    (request,) = fleet.approvals
    request.approve()
    until(lambda: _row(table, agent.name).get("state") == "idle", what="the row to go idle")
    assert _row(table, agent.name)["pending_approvals"] == 0
    assert _row(table, agent.name)["last_action"] == "[demo] Done."


def test_rows_match_agent_row(fleet: fleetnb.Fleet, repo: Path, table: FleetTable) -> None:
    agent = launch_waiting(fleet, repo)
    until(lambda: _row(table, agent.name).get("state") == "waiting")
    expected = agent.row()
    row = _row(table, agent.name)
    for key in ("id", "name", "harness", "model", "state", "last_action", "total_tokens",
                "pending_approvals", "demo"):  # fmt: skip
        assert row[key] == expected[key], key


def test_each_agent_has_one_row_in_launch_order(
    fleet: fleetnb.Fleet, repo: Path, table: FleetTable
) -> None:
    agents = [launch_waiting(fleet, repo, f"task {i}") for i in range(3)]
    until(lambda: [row["state"] for row in table.rows] == ["waiting"] * 3, what="three rows")
    assert [row["name"] for row in table.rows] == [agent.name for agent in agents]


def test_expand_replies_with_recent_events_and_follows_them(
    fleet: fleetnb.Fleet, repo: Path, table: FleetTable
) -> None:
    agent = launch_waiting(fleet, repo)
    until(lambda: _row(table, agent.name).get("state") == "waiting")
    table._handle_custom_msg({"type": "expand", "agent": agent.id}, [])
    lines = table.details[agent.id]
    assert 0 < len(lines) <= 30
    assert "launched" in lines[0]
    assert "approval_requested" in lines[-1]
    assert all(isinstance(line, str) and "\n" not in line for line in lines)

    fleet.approvals[0].approve()
    until(lambda: any("approval_decided: allow by person" in x for x in table.details[agent.id]))

    table._handle_custom_msg({"type": "collapse", "agent": agent.name}, [])  # names work too
    assert agent.id not in table.details


def test_unknown_and_malformed_messages_are_ignored(
    fleet: fleetnb.Fleet, repo: Path, table: FleetTable
) -> None:
    table._handle_custom_msg({"type": "expand", "agent": "nobody"}, [])
    table._handle_custom_msg({"no": "type"}, [])
    table._handle_custom_msg(["not", "a", "dict"], [])
    table._handle_custom_msg({"type": "explode"}, [])
    assert table.details == {}
    assert table.live


def test_a_silent_running_agent_turns_stalled_on_the_tick(tmp_path: Path, repo: Path) -> None:
    fleet = fleetnb.Fleet(tmp_path / "root", stall_after=0.3)
    table = FleetTable(fleet, tick=0.1)
    try:
        agent = fleet.launch("slow", harness="demo", cwd=repo, options={"step_delay": 3})
        until(lambda: _row(table, agent.name).get("state") == "stalled", what="a stalled row")
        agent.stop(timeout=10)
        until(lambda: _row(table, agent.name).get("state") == "stopped")
    finally:
        table.close()
        fleet.close()


def test_close_stops_the_thread_and_keeps_the_last_rows(fleet: fleetnb.Fleet, repo: Path) -> None:
    table = FleetTable(fleet)
    threads = {t for t in threading.enumerate() if t.name == "fleetnb-widget"}
    assert table.live
    assert threads
    agent = launch_waiting(fleet, repo)
    until(lambda: _row(table, agent.name).get("state") == "waiting")
    table.close()
    assert not table.live
    assert not any(t.is_alive() for t in threads)
    assert _row(table, agent.name)["state"] == "waiting"


def test_stop_is_explicit_and_refresh_still_reads(fleet: fleetnb.Fleet, repo: Path) -> None:
    table = FleetTable(fleet)
    try:
        table.stop()
        assert not table.live
        agent = launch_waiting(fleet, repo)
        until(lambda: agent.state is fleetnb.State.WAITING)
        assert table.rows == []  # nothing pushes any more
        table.refresh()
        assert _row(table, agent.name)["state"] == "waiting"
    finally:
        table.close()


def test_a_table_that_is_not_live_starts_no_thread(fleet: fleetnb.Fleet) -> None:
    table = FleetTable(fleet, live=False)
    try:
        assert not table.live
        assert table.rows == []
    finally:
        table.close()


def test_annotations_show_in_the_table_even_after_the_agent_ended(
    fleet: fleetnb.Fleet, repo: Path, table: FleetTable
) -> None:
    agent = fleet.launch("noted", harness="demo", cwd=repo, approvals="allow", idle_timeout=0.2)
    until(lambda: agent.state.is_final, what="the agent to finish")
    agent.annotate("this diff is right", tag="review")
    agent.annotate("hallucinated endpoint", tag="bug")
    until(lambda: any(row["notes"] == "[bug] hallucinated endpoint" for row in table.rows))
    (row,) = [row for row in table.rows if row["id"] == agent.id]
    assert row["annotations"] == 2
    assert fleet.status().loc[0, "notes"] == "[bug] hallucinated endpoint"
    assert "[bug] hallucinated endpoint" in str(fleet)
