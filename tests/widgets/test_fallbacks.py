"""Static views: escaped HTML and plain text for papermill, nbconvert, GitHub and print()."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import fleetnb
from fleetnb.widgets import ApprovalQueue, FleetTable, fleet_html, fleet_text, live_table
from fleetnb.widgets._requests import request_view, shorten_block
from fleetnb.widgets._static import queue_html, table_html
from tests.widgets.conftest import launch_waiting, until

EVIL_NAME = "<img/src=x/onerror=alert(1)>"
EVIL_TASK = "<script>alert('task')</script> & <b>bold</b>"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


@pytest.fixture
def evil(fleet: fleetnb.Fleet, repo: Path) -> fleetnb.Agent:
    agent = launch_waiting(fleet, repo, EVIL_TASK, name=EVIL_NAME)
    until(lambda: agent.state is fleetnb.State.WAITING)
    return agent


def _assert_escaped(markup: str) -> None:
    assert "<script" not in markup
    assert "<img" not in markup
    assert "<b>" not in markup
    assert "&lt;script&gt;" in markup
    assert "&lt;img/src=x/onerror=alert(1)&gt;" in markup


def test_the_table_bundle_has_the_widget_and_escaped_fallbacks(
    evil: fleetnb.Agent, table: FleetTable
) -> None:
    until(lambda: any(row["state"] == "waiting" for row in table.rows))
    data, _ = table._repr_mimebundle_()
    assert data[WIDGET_MIME]["model_id"] == table.model_id
    _assert_escaped(data["text/html"])
    assert "fleetnb-row" not in data["text/html"]  # the static view never matches the live DOM
    assert EVIL_NAME in data["text/plain"]
    assert "waiting" in data["text/plain"]
    assert str(table) == data["text/plain"]
    assert table._repr_html_() == data["text/html"]


def test_the_queue_bundle_has_the_widget_and_escaped_fallbacks(
    evil: fleetnb.Agent, queue: ApprovalQueue
) -> None:
    until(lambda: len(queue.requests) == 1)
    data, _ = queue._repr_mimebundle_()
    assert WIDGET_MIME in data
    assert "&lt;img/src=x/onerror=alert(1)&gt;" in data["text/html"]
    assert "<img" not in data["text/html"]
    assert "git add" in data["text/plain"]
    assert "risk=medium" in data["text/plain"]


def test_commands_diffs_and_errors_are_escaped_in_the_static_queue() -> None:
    view = request_view(
        request_id="r1", agent="a<b>", agent_id="x", tool="Edit",
        tool_input={"file_path": "<x>.py", "old_string": "a = 1\n", "new_string": "<script>\n"},
        risk="high", reason="<i>why</i>", rule="r", risk_reasons=[], requested_ts=0.0,
    )  # fmt: skip
    view["error"] = "<svg onload=alert(1)>"
    markup = queue_html([view], error="<b>banner</b>")
    for raw in ("<script", "<svg", "<x>", "<i>", "<b>"):
        assert raw not in markup
    assert "+&lt;script&gt;" in markup  # the diff line
    assert "&lt;b&gt;banner&lt;/b&gt;" in markup


def _view(tool: str, tool_input: dict[str, object]) -> dict[str, Any]:
    return request_view(
        request_id="r", agent="a", agent_id="x", tool=tool, tool_input=tool_input,
        risk="low", reason="", rule="", risk_reasons=[], requested_ts=0.0,
    )  # fmt: skip


def test_an_edit_shows_a_diff_and_a_write_its_content() -> None:
    edit = _view("Edit", {"file_path": "f.py", "old_string": "a\n", "new_string": "b\n"})
    assert (edit["path"], edit["body_kind"]) == ("f.py", "diff")
    assert "-a\n+b" in edit["body"]
    write = _view("Write", {"file_path": "g", "content": "x\n" * 500})
    assert write["body_kind"] == "content"
    assert write["body"].count("\n") <= 41
    assert "characters shown" in write["body"]
    other = _view("Fetch", {"url_list": [1, 2]})
    assert other["body_kind"] == "input"
    assert '"url_list"' in other["body"]
    shell = _view("Bash", {"command": "ls -la"})
    assert (shell["command"], shell["body"]) == ("ls -la", "")


def test_shorten_block_keeps_short_text_whole() -> None:
    assert shorten_block("one\ntwo") == "one\ntwo"
    assert shorten_block("x" * 50, max_chars=10).startswith("x" * 10 + "\n… (cut: 10 of 50")


def test_the_static_table_escapes_rows_given_directly() -> None:
    row = {"name": EVIL_NAME, "state": "failed", "task": EVIL_TASK, "last_action": "<script>",
           "harness": "h", "model": "m", "elapsed_s": 3725, "total_tokens": 12345,
           "cost_usd": 0.5, "pending_approvals": 0, "demo": False}  # fmt: skip
    markup = table_html([row], error="<script>boom</script>")
    _assert_escaped(markup)
    assert "1h 02m" in markup
    assert "12.3k" in markup
    assert "$0.5000" in markup
    assert "✖ failed" in markup


def test_a_fleet_prints_and_renders_a_plain_table(
    evil: fleetnb.Agent, fleet: fleetnb.Fleet
) -> None:
    text = str(fleet)
    assert EVIL_NAME in text
    assert "waiting" in text
    assert "1 pending approval(s)" in text
    assert text == fleet_text(fleet)
    _assert_escaped(fleet._repr_html_())
    assert fleet._repr_html_() == fleet_html(fleet)
    bundle = fleet._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html"}
    _assert_escaped(bundle["text/html"])
    assert repr(fleet).startswith("<Fleet ")


def test_an_empty_fleet_says_so(fleet: fleetnb.Fleet) -> None:
    assert "no agents yet" in str(fleet)
    assert "no pending approvals" in str(fleet)


def test_a_fleet_keeps_one_table_and_one_queue(fleet: fleetnb.Fleet) -> None:
    table, queue = fleet.table(), fleet.queue()
    try:
        assert fleet.table() is table
        assert fleet.queue() is queue
        assert table.live
        assert queue.live
        table.close()
        again = fleet.table()
        assert again is not table
        assert again is live_table(fleet)
        again.close()
    finally:
        queue.close()


def test_displaying_a_fleet_without_a_kernel_shows_the_static_view(
    evil: fleetnb.Agent, fleet: fleetnb.Fleet, capsys: pytest.CaptureFixture[str]
) -> None:
    fleet._ipython_display_()
    printed = capsys.readouterr().out
    assert EVIL_NAME in printed
    assert "pending approval" in printed
