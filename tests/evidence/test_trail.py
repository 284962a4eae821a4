"""Building trails from the store: pairing, file changes, filters, trimming, bounds, escaping."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest

import fleetnb
from fleetnb.evidence import MIME_TYPE, SCHEMA, EvidenceTrail
from tests.evidence.agents import Item, command, recorded_agent
from tests.evidence.samples import SECRETS


def test_commands_pair_with_their_results_by_call_id(fleet: fleetnb.Fleet) -> None:
    items: list[Item] = [
        ("tool_call", {"call_id": "a", "tool": "Bash", "input": {"command": "make test"}}),
        ("tool_call", {"call_id": "b", "tool": "Bash", "input": {"command": "ls"}}),
        ("tool_result", {"call_id": "b", "output": "README.md", "is_error": False,
                         "exit_code": 0}),
        ("tool_result", {"call_id": "a", "output": "1 failed", "is_error": True,
                         "exit_code": 2}),
    ]  # fmt: skip
    trail = recorded_agent(fleet, items).evidence(kinds=["command"])
    make, ls = trail.entries
    assert (make["command"], make["exit_code"], make["output"], make["status"]) == (
        "make test", 2, "1 failed", "error",
    )  # fmt: skip
    assert (ls["command"], ls["exit_code"], ls["output"]) == ("ls", 0, "README.md")
    assert make["output_seq"] == 5  # the launched event is seq 1


def test_file_changes_carry_diffs(fleet: fleetnb.Fleet) -> None:
    edit = {"file_path": "/r/app.py", "old_string": "x = 1\n", "new_string": "x = 2\n"}
    patch = {"changes": [{"path": "b.py", "kind": "add", "diff": "+print('hi')\n"}],
             "paths": ["b.py"]}  # fmt: skip
    items: list[Item] = [
        ("tool_call", {"call_id": "e", "tool": "Edit", "input": edit}),
        ("tool_call", {"call_id": "w", "tool": "Write", "input": {"file_path": "n.txt",
                                                                   "content": "new\n"}}),
        ("tool_call", {"call_id": "p", "tool": "apply_patch", "input": patch}),
    ]  # fmt: skip
    entries = recorded_agent(fleet, items).evidence(kinds=["file_change"]).entries
    assert [e["paths"] for e in entries] == [["/r/app.py"], ["n.txt"], ["b.py"]]
    assert "-x = 1\n+x = 2" in entries[0]["diff"]
    assert "+new" in entries[1]["diff"]
    assert "+print('hi')" in entries[2]["diff"]
    html = entries_html(recorded_agent(fleet, items).evidence())
    assert '<span class="fleetnb-diff-add" style="color:#15803d">+x = 2</span>' in html
    assert '<span class="fleetnb-diff-del" style="color:#b91c1c">-x = 1</span>' in html


def test_approvals_say_who_decided(fleet: fleetnb.Fleet) -> None:
    items: list[Item] = [
        ("approval_requested", {"request_id": "r1", "tool": "Bash",
                                "input": {"command": "git push"}, "reason": "pushes"}),
        ("approval_decided", {"request_id": "r1", "decision": "deny", "by": "person",
                              "reason": "not yet"}),
        ("approval_requested", {"request_id": "r2", "tool": "Write", "input": {"path": "x"}}),
    ]  # fmt: skip
    approvals = recorded_agent(fleet, items).evidence(kinds=["approval"]).entries
    assert [(a["decision"], a["by"], a["decision_reason"]) for a in approvals] == [
        ("deny", "person", "not yet"), ("pending", None, ""),
    ]  # fmt: skip


def test_totals_errors_and_outcome(fleet: fleetnb.Fleet) -> None:
    items: list[Item] = [
        ("usage", {"input_tokens": 100, "output_tokens": 20, "cost_usd": 0.5}),
        ("usage", {"input_tokens": 50, "output_tokens": 5, "cost_usd": 0.25}),
        ("parse_error", {"raw": "{not json", "error": "Expecting value"}),
        ("turn_finished", {"is_error": True, "result": "model overloaded"}),
    ]
    trail = recorded_agent(fleet, items).evidence()
    totals = trail.payload["totals"]
    assert (totals["input_tokens"], totals["output_tokens"], totals["cost_usd"]) == (150, 25, 0.75)
    kinds = [(e["kind"], e.get("error_kind")) for e in trail.entries]
    assert kinds == [("error", "parse_error"), ("error", "turn_failed"), ("outcome", None)]
    assert trail.payload["outcome"]["status"] == "done"
    assert trail.payload["agent"]["state"] == "done"


def test_payload_is_schema_versioned_and_displays_three_ways(fleet: fleetnb.Fleet) -> None:
    trail = recorded_agent(fleet, command("c", "ls", "x")).evidence()
    bundle = trail._repr_mimebundle_()
    assert set(bundle) == {MIME_TYPE, "text/html", "text/plain"}
    payload = bundle[MIME_TYPE]
    assert payload["schema"] == SCHEMA
    assert {"id", "name", "harness", "model", "task", "session_id"} <= set(payload["agent"])
    json.dumps(payload)  # what the kernel sends must be JSON
    assert EvidenceTrail.from_payload(json.loads(json.dumps(payload))).entries == trail.entries
    assert "rec-" in bundle["text/plain"]


def test_filters_by_kind_and_since(fleet: fleetnb.Fleet) -> None:
    agent = recorded_agent(fleet, command("a", "first", "1"))
    cut = time.time()
    time.sleep(0.02)
    fleet.store.append_many(agent.id, command("b", "second", "2"))
    agent.annotate("after the cut")
    assert [e["command"] for e in agent.evidence(kinds=["command"]).entries] == ["first", "second"]
    since = agent.evidence(since=cut).entries
    assert [e["kind"] for e in since] == ["command", "annotation"]
    as_datetime = agent.evidence(since=dt.datetime.fromtimestamp(cut)).entries
    assert as_datetime == since
    with pytest.raises(ValueError, match="unknown entry kinds"):
        agent.evidence(kinds=["commands"])


def test_long_output_is_trimmed_with_a_pointer(fleet: fleetnb.Fleet) -> None:
    big = "HEAD" + "x" * 50_000 + "TAIL"
    agent = recorded_agent(fleet, command("a", "cat big.log", big))
    (entry,) = agent.evidence(kinds=["command"]).entries
    assert len(entry["output"]) < 2200
    assert entry["output"].startswith("HEAD")
    assert entry["output"].endswith("TAIL")
    assert entry["trimmed"] == {"agent_id": agent.id, "seq": 3, "chars": len(big)}
    (full,) = fleet.store.events(agent.id, after_seq=2, limit=1)
    assert full.payload["output"] == big  # the store keeps the original


def test_limit_marks_omitted_entries(fleet: fleetnb.Fleet) -> None:
    items = [i for n in range(30) for i in command(f"c{n}", f"echo {n}", str(n))]
    entries = recorded_agent(fleet, items).evidence(kinds=["command"], limit=10).entries
    assert entries[0]["kind"] == "omitted"
    assert "20 earlier entries omitted" in entries[0]["title"]
    assert [e["command"] for e in entries[1:]] == [f"echo {n}" for n in range(20, 30)]


def test_100k_events_render_quickly_and_bounded(fleet: fleetnb.Fleet) -> None:
    items = [i for n in range(50_000) for i in command(f"c{n}", f"step {n}", "ok " * 400)]
    agent = recorded_agent(fleet, items)
    trail = agent.evidence()
    bundle = trail._repr_mimebundle_()
    size = sum(len(json.dumps(v)) for v in bundle.values())
    assert size < 250_000, size
    marker = trail.entries[0]
    assert marker["kind"] == "omitted"
    assert marker["events"] > 95_000  # only the newest window was read (timing: bench/)
    assert trail.entries[-1]["kind"] == "outcome"
    assert trail.entries[-2]["command"] == "step 49999"


def test_html_escapes_markup_everywhere(fleet: fleetnb.Fleet) -> None:
    evil = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    items = [
        *command("a", f"echo '{evil}'", evil),
        ("assistant_text", {"text": evil}),
        ("tool_call", {"call_id": "w", "tool": "Write", "input": {"file_path": evil,
                                                                   "content": evil}}),
    ]  # fmt: skip
    agent = recorded_agent(fleet, items, task=evil)
    agent.annotate(evil, tag=evil)
    html = agent.evidence()._repr_mimebundle_()["text/html"]
    assert "<script>" not in html
    assert "<img" not in html
    assert "&lt;script&gt;" in html


def test_annotations_check_their_event(fleet: fleetnb.Fleet) -> None:
    agent = recorded_agent(fleet, command("a", "ls", "x"))
    first = agent.events()[0]
    event = agent.annotate("the launch looks right", tag="review", event=first)
    assert event.kind == "annotation"
    assert event.payload == {"text": "the launch looks right", "tag": "review", "event_seq": 1}
    agent.annotate("by number", event=2)
    (one, two) = agent.evidence(kinds=["annotation"]).entries
    assert (one["tag"], one["event_seq"], two["event_seq"]) == ("review", 1, 2)
    with pytest.raises(ValueError, match="annotation text is empty"):
        agent.annotate("  ")
    with pytest.raises(ValueError, match="has no event 999"):
        agent.annotate("nope", event=999)
    other = recorded_agent(fleet, [])
    with pytest.raises(ValueError, match="belongs to agent"):
        other.annotate("wrong agent", event=first)


def entries_html(trail: EvidenceTrail) -> str:
    return str(trail._repr_mimebundle_()["text/html"])


def test_a_cut_through_a_secret_leaves_no_piece_of_it(fleet: fleetnb.Fleet) -> None:
    by_context = {context: secret for context, _, secret in SECRETS}
    key = by_context["env dump anthropic"]
    body = "\n".join(["MIIEowIBAAKCAQEAq8Lm2Xv9Kp4Wt7RZk3qL9xT2mR7vW1pN8sY4cH6Zk3qL9xT"] * 60)
    pem = f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----"
    # The head ends inside the API key; the tail starts inside the private key.
    output = "x" * 1320 + key + "y" * 8000 + pem + "\ndone"
    agent = recorded_agent(fleet, command("a", "cat secrets", output))
    shown = agent.evidence(kinds=["command"]).entries[0]["output"]
    for piece in (key[7:19], key[-12:], "MIIEowIBAAKCAQEA", "Zk3qL9xT2mR7"):
        assert piece not in shown
    assert shown.endswith("done")


def test_worktree_diffs_are_file_changes(fleet: fleetnb.Fleet) -> None:
    diff = "diff --git a/app.py b/app.py\n--- a/app.py\n+++ b/app.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n"
    items: list[Item] = [
        ("diff", {"action": "merge", "base": "abc", "branch": "fleetnb/a", "diff": diff,
                  "commit": "def"}),
    ]  # fmt: skip
    (entry,) = recorded_agent(fleet, items).evidence(kinds=["file_change"]).entries
    assert (entry["tool"], entry["paths"], entry["commit"]) == ("worktree merge", ["app.py"], "def")
    assert "+x = 2" in entry["diff"]


def test_since_reads_only_the_newest_window(fleet: fleetnb.Fleet) -> None:
    old = [i for n in range(3000) for i in command(f"o{n}", f"old {n}", "x")]
    agent = recorded_agent(fleet, old)
    cut = time.time()
    time.sleep(0.02)
    fleet.store.append_many(agent.id, [i for n in range(5) for i in command(f"n{n}", "new", "y")])
    trail = agent.evidence(since=cut)
    assert [e["command"] for e in trail.entries] == ["new"] * 5  # no marker: nothing omitted
    frame = trail.to_frame()
    assert list(frame["command"]) == ["new"] * 5
    assert set(frame["agent_name"]) == {agent.name}
    assert repr(trail) == f"<EvidenceTrail {agent.name}: 5 entries>"
