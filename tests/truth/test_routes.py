"""Matching URLs to path templates, and keys to parameter shapes."""

from __future__ import annotations

from fleetnb.truth.routes import HOLE, HttpSurface, Operation
from fleetnb.truth.shapes import KeyNode, KeyTree, Shape, check_keys, tree_from_flat


def _surface() -> HttpSurface:
    ops = [
        Operation("get", "/v1/refunds/{refund}"),
        Operation("post", "/v1/refunds"),
        Operation("get", "/v1/customers/search"),
        Operation("get", "/v1/customers/{customer}"),
        Operation("post", "/v1/customers/{customer}"),
    ]
    return HttpSurface("test", ("https://api.example.test",), ops, {})


def test_literal_segments_beat_templated_ones() -> None:
    match = _surface().match("/v1/customers/search")
    assert match.template == "/v1/customers/search"
    assert _surface().match("/v1/customers/cus_123").template == "/v1/customers/{customer}"


def test_a_word_in_an_id_slot_is_flagged_but_an_id_or_hole_is_not() -> None:
    match = _surface().match("/v1/refunds/create")
    assert match.word_in_slot == "create"
    assert match.suggestion == "/v1/refunds"
    assert _surface().match("/v1/refunds/re_3MtwBwLkdIwHu7ix").word_in_slot is None
    assert _surface().match(f"/v1/refunds/{HOLE}").word_in_slot is None


def test_verbs_and_unknown_paths() -> None:
    match = _surface().match("/v1/customers/cus_1")
    assert match.for_verb("POST") is not None
    assert match.for_verb("delete") is None
    missing = _surface().match(f"/v1/customers/{HOLE}/fetch")
    assert missing.template is None
    assert missing.suggestion is not None


def test_relative_path_only_below_the_server() -> None:
    surface = HttpSurface("t", ("https://api.example.test/v2",), [], {})
    assert surface.relative_path("https://api.example.test/v2/items") == "/items"
    assert surface.relative_path("https://api.example.test/v3/items") is None
    assert surface.relative_path("https://other.test/v2/items") is None


def test_bracket_keys_become_nested_keys() -> None:
    tree = tree_from_flat({"line_items[0][price]": (1, 1), "expand[]": (1, 2), "mode": (1, 3)})
    assert set(tree.keys) == {"line_items", "expand", "mode"}
    line_items = tree.keys["line_items"].child
    assert line_items is not None
    assert set(line_items.keys) == {"price"}


def test_nested_unknown_and_missing_required_keys() -> None:
    table = {
        "root": Shape(
            {"address": ("addr",), "email": (), "metadata": ("meta",)}, frozenset({"email"})
        ),
        "addr": Shape({"city": (), "line1": ()}),
        "meta": Shape({}, open=True),
    }
    tree = KeyTree({
        "address": KeyNode(1, 1, KeyTree({"cty": KeyNode(1, 2)})),
        "metadata": KeyNode(1, 3, KeyTree({"anything": KeyNode(1, 4)})),
    })  # fmt: skip
    problems = {(p.kind, p.key, p.suggestion) for p in check_keys(table, ("root",), tree)}
    assert problems == {
        ("unknown_param", "address.cty", "city"),
        ("missing_required_param", "email", None),
    }
    # A spread (**base) may carry the required key: only unknown keys are reported then.
    tree.complete = False
    assert [p.kind for p in check_keys(table, ("root",), tree)] == ["unknown_param"]
