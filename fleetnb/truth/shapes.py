"""Parameter shapes: which keys an API accepts, nested, and which it requires.

Every surface (the Stripe SDK's TypedDicts, an OpenAPI schema) is reduced to a
table of named shapes, so one key checker serves dict literals (``params={...}``),
keyword arguments and form-encoded bracket keys (``line_items[0][price]``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from fleetnb.truth.findings import closest

__all__ = [
    "KeyNode",
    "KeyProblem",
    "KeyTree",
    "LazyShapes",
    "Shape",
    "ShapeTable",
    "check_keys",
    "merge_trees",
    "tree_from_flat",
]


@dataclasses.dataclass(frozen=True, slots=True)
class Shape:
    """One object's keys; each key names the shapes its value may take (none: a scalar).

    ``open`` marks free-form objects (``metadata``), whose keys are never checked.
    """

    fields: Mapping[str, tuple[str, ...]]
    required: frozenset[str] = frozenset()
    open: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "fields": {key: list(names) for key, names in self.fields.items()},
            "required": sorted(self.required),
            "open": self.open,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Shape:
        fields = {key: tuple(names) for key, names in data["fields"].items()}
        return cls(fields, frozenset(data["required"]), bool(data["open"]))


ShapeTable = Mapping[str, Shape]


class LazyShapes(Mapping[str, Shape]):
    """Shapes read from a JSON cache, each built on first use.

    A large SDK has thousands of shapes and a check touches a few dozen; building
    them all would cost more than the check itself.
    """

    def __init__(self, raw: Mapping[str, Mapping[str, Any]]) -> None:
        self._raw = raw
        self._built: dict[str, Shape] = {}

    def __getitem__(self, name: str) -> Shape:
        shape = self._built.get(name)
        if shape is None:
            shape = self._built[name] = Shape.from_json(self._raw[name])
        return shape

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def __contains__(self, name: object) -> bool:
        return name in self._raw


@dataclasses.dataclass(slots=True)
class KeyNode:
    """A key written in code, where it was written, and the keys nested under it."""

    line: int
    column: int
    child: KeyTree | None = None


@dataclasses.dataclass(slots=True)
class KeyTree:
    """The keys of one dict literal (or keyword list) as written in code.

    ``complete`` is False when the literal also spreads another mapping
    (``**base``): then a key that seems missing may well be there at run time.
    """

    keys: dict[str, KeyNode] = dataclasses.field(default_factory=dict)
    complete: bool = True

    def merge(self, other: KeyTree) -> None:
        """Fold the keys of a sibling dict in (each element of a list of dicts)."""
        self.complete = self.complete and other.complete
        for key, node in other.keys.items():
            mine = self.keys.setdefault(key, KeyNode(node.line, node.column))
            if node.child is not None:
                if mine.child is None:
                    mine.child = KeyTree()
                mine.child.merge(node.child)


def merge_trees(trees: Iterable[KeyTree | None]) -> KeyTree | None:
    """The keys of a list of literals merged into one tree; None when none is a literal."""
    merged: KeyTree | None = None
    for found in trees:
        if found is None:
            continue
        if merged is None:
            merged = found
        else:
            merged.merge(found)
    return merged


@dataclasses.dataclass(frozen=True, slots=True)
class KeyProblem:
    """A key that is not accepted, or a required key that is missing."""

    kind: str  # "unknown_param" or "missing_required_param"
    key: str  # dotted path, e.g. "line_items.price"
    line: int
    column: int
    suggestion: str | None


_BRACKET = re.compile(r"\[([^\]]*)\]")


def tree_from_flat(keys: Mapping[str, tuple[int, int]]) -> KeyTree:
    """A tree from form-style keys: ``line_items[0][price]``, ``expand[]``, ``metadata[x]``."""
    tree = KeyTree()
    for flat, (line, column) in keys.items():
        head, _, rest = flat.partition("[")
        parts = [head, *(p for p in _BRACKET.findall("[" + rest) if p and not p.isdigit())]
        node_tree = tree
        for depth, part in enumerate(parts):
            node = node_tree.keys.setdefault(part, KeyNode(line, column))
            if depth < len(parts) - 1:
                if node.child is None:
                    node.child = KeyTree(complete=False)
                node_tree = node.child
    return tree


def check_keys(table: ShapeTable, names: tuple[str, ...], tree: KeyTree) -> list[KeyProblem]:
    """Problems of ``tree`` against the shapes ``names`` (a union: any of them may fit)."""
    return list(_check(table, names, tree, prefix=""))


def _check(
    table: ShapeTable, names: tuple[str, ...], tree: KeyTree, prefix: str
) -> Iterator[KeyProblem]:
    shapes = [table[name] for name in names if name in table]
    if not shapes or any(shape.open for shape in shapes):
        return
    fields: dict[str, tuple[str, ...]] = {}
    for shape in shapes:
        for key, nested in shape.fields.items():
            fields[key] = fields.get(key, ()) + nested
    for key, node in tree.keys.items():
        if key not in fields:
            yield KeyProblem(
                "unknown_param", prefix + key, node.line, node.column, closest(key, fields)
            )
        elif node.child is not None and fields[key]:
            yield from _check(table, fields[key], node.child, f"{prefix}{key}.")
    # With a union of shapes, which keys are required depends on which one is meant.
    if tree.complete and len(shapes) == 1:
        for key in sorted(shapes[0].required - tree.keys.keys()):
            # Line 0: the caller places it on the call, where the key should have been.
            yield KeyProblem("missing_required_param", prefix + key, 0, 0, None)
