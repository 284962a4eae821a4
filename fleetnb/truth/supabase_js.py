"""supabase-js client calls checked against the declarations installed in the project.

``supabase.auth.signInWithPassword(...)`` is looked up in the ``.d.ts`` files of
``node_modules/@supabase/*`` found above the checked file: ``SupabaseClient.auth``
is a ``SupabaseAuthClient``, which extends ``AuthClient`` (``typeof GoTrueClient``),
and so on. Declarations are parsed with tree-sitter; a member whose type, or a
class whose base, cannot be found ends the walk and the call is unresolved.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from fleetnb.truth.calls import ModuleCall
from fleetnb.truth.findings import CheckReport, Finding
from fleetnb.truth.supabase_client import suggest_renamed
from fleetnb.truth.ts_syntax import Node, parser, text

__all__ = ["DeclIndex", "check_js_client_call", "find_declarations", "load_declarations"]

_ROOT = "SupabaseClient"
_MAX_DECL_BYTES = 4 * 1024 * 1024
_NOT_A_TYPE = frozenset({"null", "undefined", "void", "any", "unknown", "never"})


@dataclasses.dataclass(slots=True)
class _Decl:
    members: dict[str, str | None] = dataclasses.field(default_factory=dict)  # name -> type
    bases: list[str] = dataclasses.field(default_factory=list)
    open: bool = False  # an index signature: any member name is accepted


@dataclasses.dataclass(slots=True)
class DeclIndex:
    """Classes and interfaces by name, merged across files as TypeScript merges them."""

    decls: dict[str, _Decl] = dataclasses.field(default_factory=dict)
    aliases: dict[str, str] = dataclasses.field(default_factory=dict)  # AuthClient -> GoTrueClient
    files: int = 0

    def find(self, name: str) -> _Decl | None:
        for _ in range(8):  # aliases of aliases, never a cycle forever
            if name in self.decls:
                return self.decls[name]
            if name not in self.aliases:
                return None
            name = self.aliases[name]
        return None


def find_declarations(path: str | os.PathLike[str]) -> Path | None:
    """``node_modules/@supabase`` in the nearest directory above ``path`` that has supabase-js."""
    start = Path(path).resolve()
    for directory in start.parents:
        scope = directory / "node_modules" / "@supabase"
        if (scope / "supabase-js").is_dir():
            return scope
    return None


def load_declarations(scope: Path) -> DeclIndex:
    """Every class and interface declared under ``scope`` (``node_modules/@supabase``).

    Kept while the packages' ``package.json`` files stay as they are: an install
    during a run brings the new declarations in.
    """
    stamps: list[int] = []
    for manifest in sorted(scope.glob("*/package.json")):
        try:
            stamps.append(manifest.stat().st_mtime_ns)
        except OSError:
            stamps.append(-1)
    return _load(scope, tuple(stamps))


@lru_cache(maxsize=8)
def _load(scope: Path, _stamps: tuple[int, ...]) -> DeclIndex:
    index = DeclIndex()
    for file in _declaration_files(scope):
        try:
            if file.stat().st_size > _MAX_DECL_BYTES:
                continue
            tree = parser("typescript").parse(file.read_bytes())
        except OSError:
            continue
        index.files += 1
        for node in tree.root_node.named_children:
            _statement(index, _unwrap(node))
    return index


def check_js_client_call(index: DeclIndex, call: ModuleCall, path: str | None) -> CheckReport:
    """Whether ``supabase.<chain>`` is a member of the declared ``SupabaseClient``."""
    report = CheckReport()
    current = _ROOT
    for position, attr in enumerate(call.chain):
        found, kind = _member(index, current, attr, set())
        if found is None or (found is False and (call.guarded or attr.startswith("_"))):
            report.calls_unresolved += 1
            return report
        if found is False:
            report.calls_checked += 1
            report.findings.append(_unknown(index, call, position, current, path))
            return report
        if position < len(call.chain) - 1 and kind is None:
            report.calls_unresolved += 1  # a member whose type we cannot follow
            return report
        current = kind or current
    report.calls_checked += 1
    return report


def _member(
    index: DeclIndex, name: str, attr: str, seen: set[str]
) -> tuple[bool | None, str | None]:
    """(True, its type) when ``name`` has ``attr``, (False, None) when it surely has not.

    (None, None) when that cannot be told: a class or a base that is not declared here.
    """
    decl = index.find(name)
    if decl is None or name in seen:
        return None, None
    seen.add(name)
    if attr in decl.members:
        return True, decl.members[attr]
    unknown = decl.open
    for base in decl.bases:
        found, kind = _member(index, base, attr, seen)
        if found:
            return found, kind
        unknown = unknown or found is None
    return (None if unknown else False), None


def _names(index: DeclIndex, name: str, seen: set[str]) -> Iterator[str]:
    decl = index.find(name)
    if decl is None or name in seen:
        return
    seen.add(name)
    yield from decl.members
    for base in decl.bases:
        yield from _names(index, base, seen)


def _unknown(
    index: DeclIndex, call: ModuleCall, position: int, owner: str, path: str | None
) -> Finding:
    attr = call.chain[position]
    where = ".".join(("supabase", *call.chain[:position]))
    names = [name for name in _names(index, owner, set()) if not name.startswith("_")]
    return Finding(
        path,
        call.line,
        call.column,
        call.api,
        "unknown_method",
        "error",
        f"`{where}` has no method or property `{attr}` in the installed supabase-js (`{owner}`)",
        suggest_renamed(attr, names),
    )


# -- reading declarations -------------------------------------------------------------


def _declaration_files(scope: Path) -> Iterator[Path]:
    """``.d.ts`` and ``.d.mts`` files; CommonJS twins (``dist/main``, ``.d.cts``) are skipped."""
    # pnpm links packages in from its store: follow links (nested node_modules are skipped).
    for root, dirs, files in os.walk(scope, followlinks=True):
        dirs[:] = sorted(d for d in dirs if d not in ("main", "src", "node_modules"))
        for name in sorted(files):
            if name.endswith((".d.ts", ".d.mts")):
                yield Path(root) / name


def _unwrap(node: Node) -> Node:
    """``export``, ``declare`` and ``export default`` wrap the declaration itself."""
    while node.type in ("export_statement", "ambient_declaration"):
        inner = next(
            (
                child
                for child in node.named_children
                if child.type.endswith(("declaration", "statement"))
            ),
            None,
        )
        if inner is None:
            return node
        node = inner
    return node


def _statement(index: DeclIndex, node: Node) -> None:
    if node.type in ("class_declaration", "abstract_class_declaration", "interface_declaration"):
        _class(index, node)
    elif node.type in ("lexical_declaration", "variable_declaration"):
        for declarator in node.named_children:
            _const_alias(index, declarator)
    elif node.type == "import_statement":
        for specifier in _descendants(node, "import_specifier"):
            names = [text(child) for child in specifier.named_children]
            if len(names) == 2:
                index.aliases.setdefault(names[1], names[0])  # import { A as B }


def _class(index: DeclIndex, node: Node) -> None:
    name_node = node.child_by_field_name("name")
    body = node.child_by_field_name("body")
    if name_node is None or body is None:
        return
    decl = index.decls.setdefault(text(name_node), _Decl())
    for clause in node.named_children:
        if clause.type in ("class_heritage", "extends_type_clause"):
            for base in _descendants(clause, "identifier", "type_identifier"):
                if base.parent is not None and base.parent.type != "type_arguments":
                    decl.bases.append(text(base))
    for member in body.named_children:
        _class_member(decl, member)


def _class_member(decl: _Decl, member: Node) -> None:
    if member.type == "index_signature":
        decl.open = True
        return
    name = member.child_by_field_name("name")
    if name is None:
        return
    getter = any(child.type == "get" for child in member.children)
    is_method = member.type in (
        "method_signature",
        "method_definition",
        "abstract_method_signature",
    )
    kind = None if is_method and not getter else _type_name(member.child_by_field_name("type"))
    if member.type == "method_signature" and getter:
        kind = _type_name(member.child_by_field_name("return_type"))
    decl.members.setdefault(text(name), kind)


def _const_alias(index: DeclIndex, declarator: Node) -> None:
    """``declare const AuthClient: typeof GoTrueClient``: a class under another name."""
    name = declarator.child_by_field_name("name")
    annotation = declarator.child_by_field_name("type")
    if name is None or annotation is None:
        return
    query = next(_descendants(annotation, "type_query"), None)
    target = next(_descendants(query, "identifier"), None) if query is not None else None
    if target is not None:
        index.aliases.setdefault(text(name), text(target))


def _type_name(annotation: Node | None) -> str | None:
    """The one named type an annotation holds (``X``, ``X<T>``, ``X | null``), else None."""
    if annotation is None:
        return None
    node = annotation.named_children[0] if annotation.type == "type_annotation" else annotation
    if node is None:
        return None
    if node.type == "type_identifier":
        return text(node)
    if node.type == "generic_type":
        head = node.child_by_field_name("name")
        return text(head) if head is not None else None
    if node.type == "union_type":
        named = [
            _type_name(part)
            for part in node.named_children
            if text(part) not in _NOT_A_TYPE and part.type != "literal_type"
        ]
        return named[0] if len(named) == 1 else None
    return None


def _descendants(node: Node, *types: str) -> Iterator[Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type in types:
            yield current
        stack.extend(reversed(current.named_children))
