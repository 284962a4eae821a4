"""PostgREST's ``select`` mini-language: the columns and embedded resources a query names.

``"id, author:users!inner(name, email), title::text, data->>key, ...tags(name),
amount.sum()"``: each column is reduced to the base column it reads (aliases,
casts, JSON paths and aggregates dropped); each embed keeps its target name and
its own items, to be checked against the embedded table.
"""

from __future__ import annotations

import dataclasses
import re

__all__ = ["Embed", "SelectItem", "base_column", "filter_columns", "parse_select"]

_AGGREGATE = re.compile(r"^\s*([^()]+?)\.(?:count|sum|avg|min|max)\(\)\s*(?:::\s*\w+)?\s*$")
_OPERATORS = frozenset(
    {
        "eq", "neq", "gt", "gte", "lt", "lte", "like", "ilike", "match", "imatch", "in", "is",
        "isdistinct", "fts", "plfts", "phfts", "wfts", "cs", "cd", "ov", "sl", "sr", "nxr",
        "nxl", "adj",
    }
)  # fmt: skip
_NAME = re.compile(r'^(?:"[^"]+"|[^\s:!.()\-">,]+)$')


@dataclasses.dataclass(frozen=True, slots=True)
class Embed:
    """``alias:target!hint(items)``: ``target`` is a table, a foreign key or its column."""

    target: str
    items: tuple[SelectItem, ...]
    hinted: bool = False  # ``!fk_name`` or ``!inner``: the target is still the table


SelectItem = str | Embed  # a base column name, or an embedded resource


def parse_select(text: str) -> tuple[SelectItem, ...] | None:
    """The items of a select string; ``*`` and ``count`` are left out (always valid).

    None when the text does not follow the grammar: the query is then not checked.
    """
    try:
        return _items(text)
    except _MalformedError:
        return None


class _MalformedError(ValueError):
    """Text that does not follow PostgREST's select grammar."""


def _items(text: str) -> tuple[SelectItem, ...]:
    parts = _split(text)
    if parts is None:
        raise _MalformedError(text)
    return tuple(item for part in parts if (item := _item(part)) is not None)


def base_column(text: str) -> str | None:
    """The column a filter or order argument reads: ``data->>key`` reads ``data``.

    None for what is not a plain column of this table (``author.name`` filters
    an embedded resource).
    """
    name = re.split(r"->>?", text.strip(), maxsplit=1)[0].strip()
    if "." in name.strip('"') or not _NAME.match(name):
        return None
    return name[1:-1] if name.startswith('"') else name


def filter_columns(text: str) -> list[str] | None:
    """The columns an ``or`` filter names: ``"status.eq.done,and(a.gt.1,b.is.null)"``.

    None when the text does not follow PostgREST's logic-tree grammar.
    """
    parts = _split(text)
    if parts is None:
        return None
    columns: list[str] = []
    for part in parts:
        group = re.match(r"^(?:not\.)?(?:and|or)\((.*)\)$", part, re.DOTALL)
        if group:
            inner = filter_columns(group.group(1))
            if inner is None:
                return None
            columns.extend(inner)
            continue
        head = re.match(r'^("[^"]+"|[^.]+)\.(?:not\.)?([a-z]+)(?:\(\w+\))?\.', part)
        known = head is not None and head.group(2) in _OPERATORS
        column = base_column(head.group(1)) if head and known else None
        if column is None:
            return None  # an embedded table's column (author.name) or not the grammar
        columns.append(column)
    return columns


def _split(text: str) -> list[str] | None:
    """Split on the commas outside parentheses and quotes; None when they do not balance."""
    parts: list[str] = []
    depth, start, quoted = 0, 0, False
    for position, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif quoted:
            continue
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                return None
        elif char == "," and depth == 0:
            parts.append(text[start:position])
            start = position + 1
    if depth or quoted:
        return None
    parts.append(text[start:])
    return [part.strip() for part in parts if part.strip()]


def _item(part: str) -> SelectItem | None:
    """One item; None for ``*`` and ``count()``."""
    if part == "*" or _unalias(part).strip().split("::")[0].removesuffix("()") == "count":
        return None
    part = part.removeprefix("...").strip()
    aggregate = _AGGREGATE.match(_unalias(part))
    if aggregate:
        part = aggregate.group(1)  # amount.sum(): the aggregate reads amount
    elif part.endswith(")"):
        return _embed(part)
    column = base_column(_unalias(part).split("::", 1)[0])
    if column is None:
        raise _MalformedError(part)
    return column


def _embed(part: str) -> Embed:
    head, _, rest = part.partition("(")
    inner = _items(rest[:-1])
    target, bang, _hint = _unalias(head).strip().partition("!")
    target = target.strip()
    if not _NAME.match(target):
        raise _MalformedError(part)
    return Embed(target.strip('"'), inner, bool(bang))


def _unalias(part: str) -> str:
    """``alias:column`` names the column ``column``; ``::`` is a cast, not an alias."""
    match = re.match(r'^\s*(?:"[^"]+"|[^:()"]+):(?!:)', part)
    return part[match.end() :] if match else part
