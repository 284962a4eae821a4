"""PostgREST's select and logic-tree filter strings, reduced to the columns they read."""

from __future__ import annotations

import pytest

from fleetnb.truth.postgrest_select import Embed, base_column, filter_columns, parse_select


@pytest.mark.parametrize(
    ("text", "items"),
    [
        ("*", ()),
        ("id, title", ("id", "title")),
        ("alias:title, title::text, data->>key, data->a->>b", ("title", "title", "data", "data")),
        ("author:users!inner(name, email)", (Embed("users", ("name", "email"), hinted=True),)),
        ("...users(name)", (Embed("users", ("name",)),)),
        ("users!fk_name(*)", (Embed("users", (), hinted=True),)),
        ("count, n:count(), total:amount.sum()::int, id.count()", ("amount", "id")),
        ('"Full Name", id', ("Full Name", "id")),
        ("posts(comments(body))", (Embed("posts", (Embed("comments", ("body",)),)),)),
    ],
)
def test_select_items(text: str, items: tuple[object, ...]) -> None:
    assert parse_select(text) == items


@pytest.mark.parametrize("text", ["id, (", "a b", "id)", "x:"])
def test_malformed_select_strings(text: str) -> None:
    assert parse_select(text) is None


def test_filter_columns() -> None:
    assert filter_columns("a.eq.1,and(b.gt.2,not.or(c.is.null,d.in.(1,2)))") == ["a", "b", "c", "d"]
    assert filter_columns('name.in.("a,b","c"),data->>k.eq.v') == ["name", "data"]
    assert filter_columns("author.name.eq.x") is None  # an embedded table's column
    assert filter_columns("nonsense") is None


def test_base_column() -> None:
    assert (base_column("data->>lang"), base_column("author.name")) == ("data", None)
