"""supabase-js calls in TypeScript and JavaScript, as the records the checks read.

Query chains (``supabase.from('posts').select('id').eq('a', x)``, ``supabase.rpc``)
become ``TableCall`` records like supabase-py's; the client's other calls
(``auth``, ``storage``, ``functions``) become ``ModuleCall`` records that keep their
JavaScript names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from fleetnb.truth.calls import (
    SUPABASE_JS_CLIENT,
    BuilderStep,
    Calls,
    ModuleCall,
    Ref,
    TableCall,
)
from fleetnb.truth.routes import HOLE
from fleetnb.truth.shapes import KeyTree
from fleetnb.truth.ts_syntax import (
    Node,
    call_arguments,
    nested_keys,
    object_keys,
    position,
    string_value,
    strip,
    text,
)

__all__ = ["QUERY", "Resolver", "query_ref", "supabase_chain"]

# A supabase-js query builder bound to a name (``let q = supabase.from('t')``):
# its chain is (schema, table), empty strings when computed.
QUERY = "@supabase/supabase-js:query"
_TABLE_METHODS = frozenset({"from", "rpc"})
_LINK_LIMIT = 10_000  # a chain longer than this is generated code, not a query


class Resolver(Protocol):
    """What the extractor knows about names, as the SDK readers need it."""

    calls: Calls

    @property
    def strings(self) -> Mapping[str, str]: ...

    def value_ref(self, value: Node | None) -> Ref | None: ...


# One link of a chain: the attribute, its call (None for a plain property) and its name node.
_Link = tuple[str, Node | None, Node | None]


def supabase_chain(resolver: Resolver, node: Node) -> bool:
    """Record a chain on a supabase-js client or query builder; False if it is not one."""
    links, base = _links(node)
    base_ref = resolver.value_ref(base) if base is not None else None
    if base_ref is None or not links:
        return False
    if base_ref.root == QUERY:
        schema, table = base_ref.chain[:2]
        _table_call(resolver, node, links, 0, (schema, table))
        return True
    if base_ref.root != SUPABASE_JS_CLIENT:
        return False
    links = [(name, None, None) for name in base_ref.chain] + links
    found = _table_start(links, resolver.strings)
    if found is None:
        _module_call(resolver, node, links)
    else:
        _table_call(resolver, node, links, found[0], found[1:])
    return True


def query_ref(resolver: Resolver, node: Node) -> Ref | None:
    """The query builder a chain ending at ``node`` makes, for ``let q = supabase.from('t')``."""
    links, base = _links(node)
    base_ref = resolver.value_ref(base) if base is not None else None
    if base_ref is None or base_ref.root == QUERY:
        return base_ref
    if base_ref.root != SUPABASE_JS_CLIENT or base_ref.chain:
        return None
    found = _table_start(links, resolver.strings)
    return None if found is None else Ref(QUERY, found[1:])


def _links(node: Node) -> tuple[list[_Link], Node | None]:
    """``a.b.c(x).d(y)`` -> ([b, c(x), d(y)], a), unwound with a loop, not recursion."""
    links: list[_Link] = []
    current = strip(node)
    while current is not None and len(links) < _LINK_LIMIT:
        call = current if current.type == "call_expression" else None
        member = strip(call.child_by_field_name("function")) if call is not None else current
        if member is None or member.type != "member_expression":
            break
        prop = member.child_by_field_name("property")
        if prop is None or prop.type != "property_identifier":
            return [], None
        links.append((text(prop), call, prop))
        current = strip(member.child_by_field_name("object"))
    links.reverse()
    return links, current


def _table_start(links: list[_Link], strings: Mapping[str, str]) -> tuple[int, str, str] | None:
    """Where the builder steps begin, the schema and the table (empty when computed)."""
    schema = ""
    for index, (name, call, _) in enumerate(links):
        args = call_arguments(call) if call is not None else []
        value = string_value(args[0], strings) if args else None
        known = value if value is not None and HOLE not in value else ""
        if name == "schema" and call is not None:
            if not known:
                return index + 1, "", ""  # a computed schema: the table cannot be checked
            schema = known
        elif name in _TABLE_METHODS and call is not None:
            return index + 1, schema if known else "", known
        else:
            return None
    return None


def _table_call(
    resolver: Resolver, node: Node, links: list[_Link], start: int, where: tuple[str, str]
) -> None:
    schema, table = where
    steps: list[BuilderStep] = []
    if start and links[start - 1][0] == "rpc":
        steps.append(_step(links[start - 1], node, resolver.strings))  # table is the function
    for link in links[start:]:
        if link[0] == "then":
            break  # what follows works on the result, not the query
        steps.append(_step(link, node, resolver.strings))
    line, column = position(node)
    resolver.calls.table_calls.append(
        TableCall(table or None, line, column, tuple(steps), schema or None)
    )


def _step(link: _Link, chain: Node, strings: Mapping[str, str]) -> BuilderStep:
    name, call, prop = link
    line, column = position(prop if prop is not None else chain)
    if call is None:
        return BuilderStep(name, line, column)  # a property, not a method
    args = call_arguments(call)
    values = tuple(
        value if (value := string_value(arg, strings)) is not None and HOLE not in value else None
        for arg in args
    )
    keys = next(
        (found for arg in args if (found := nested_keys(arg, strings, 0)) is not None), None
    )
    return BuilderStep(name, line, column, values, keys)


def _module_call(resolver: Resolver, node: Node, links: list[_Link]) -> None:
    """``supabase.auth.signUp({...})``: the chain up to its first call.

    ``storage.from('avatars').upload(...)`` goes one call further, to the bucket's method.
    """
    end = next((i for i, link in enumerate(links) if link[1] is not None), None)
    if end is None:
        return
    names = [link[0] for link in links]
    if names[: end + 1] == ["storage", "from"]:
        end = next((i for i in range(end + 1, len(links)) if links[i][1] is not None), end)
    call = links[end][1]
    assert call is not None
    args = call_arguments(call)
    line, column = position(node)
    resolver.calls.module_calls.append(
        ModuleCall(
            SUPABASE_JS_CLIENT,
            tuple(names[: end + 1]),
            line,
            column,
            KeyTree(),
            args=tuple(object_keys(arg, resolver.strings) for arg in args),
            spread=any(arg.type == "spread_element" for arg in args),
            shown=".".join(("supabase", *names[: end + 1])),
        )
    )
