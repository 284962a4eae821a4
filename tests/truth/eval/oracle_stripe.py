"""Labels for the Stripe rows from stripe-node's declarations, not from the Python SDK.

The checker's Stripe index is read from the Python ``stripe`` package; this oracle
reads the npm ``stripe`` package of the same API version instead: its resource
classes and methods (``esm/stripe.core.d.ts`` and ``esm/resources/**.d.ts``), each
method's ``*Params`` interface with its nested interfaces and required keys, and
the HTTP routes its ``esm/resources/**.js`` request (``_makeRequest('POST', `/v1/...`)``).

Each Stripe row carries an ``oracle`` record of the call it makes (``sdk``: the
resource path, method and params; ``http``: verb, path, body and query) and the
oracle computes the finding kinds that call deserves; a row whose ``expect``
differs is mislabelled. Run as a script to print every disagreement.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from tests.truth.eval.dts import Decl, DeclFile, DeclTree
from tests.truth.eval.rows import Row, disagreements, npm_package

__all__ = ["STRIPE_NODE_VERSION", "StripeOracle", "flat_to_nested", "main"]

STRIPE_NODE_VERSION = "23.1.0"  # API version 2026-10-28.endive, as the Python SDK's 16.1.0

_IDENT = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*")
_NOT_TYPES = frozenset(
    {
        "string",
        "number",
        "boolean",
        "null",
        "undefined",
        "any",
        "unknown",
        "never",
        "void",
        "object",
        "true",
        "false",
        "Array",
        "Emptyable",
        "Record",
        "Partial",
        "Readonly",
        "Date",
        "Buffer",
        "Uint8Array",
        "Promise",
        "OtherString",
        "Decimal",
        "Stripe",
    }
)
_REQUEST = re.compile(r"_makeRequest\(\s*'(\w+)',\s*[`'](/[^`']*)[`']")
_JS_METHOD = re.compile(r"^    (?:async\s+)?([\w$]+)\(.*\)\s*\{\s*$")
_JS_CLASS = re.compile(r"^export class ([\w$]+)")
_MAX_DEPTH = 8


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def node_method(name: str, *, legacy: bool = False) -> str:
    """The stripe-node name of a Python SDK method (``delete`` is ``del`` there)."""
    name = name.removesuffix("_async")
    if legacy and name == "modify":
        return "update"  # legacy resources' modify is the services' update
    return "del" if name == "delete" else _camel(name)


def flat_to_nested(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Form keys (``line_items[0][price]``, ``expand[]``) as the nested params they encode."""
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        parts = re.findall(r"[^\[\]]+|\[\]", key)
        node: Any = nested
        for position, part in enumerate(parts):
            last = position == len(parts) - 1
            if part == "[]" or part.isdigit():
                continue  # a list index: keys below it belong to the list's items
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return nested


class _Shape:
    """The keys a params object accepts: members of one or more interfaces."""

    def __init__(self, tree: DeclTree, decls: list[tuple[DeclFile, Decl]]) -> None:
        self.tree = tree
        self.decls = decls

    @property
    def free(self) -> bool:
        return any(decl.indexed for _, decl in self.decls)

    def members(self) -> dict[str, tuple[DeclFile, Decl, Any]]:
        found: dict[str, tuple[DeclFile, Decl, Any]] = {}
        for where, decl in self.decls:
            for parent in decl.extends:
                resolved = self.tree.resolve(where, parent, _scope(decl))
                if resolved is not None:
                    for name, member in resolved[1].members.items():
                        found.setdefault(name, (resolved[0], resolved[1], member))
            for name, member in decl.members.items():
                found[name] = (where, decl, member)
        return found


def _scope(decl: Decl) -> str:
    return decl.name.rpartition(".")[0]


class StripeOracle:
    """stripe-node's surface: resources, methods, params and routes."""

    def __init__(self, package: Path) -> None:
        self.esm = package / "esm"
        self.tree = DeclTree(self.esm)
        self.core = self.tree.file(self.esm / "stripe.core.d.ts")
        self.routes = self._routes()

    # -- SDK calls -------------------------------------------------------------

    def resource(self, path: Iterable[str]) -> tuple[DeclFile, Decl] | None:
        current = self.tree.resolve(self.core, "Stripe")
        for segment in path:
            if current is None:
                return None
            where, decl = current
            member = decl.members.get(_camel(segment))
            if member is None or member.method:
                return None
            current = self.tree.resolve(where, member.type.strip(), _scope(decl))
        return current

    def label_sdk(self, call: Mapping[str, Any]) -> list[str]:
        path = [p for p in call["path"] if p != "v1"]
        found = self.resource(path)
        style = call.get("style")
        name = (
            call["method"]
            if style == "node"
            else node_method(call["method"], legacy=style == "legacy")
        )
        method = found[1].members.get(name) if found else None
        if found is None or method is None or not method.method:
            return ["unknown_method"]
        shape, required = self._params_of(found[0], found[1], method.type)
        params = call.get("params")
        if params is None:
            return (
                ["missing_required_param"] if required and shape and self._required(shape) else []
            )
        return sorted(set(self._check(shape, params, 0))) if shape else []

    def _params_of(self, where: DeclFile, decl: Decl, signature: str) -> tuple[_Shape | None, bool]:
        arguments = signature.rsplit(")", 1)[0]
        for argument in arguments.split(","):
            name, _, annotation = argument.partition(":")
            if name.strip().rstrip("?") == "params":
                return self._shape(
                    where, annotation.strip(), _scope(decl)
                ), not name.strip().endswith("?")
        return None, False

    def _shape(self, where: DeclFile, annotation: str, scope: str, depth: int = 0) -> _Shape | None:
        if depth > _MAX_DEPTH:
            return None
        if "[" in annotation and ":" in annotation and annotation.lstrip().startswith("{"):
            return _Shape(self.tree, [(where, Decl("interface", "inline", indexed=True))])
        decls: list[tuple[DeclFile, Decl]] = []
        for name in _IDENT.findall(annotation):
            if name in _NOT_TYPES:
                continue
            resolved = self.tree.resolve(where, name, scope)
            if resolved is None:
                continue
            if resolved[1].kind == "type" and resolved[1].alias is not None:
                inner = self._shape(resolved[0], resolved[1].alias, _scope(resolved[1]), depth + 1)
                decls.extend(inner.decls if inner else [])
            elif resolved[1].members or resolved[1].indexed:
                decls.append(resolved)
        return _Shape(self.tree, decls) if decls else None

    def _required(self, shape: _Shape) -> list[str]:
        if shape.free:
            return []
        return [name for name, (_, _, m) in shape.members().items() if not m.optional]

    def _check(self, shape: _Shape, value: Any, depth: int) -> Iterable[str]:
        if isinstance(value, list):
            for item in value:
                yield from self._check(shape, item, depth)
            return
        if not isinstance(value, dict) or shape.free or depth > _MAX_DEPTH:
            return
        members = shape.members()
        for key, inner in value.items():
            if key not in members:
                yield "unknown_param"
                continue
            where, decl, member = members[key]
            child = self._shape(where, member.type, _scope(decl))
            if child is not None and isinstance(inner, dict | list):
                yield from self._check(child, inner, depth + 1)
        if any(key not in value for key in self._required(shape)):
            yield "missing_required_param"

    # -- raw HTTP --------------------------------------------------------------

    def _routes(self) -> list[tuple[str, list[str], Path, str, str]]:
        routes = []
        for script in sorted((self.esm / "resources").rglob("*.js")):
            cls = method = ""
            for line in script.read_text(encoding="utf-8").splitlines():
                if found := _JS_CLASS.match(line):
                    cls = found.group(1)
                elif found := _JS_METHOD.match(line):
                    method = found.group(1)
                for verb, path in _REQUEST.findall(line):
                    segments = re.sub(r"\$\{[^}]*\}", "{}", path).strip("/").split("/")
                    routes.append((verb.lower(), segments, script, cls, method))
        return routes

    def label_http(self, call: Mapping[str, Any]) -> list[str]:
        segments = call["path"].split("?")[0].strip("/").split("/")
        matches = [r for r in self.routes if _same_path(r[1], segments)]
        if not matches:
            return ["unknown_endpoint"]
        verb = call["verb"].lower()
        chosen = [r for r in matches if r[0] == verb]
        if not chosen:
            return ["wrong_verb"]
        # The most literal template wins: /v1/customers/search over /v1/customers/{}.
        _, _, script, cls, method = max(chosen, key=lambda r: r[1].count("{}") * -1)
        declarations = self.tree.file(script.with_name(script.stem + ".d.ts"))
        resolved = self.tree.resolve(declarations, cls)
        if resolved is None or method not in resolved[1].members:
            return []
        shape, _ = self._params_of(resolved[0], resolved[1], resolved[1].members[method].type)
        keys = {**flat_to_nested(call.get("query") or {}), **_body(call)}
        return sorted(set(self._check(shape, keys, 0))) if shape else []

    def label(self, row: Row) -> list[str]:
        if "sdk" in row.oracle:
            return self.label_sdk(row.oracle["sdk"])
        return self.label_http(row.oracle["http"])


def _body(call: Mapping[str, Any]) -> dict[str, Any]:
    if "form" in call:
        return flat_to_nested(call["form"])
    body = call.get("json") or {}
    return dict(body)


def _same_path(template: list[str], segments: list[str]) -> bool:
    return len(template) == len(segments) and all(
        t in ("{}", s) for t, s in zip(template, segments, strict=True)
    )


def main() -> int:
    return disagreements("stripe_*.yaml", StripeOracle(npm_package("stripe")).label)


if __name__ == "__main__":
    sys.exit(main())
