"""supabase-py query-builder chains in Python syntax, as ``TableCall`` records.

``supabase.schema("x").table("posts").select("id").eq("id", 1).execute()`` is read
from the outermost call inwards; the Python extractor resolves what the chain
starts from (a client, or a query bound to a name) and hands the rest here.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from fleetnb.truth.calls import BuilderStep
from fleetnb.truth.shapes import KeyNode, KeyTree

__all__ = ["QUERY", "SUPABASE_CLIENTS", "Link", "builder_links", "builder_steps", "table_start"]

# What makes (or annotates) a supabase-py client: its methods are checked against the package.
SUPABASE_CLIENTS = frozenset(
    f"{module}.{name}"
    for module in ("supabase", "supabase.client", "supabase._sync.client", "supabase._async.client")
    for name in ("Client", "AsyncClient", "SyncClient", "create_client", "acreate_client")
) | {"supabase.create_async_client", "supabase.client.create_async_client"}
# A query builder bound to a name (``query = supabase.table("posts")``): chain is (schema, table).
QUERY = "supabase:query"
_TABLE_METHODS = frozenset({"table", "from_", "rpc"})
_EMBEDDED_OPTIONS = frozenset({"foreign_table", "reference_table", "referenced_table"})

Link = tuple[str, ast.Call | None]  # a method and its call; None for a property (``not_``)
TextOf = Callable[[ast.expr], str | None]  # a string known statically, else None
KeysOf = Callable[[ast.expr], KeyTree | None]  # a dict (or list of dicts) literal's keys


def builder_links(node: ast.Call) -> tuple[list[Link], ast.expr]:
    """The method calls of a chain, innermost first, and the expression they start from.

    ``.not_`` is a property between calls (``.not_.eq("a", 1)``): a step without a call.
    """
    links: list[Link] = []
    current: ast.expr = node
    while True:
        if isinstance(current, ast.Call) and isinstance(current.func, ast.Attribute):
            links.append((current.func.attr, current))
            current = current.func.value
        elif isinstance(current, ast.Attribute) and current.attr == "not_" and links:
            links.append(("not_", None))
            current = current.value
        else:
            break
    links.reverse()
    return links, current


def table_start(links: list[Link], text_of: TextOf) -> tuple[int, str, str] | None:
    """Where the builder steps begin, the schema and the table (empty when computed).

    None when the chain on a client is not a query (``supabase.channel("x")``).
    """
    schema = ""
    for position, (name, call) in enumerate(links):
        known = (text_of(call.args[0]) if call is not None and call.args else None) or ""
        if name == "schema" and call is not None:
            if not known:
                return position + 1, "", ""  # a computed schema: the table cannot be checked
            schema = known
        elif name in _TABLE_METHODS:
            return position + 1, schema if known else "", known
        else:
            return None
    return None


def builder_steps(
    chain: ast.Call, links: list[Link], start: int, text_of: TextOf, keys_of: KeysOf
) -> tuple[BuilderStep, ...]:
    """The steps from ``start``; an ``rpc`` call leads its own steps, carrying its arguments."""
    steps = [_step(name, call, chain, text_of, keys_of) for name, call in links[start:]]
    if start and links[start - 1][0] == "rpc":
        steps.insert(0, _step("rpc", links[start - 1][1], chain, text_of, keys_of))
    return tuple(steps)


def _step(
    name: str, call: ast.Call | None, chain: ast.Call, text_of: TextOf, keys_of: KeysOf
) -> BuilderStep:
    if call is None:
        return BuilderStep(name, chain.lineno, chain.col_offset + 1)  # a property: ``.not_``
    strings = tuple(text_of(arg) for arg in call.args)
    if any(keyword.arg in _EMBEDDED_OPTIONS for keyword in call.keywords):
        strings = ()  # .order("name", foreign_table="authors"): another table's column
    keys = next((found for arg in call.args if (found := keys_of(arg)) is not None), None)
    conflict = next((k.value for k in call.keywords if k.arg == "on_conflict"), None)
    columns = text_of(conflict) if conflict is not None else None
    if conflict is not None and columns:
        # upsert(..., on_conflict="slug"): columns of the same table, checked like its keys
        where = KeyNode(conflict.lineno, conflict.col_offset + 1, None)
        keys = keys if keys is not None else KeyTree(complete=False)  # rows in a variable
        keys.keys.update((part.strip(), where) for part in columns.split(",") if part.strip())
    # The method's own name, not the chain's start: chains span many lines.
    line = call.func.end_lineno or call.lineno
    column = (call.func.end_col_offset or 0) - len(name) + 1
    return BuilderStep(name, line, column, strings, keys)
