"""Names bound in a TypeScript or JavaScript file, scoped by the functions that bind them.

The extractor meets nodes in source order, so scopes open and close as it goes:
a function's parameters and declarations shadow the file's names inside it and
are forgotten at its end (``customers`` may be stripe's service at the top and an
array parameter of a handler). ``this.x = ...`` outlives the method that assigns it,
since other methods use it; an assignment to a name declared outside updates that
declaration, as ``let stripe; function init() { stripe = new Stripe(k) }`` does.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator, Mapping

from fleetnb.truth.calls import Ref
from fleetnb.truth.ts_syntax import Node, text

__all__ = ["Scopes", "parameter_names"]

_PROGRAM = 0
_MAX_PATTERN_NODES = 1000  # a parameter list larger than this is not hand-written


@dataclasses.dataclass(frozen=True, slots=True)
class _Binding:
    scope: int
    ref: Ref | None
    text: str | None  # a string constant's value


class Scopes(Mapping[str, str]):
    """What each name stands for where the extractor is; as a Mapping, the known strings."""

    def __init__(self) -> None:
        self._bound: dict[str, list[_Binding]] = {}
        self._open: list[tuple[int, int]] = [(_PROGRAM, sys.maxsize)]  # (scope id, end byte)
        self._names: dict[int, list[str]] = {_PROGRAM: []}

    def advance(self, start_byte: int) -> bool:
        """Close the scopes that end before ``start_byte``; True if any did."""
        closed = False
        while len(self._open) > 1 and self._open[-1][1] <= start_byte:
            scope, _ = self._open.pop()
            for name in self._names.pop(scope):
                kept = [b for b in self._bound.get(name, ()) if b.scope != scope]
                if kept:
                    self._bound[name] = kept
                else:
                    self._bound.pop(name, None)
            closed = True
        return closed

    def enter(self, function: Node) -> None:
        self._open.append((function.id, function.end_byte))
        self._names[function.id] = []

    def declare(
        self, name: str, ref: Ref | None, value: str | None = None, *, outer: bool = False
    ) -> None:
        """A declaration (``const``, a parameter, an import) in the innermost scope."""
        scope = _PROGRAM if outer else self._open[-1][0]
        stack = self._bound.setdefault(name, [])
        binding = _Binding(scope, ref, value)
        if stack and stack[-1].scope == scope:
            stack[-1] = binding
        else:
            stack.append(binding)
            self._names[scope].append(name)

    def assign(self, name: str, ref: Ref | None, value: str | None = None) -> None:
        """An assignment: it changes the nearest declaration, or makes a global."""
        stack = self._bound.get(name)
        if stack:
            stack[-1] = _Binding(stack[-1].scope, ref, value)
        else:
            self.declare(name, ref, value, outer=True)

    def ref(self, name: str) -> Ref | None:
        stack = self._bound.get(name)
        return stack[-1].ref if stack else None

    def bound(self, name: str) -> bool:
        """Whether the code binds ``name`` here (``require`` may be its own function)."""
        return bool(self._bound.get(name))

    def __getitem__(self, name: str) -> str:
        stack = self._bound.get(name)
        value = stack[-1].text if stack else None
        if value is None:
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:
        return (name for name, stack in self._bound.items() if stack[-1].text is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def parameter_names(parameters: Node) -> Iterator[tuple[str, Node | None, bool]]:
    """The names a parameter list binds, each with its type annotation when it has one,
    and whether it is also a property (``constructor(private stripe: Stripe)``).

    Default values and types are not walked: their identifiers are uses, not bindings.
    """
    stack = [parameters]
    seen = 0
    while stack and seen < _MAX_PATTERN_NODES:
        node = stack.pop()
        seen += 1
        if node.type in ("identifier", "shorthand_property_identifier_pattern"):
            yield text(node), None, False
        elif node.type in ("required_parameter", "optional_parameter"):
            pattern = node.child_by_field_name("pattern")
            if pattern is not None and pattern.type == "identifier":
                modifier = any(c.type == "accessibility_modifier" for c in node.named_children)
                yield text(pattern), node.child_by_field_name("type"), modifier
            elif pattern is not None:
                stack.append(pattern)
        elif node.type in ("assignment_pattern", "pair_pattern"):
            kept = node.child_by_field_name(
                "left" if node.type == "assignment_pattern" else "value"
            )
            stack.extend([kept] if kept is not None else [])
        elif node.type != "type_annotation":
            stack.extend(reversed(node.named_children))
