"""The argument names of a SQL function, as ``rpc`` calls must pass them.

PostgREST finds the function an ``rpc`` call means by the names of the arguments
sent, so a name the function does not take is a 404. Names are read from sqlglot's
tree when it parses the ``CREATE FUNCTION``, else from the text after the name
(plpgsql bodies fall back to raw commands); an unnamed argument, or a lone json
argument (which takes the whole body), leaves the names unknown.
"""

from __future__ import annotations

from sqlglot import exp

__all__ = ["text_params", "tree_params"]

# A lone json argument takes the whole body (PostgREST), so any keys go.
_JSON_TYPES = frozenset({"json", "jsonb"})
_MODES = frozenset({"in", "out", "inout", "variadic"})
# Types of more than one word: "double precision" alone is an unnamed argument.
_TYPE_WORDS = frozenset({"double", "character", "timestamp", "time", "bit", "interval", "national"})


def tree_params(arguments: list[exp.Expression]) -> frozenset[str] | None:
    """Argument names from a parsed ``CREATE FUNCTION``'s argument list."""
    names: list[tuple[str, str]] = []
    for argument in arguments:
        if not isinstance(argument, exp.ColumnDef):
            return None  # an unnamed argument: callable only positionally, not by rpc keys
        kind = argument.args.get("kind")
        type_name = kind.sql("postgres").lower() if kind is not None else ""
        name = argument.this
        text = str(name.this) if isinstance(name, exp.Identifier) else name.name
        quoted = isinstance(name, exp.Identifier) and bool(name.quoted)
        names.append((text if quoted else text.lower(), type_name))
    return _accepted(names)


def text_params(rest: str) -> frozenset[str] | None:
    """Argument names from the text after a function's name: ``(a int, out b text) ...``."""
    rest = rest.lstrip()
    if not rest.startswith("("):
        return None
    depth, end = 0, -1
    for position, char in enumerate(rest):
        depth += (char == "(") - (char == ")")
        if depth == 0:
            end = position
            break
    if end < 0:
        return None
    names: list[tuple[str, str]] = []
    for part in _split_top(rest[1:end]):
        words = part.split()
        while words and words[0].lower() in _MODES:
            words = words[1:]
        if len(words) < 2 or words[0].lower() in _TYPE_WORDS:
            return None
        word = words[0]
        names.append((word[1:-1] if word.startswith('"') else word.lower(), words[1].lower()))
    return _accepted(names)


def _split_top(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for position, char in enumerate(text):
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            parts.append(text[start:position])
            start = position + 1
    parts.append(text[start:])
    return [part.strip() for part in parts if part.strip()]


def _accepted(names: list[tuple[str, str]]) -> frozenset[str] | None:
    if len(names) == 1 and names[0][1] in _JSON_TYPES:
        return None
    return frozenset(name for name, _ in names)
