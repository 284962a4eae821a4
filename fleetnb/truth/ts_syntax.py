"""Reading TypeScript and JavaScript syntax trees: parsers, literals and object keys.

tree-sitter parses every language the extractor serves from grammars compiled into
their wheels, so nothing is downloaded at first use. Values are read without
recursion on the code's own nesting depth beyond ``_MAX_DEPTH``: a generated file
nests or concatenates far deeper than Python's stack allows, and past that depth a
value is simply unknown.
"""

from __future__ import annotations

import codecs
import threading
from collections.abc import Mapping
from functools import cache

import tree_sitter
import tree_sitter_javascript
import tree_sitter_typescript

from fleetnb.truth.routes import HOLE
from fleetnb.truth.shapes import KeyNode, KeyTree, merge_trees, tree_from_flat

__all__ = [
    "GRAMMARS",
    "Node",
    "call_arguments",
    "flat_keys",
    "language",
    "nested_keys",
    "object_keys",
    "parser",
    "position",
    "property_name",
    "string_value",
    "strip",
    "text",
]

Node = tree_sitter.Node
GRAMMARS = ("typescript", "tsx", "javascript")
_PARSERS = threading.local()
_MAX_DEPTH = 64  # literal nesting followed; deeper values are unknown, never an error
_MAX_TERMS = 2000  # parts of one concatenation followed
# Type-only wrappers around an expression: `x!`, `x as T`, `(x)`, `x satisfies T`.
_WRAPPERS = frozenset(
    {"non_null_expression", "as_expression", "satisfies_expression", "parenthesized_expression"}
)


@cache
def language(grammar: str) -> tree_sitter.Language:
    if grammar == "typescript":
        found = tree_sitter_typescript.language_typescript()
    elif grammar == "tsx":
        found = tree_sitter_typescript.language_tsx()
    elif grammar == "javascript":
        found = tree_sitter_javascript.language()
    else:
        raise ValueError(f"no tree-sitter grammar {grammar!r}; use one of {', '.join(GRAMMARS)}")
    return tree_sitter.Language(found)


def parser(grammar: str) -> tree_sitter.Parser:
    """One parser per grammar and thread, built on first use and reused for every file.

    A parser holds the state of the parse it is running, so threads (checks run
    after each agent's edits) do not share one; languages and queries are immutable.
    """
    parsers: dict[str, tree_sitter.Parser] = _PARSERS.__dict__.setdefault("by_grammar", {})
    if grammar not in parsers:
        parsers[grammar] = tree_sitter.Parser(language(grammar))
    return parsers[grammar]


def text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


def position(node: Node) -> tuple[int, int]:
    """1-based line and column (in UTF-8 bytes, as Python's ``ast`` counts them)."""
    row, column = node.start_point
    return row + 1, column + 1


def strip(node: Node | None) -> Node | None:
    """The expression inside type assertions and parentheses."""
    for _ in range(_MAX_DEPTH):
        if node is None or node.type not in _WRAPPERS:
            return node
        node = node.named_children[0] if node.named_children else None
    return None


def call_arguments(call: Node) -> list[Node]:
    """A call's argument expressions, comments left out; none for a tagged template."""
    arguments = call.child_by_field_name("arguments")
    if arguments is None or arguments.type != "arguments":
        return []
    return [child for child in arguments.named_children if child.type != "comment"]


def property_name(node: Node) -> str | None:
    """The name of an object key: ``a``, ``'a'`` or ``10``; None when computed."""
    if node.type in ("property_identifier", "shorthand_property_identifier", "number"):
        return text(node)
    if node.type == "string":
        return _literal(node)
    return None


def string_value(node: Node | None, strings: Mapping[str, str], depth: int = 0) -> str | None:
    """A string known statically; template holes become HOLE; None when unknown."""
    node = strip(node)
    if node is None or depth > _MAX_DEPTH:
        return None
    if node.type == "string":
        return _literal(node)
    if node.type == "identifier":
        return strings.get(text(node))
    if node.type == "template_string":
        return _template(node, strings, depth)
    if node.type != "binary_expression":
        return None
    return _concatenation(node, strings, depth)


def _concatenation(node: Node, strings: Mapping[str, str], depth: int) -> str | None:
    """``'/v1/customers/' + id``: a string when one part is a literal; unknown parts are HOLEs.

    Flattened with a stack, since ``a + b + c`` nests to the left.
    """
    parts: list[str | None] = []
    literal = False
    stack = [node]
    while stack:
        if len(parts) + len(stack) > _MAX_TERMS:
            return None
        current = stack.pop()
        operator = current.child_by_field_name("operator")
        if current.type == "binary_expression" and operator is not None and operator.type == "+":
            left, right = current.child_by_field_name("left"), current.child_by_field_name("right")
            stack.extend(n for n in (right, left) if n is not None)
            continue
        literal = literal or current.type in ("string", "template_string")
        parts.append(string_value(current, strings, depth + 1))
    if not literal:
        return None  # numbers or unknown values added together
    return "".join(HOLE if part is None else part for part in parts)


def _literal(node: Node) -> str:
    return "".join(_fragment(child) for child in node.named_children)


def _fragment(node: Node) -> str:
    if node.type == "escape_sequence":
        try:
            return codecs.decode(text(node), "unicode_escape")
        except UnicodeDecodeError:
            return text(node)[1:]
    if node.type == "string_fragment":
        return text(node)
    return ""  # a comment inside a template


def _template(node: Node, strings: Mapping[str, str], depth: int) -> str:
    """``${API}/v1/x`` with API a known constant becomes its value; other holes HOLE."""
    parts: list[str] = []
    for child in node.named_children:
        if child.type == "template_substitution":
            inner = child.named_children[0] if child.named_children else None
            parts.append(string_value(inner, strings, depth + 1) or HOLE)
        else:
            parts.append(_fragment(child))
    return "".join(parts)


def object_keys(node: Node | None, strings: Mapping[str, str], depth: int = 0) -> KeyTree | None:
    """The keys of an object literal, nested; None if ``node`` is not one."""
    node = strip(node)
    if node is None or node.type != "object" or depth > _MAX_DEPTH:
        return None
    tree = KeyTree()
    for member in node.named_children:
        if member.type == "pair":
            key = member.child_by_field_name("key")
            name = property_name(key) if key is not None else None
            if key is None or name is None or HOLE in name:
                tree.complete = False  # [computed]: a key known only at run time
                continue
            child = nested_keys(member.child_by_field_name("value"), strings, depth + 1)
            tree.keys[name] = KeyNode(*position(key), child)
        elif member.type == "shorthand_property_identifier":
            tree.keys[text(member)] = KeyNode(*position(member))
        elif member.type == "method_definition":
            name_node = member.child_by_field_name("name")
            if name_node is not None and (name := property_name(name_node)) is not None:
                tree.keys[name] = KeyNode(*position(name_node))
        elif member.type != "comment":
            tree.complete = False  # ...spread
    return tree


def nested_keys(value: Node | None, strings: Mapping[str, str], depth: int) -> KeyTree | None:
    """Keys under a value: an object literal, or the objects of an array literal merged."""
    value = strip(value)
    if value is None or value.type != "array":
        return object_keys(value, strings, depth)
    return merge_trees(object_keys(e, strings, depth + 1) for e in value.named_children)


def flat_keys(tree: KeyTree) -> KeyTree:
    """Form and query keys, where ``'line_items[0][price]'`` names a nested key."""
    result = KeyTree(complete=tree.complete)
    for name, node in tree.keys.items():
        if "[" in name:
            result.merge(tree_from_flat({name: (node.line, node.column)}))
        else:
            result.merge(KeyTree({name: node}))
    return result
