"""Calls to APIs in TypeScript and JavaScript source, read with tree-sitter.

The records are the Python extractor's (``fleetnb.truth.calls``), so every index
and check serves both. Names are followed through imports, ``require``, aliases
(``const customers = stripe.customers``), destructuring, ``this.x = ...`` and
parameters typed as clients, scoped by function (``ts_scopes``). tree-sitter
recovers from syntax errors, so a broken file still yields the calls in its
well-formed parts; the lines it skipped are kept in ``Calls.syntax_errors``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping

import tree_sitter

from fleetnb.truth.calls import STRIPE_CLIENT, SUPABASE_JS_CLIENT, Calls, Ref, Unresolved
from fleetnb.truth.routes import HOLE
from fleetnb.truth.ts_http import HTTP_LIBRARIES, http_call
from fleetnb.truth.ts_scopes import Scopes, parameter_names
from fleetnb.truth.ts_stripe import stripe_call
from fleetnb.truth.ts_supabase import QUERY, query_ref, supabase_chain
from fleetnb.truth.ts_syntax import (
    Node,
    call_arguments,
    language,
    parser,
    position,
    string_value,
    strip,
    text,
)

__all__ = ["extract_javascript", "extract_ts", "extract_tsx", "extract_typescript"]

_QUERY_TEXT = """
(import_statement) @import
(variable_declarator) @bind
(assignment_expression) @bind
(call_expression) @call
(ERROR) @error
(MISSING) @error
(call_expression function: (member_expression object: (call_expression) @inner))
[(function_declaration) (function_expression) (arrow_function) (method_definition)
 (generator_function_declaration) (generator_function)] @scope
(formal_parameters) @params
(arrow_function parameter: (identifier) @params)
"""
_TS_QUERY_TEXT = """
(call_expression
  function: (member_expression object: (non_null_expression (call_expression) @inner)))
(public_field_definition) @field
"""
_JS_QUERY_TEXT = """
(field_definition) @field
"""
# Client factories: (module, exported name) -> what calling it makes.
_FACTORIES = {
    ("stripe", ()): STRIPE_CLIENT,
    ("stripe", ("Stripe",)): STRIPE_CLIENT,
    ("stripe", ("default",)): STRIPE_CLIENT,
    ("@supabase/supabase-js", ("createClient",)): SUPABASE_JS_CLIENT,
    ("@supabase/ssr", ("createBrowserClient",)): SUPABASE_JS_CLIENT,
    ("@supabase/ssr", ("createServerClient",)): SUPABASE_JS_CLIENT,
}
# Types whose annotation on a parameter makes it a client: (module, exported name).
_CLIENT_TYPES = {
    ("stripe", ()): STRIPE_CLIENT,
    ("stripe", ("Stripe",)): STRIPE_CLIENT,
    ("@supabase/supabase-js", ("SupabaseClient",)): SUPABASE_JS_CLIENT,
}
_MAX_CALL_DEPTH = 100
_WINDOW = 1 << 20  # bytes of source whose query captures are held at once
_MODULES = frozenset({"stripe", "@supabase/supabase-js", "@supabase/ssr", *HTTP_LIBRARIES})


def extract_typescript(source: str) -> Calls:
    return extract_ts(source, "typescript")


def extract_tsx(source: str) -> Calls:
    return extract_ts(source, "tsx")


def extract_javascript(source: str) -> Calls:
    return extract_ts(source, "javascript")


def extract_ts(source: str, grammar: str = "typescript") -> Calls:
    """The API calls in ``source``; syntax errors are recovered from, never raised."""
    # Lone surrogates (from a lenient decode) pass through rather than fail the whole file.
    tree = parser(grammar).parse(source.encode("utf-8", "surrogatepass"))
    extractor = _Extractor()
    extractor.seed(tree.root_node)
    extractor.run(tree.root_node, grammar)
    return extractor.calls


@dataclasses.dataclass(slots=True)
class _Extractor:
    calls: Calls = dataclasses.field(default_factory=Calls)
    scopes: Scopes = dataclasses.field(default_factory=Scopes)
    depth: int = 0
    made: dict[int, Ref | None] = dataclasses.field(default_factory=dict)  # by node id

    @property
    def strings(self) -> Scopes:
        """The string constants in scope, for reading URLs and names."""
        return self.scopes

    def seed(self, root: Node) -> None:
        """Bind top-level imports and clients first: functions above them use them."""
        for child in root.named_children:
            exported = child.child_by_field_name("declaration")
            statement = exported if child.type == "export_statement" and exported else child
            if statement.type == "import_statement":
                self._import(statement)
            elif statement.type in ("lexical_declaration", "variable_declaration"):
                for declarator in statement.named_children:
                    if declarator.type == "variable_declarator":
                        self._bind(declarator)

    def run(self, root: Node, grammar: str) -> None:
        for kind, node, inner in _captures(root, grammar):
            if self.scopes.advance(node.start_byte):
                self.made.clear()  # names bound in a closed function no longer apply
            if kind == "scope":
                self.scopes.enter(node)
            elif kind == "params":
                self._parameters(node)
            elif kind == "field":
                self._field(node)
            elif kind == "error":
                self.calls.syntax_errors.append(position(node)[0])
            elif kind == "import":
                self._import(node)
            elif kind == "bind":
                self._bind(node)
            else:
                self._call(node, inner=inner)

    # -- bindings -------------------------------------------------------------------

    def _import(self, node: Node) -> None:
        source = node.child_by_field_name("source")
        module = string_value(source, {}) if source is not None else None
        if module is None or module.startswith("."):
            return  # the project's own modules
        self.calls.imports.add(_package(module))
        self.calls.import_sites.setdefault(module, position(node))
        self.calls.modules.add(module)
        clause = next((c for c in node.named_children if c.type == "import_clause"), None)
        if clause is None:
            return
        for part in clause.named_children:
            if part.type == "identifier":  # the default export
                self._set(text(part), Ref(module) if module in _MODULES else None, outer=True)
            elif part.type == "namespace_import" and part.named_children:
                made = Ref(module) if module in _MODULES else None
                self._set(text(part.named_children[-1]), made, outer=True)
            elif part.type == "named_imports":
                for spec in part.named_children:
                    name = spec.child_by_field_name("name")
                    alias = spec.child_by_field_name("alias") or name
                    if name is not None and alias is not None:
                        made = Ref(module, (text(name),)) if module in _MODULES else None
                        self._set(text(alias), made, outer=True)

    def _bind(self, node: Node) -> None:
        if node.type == "variable_declarator":
            target, value = node.child_by_field_name("name"), node.child_by_field_name("value")
        else:
            operator = node.child_by_field_name("operator")
            if operator is not None and operator.type != "=":
                return
            target, value = node.child_by_field_name("left"), node.child_by_field_name("right")
        if target is None:
            return
        ref = self.value_ref(value) if value is not None else None
        declared = node.type == "variable_declarator"
        if target.type == "object_pattern":
            self._destructure(target, ref, declared=declared)
            return
        key = _target_key(target)
        if key is None:
            return
        found = string_value(value, self.strings) if value is not None else None
        constant = found if found is not None and HOLE not in found else None
        if key.startswith("this."):
            self._set(key, ref, constant, outer=True)  # other methods use it
        else:
            self._set(key, ref, constant, declared=declared)

    def _parameters(self, node: Node) -> None:
        """A function's parameters shadow the file's names; ``(s: Stripe)`` is a client."""
        for name, annotation, is_property in parameter_names(node):
            made = self._annotated(annotation)
            self._set(name, made)
            if is_property:
                self._set(f"this.{name}", made, outer=True)

    def _field(self, node: Node) -> None:
        """``private stripe = new Stripe(key)`` in a class body is ``this.stripe``."""
        name = node.child_by_field_name("name") or node.child_by_field_name("property")
        if name is None:
            return
        made = self.value_ref(node.child_by_field_name("value"))
        self._set(
            f"this.{text(name)}",
            made or self._annotated(node.child_by_field_name("type")),
            outer=True,
        )

    def _annotated(self, annotation: Node | None) -> Ref | None:
        named = annotation.named_children if annotation is not None else []
        made = self.ref(named[0]) if named else None
        client = _CLIENT_TYPES.get((made.root, made.chain)) if made is not None else None
        return Ref(client) if client is not None else None

    def _destructure(self, pattern: Node, ref: Ref | None, *, declared: bool) -> None:
        """``const { customers } = stripe`` binds ``customers``; anything else is forgotten."""
        for part in pattern.named_children:
            if part.type == "shorthand_property_identifier_pattern":
                name = text(part)
                self._set(name, _extend(ref, name), declared=declared)
            elif part.type == "pair_pattern":
                key, value = part.child_by_field_name("key"), part.child_by_field_name("value")
                if value is not None and value.type == "identifier":
                    attr = (
                        text(key) if key is not None and key.type == "property_identifier" else None
                    )
                    made = _extend(ref, attr) if attr else None
                    self._set(text(value), made, declared=declared)

    def _set(
        self,
        key: str,
        ref: Ref | None,
        constant: str | None = None,
        *,
        declared: bool = True,
        outer: bool = False,
    ) -> None:
        self.made.clear()  # what a call makes may depend on this name
        if declared:
            self.scopes.declare(key, ref, constant, outer=outer)
        else:
            self.scopes.assign(key, ref, constant)

    def value_ref(self, value: Node | None) -> Ref | None:
        """What an expression's value is: a client made here, or a name's ref and attributes."""
        value = strip(value)
        if value is not None and value.type == "await_expression":
            value = strip(value.named_children[0] if value.named_children else None)
        if value is None:
            return None
        if value.type in ("call_expression", "new_expression"):
            return self._made(value)
        return self.ref(value)

    def _made(self, node: Node) -> Ref | None:
        """What a call or ``new`` makes: a client, a query builder, or a required module.

        Calls on calls (``a()()``, long ``.then()`` chains) are followed only so deep,
        so generated code cannot exhaust the stack, and remembered, since every call
        of a chain asks again about the calls before it.
        """
        if node.id not in self.made:
            self.made[node.id] = self._make(node)
        return self.made[node.id]

    def _make(self, node: Node) -> Ref | None:
        field = "constructor" if node.type == "new_expression" else "function"
        function = strip(node.child_by_field_name(field))
        if function is None or self.depth > _MAX_CALL_DEPTH:
            return None
        args = call_arguments(node)
        if function.type == "identifier" and text(function) == "require":
            module = string_value(args[0], {}) if args else None
            return Ref(module) if module in _MODULES and not self.scopes.bound("require") else None
        self.depth += 1
        try:
            made = self.ref(function)
            if made is None and function.type == "call_expression":
                made = self._made(function)
            return self._instance(made, node, args) if made is not None else None
        finally:
            self.depth -= 1

    def _instance(self, made: Ref, node: Node, args: list[Node]) -> Ref | None:
        if made.root == QUERY:
            return made  # a query builder stays one through its filters
        client = _FACTORIES.get((made.root, made.chain))
        if client is not None:
            return Ref(client)
        if made.root == SUPABASE_JS_CLIENT:
            return query_ref(self, node)
        if made.root in HTTP_LIBRARIES or made.root.endswith(":client"):
            return _http_instance(made, args, self.strings)
        return None

    def ref(self, node: Node | None) -> Ref | None:
        """A name followed by attributes: ``stripe.customers``, ``this.client.v2``.

        The base is resolved before the attributes are read: most calls in a file are
        on names the extractor does not follow, and reading their text is the cost.
        """
        props: list[Node] = []
        node = strip(node)
        while node is not None and node.type == "member_expression":
            prop = node.child_by_field_name("property")
            if prop is None or prop.type not in (
                "property_identifier",
                "private_property_identifier",
            ):
                return None
            props.append(prop)
            node = strip(node.child_by_field_name("object"))
        base = self._base(node, props)
        if base is None:
            return None
        skip = 1 if node is not None and node.type == "this" else 0  # `this.x` is the name
        return _extend(base, *(text(prop) for prop in reversed(props[: len(props) - skip])))

    def _base(self, node: Node | None, props: list[Node]) -> Ref | None:  # noqa: PLR0911 - one exit per kind of base
        """What the start of a member chain is; ``props`` are the attributes, last first."""
        if node is None:
            return None
        if node.type == "this":
            return self.scopes.ref(f"this.{text(props[-1])}") if props else None
        if node.type in ("identifier", "type_identifier"):
            name = text(node)
            if name == "fetch" and not props and not self.scopes.bound(name):
                return Ref("fetch")  # the global
            return self.scopes.ref(name)
        if node.type == "nested_type_identifier":  # `S.Stripe` in an annotation
            module, inner = node.child_by_field_name("module"), node.child_by_field_name("name")
            made = self.ref(module) if module is not None else None
            return None if made is None or inner is None else _extend(made, text(inner))
        if node.type in ("call_expression", "new_expression"):
            return self._made(node)
        return None

    # -- calls ----------------------------------------------------------------------

    def _call(self, node: Node, *, inner: bool) -> None:
        if not inner and supabase_chain(self, node):
            return
        function = node.child_by_field_name("function")
        ref = self.ref(function)
        if ref is None:
            if self._is_dynamic(function):
                line, column = position(node)
                self.calls.unresolved.append(
                    Unresolved(line, column, "the call's target is computed")
                )
            return
        if ref.root in HTTP_LIBRARIES or ref.root.endswith(":client") or ref.root == "fetch":
            http_call(self.calls, node, ref, self.strings)
        elif ref.root == STRIPE_CLIENT and ref.chain:
            found = stripe_call(node, ref, self.strings)
            if found is not None:
                self.calls.module_calls.append(found)

    def _is_dynamic(self, node: Node | None) -> bool:
        """A target reached through a subscript of a known API name: ``stripe[name].create``."""
        node = strip(node)
        while node is not None and node.type in ("member_expression", "subscript_expression"):
            inner = strip(node.child_by_field_name("object"))
            if node.type == "subscript_expression":
                return self.ref(inner) is not None
            node = inner
        return False


def _captures(root: Node, grammar: str) -> Iterator[tuple[str, Node, bool]]:
    """The nodes the extractor reads, outermost first in source order, found in C by a query,
    each with whether a longer chain continues it (``a.from('t')`` in ``a.from('t').select()``).

    Walking every node from Python, or asking for a node's parent (which tree-sitter
    finds by descending from the root), would cost more than the parse on a large file;
    reading the captures a window at a time keeps a large file's nodes out of memory.
    A chain's calls all start where the chain does, so each window knows its own.
    """
    cursor = tree_sitter.QueryCursor(_query(grammar))
    for start in range(0, max(root.end_byte, 1), _WINDOW):
        end = start + _WINDOW
        cursor.set_byte_range(start, end)
        captures = cursor.captures(root)
        inner = {node.id for node in captures.pop("inner", [])}
        found = [
            (node.start_byte, -node.end_byte, kind, node)
            for kind, nodes in captures.items()
            for node in nodes
            if start <= node.start_byte < end  # a node reaching in from before is read there
        ]
        found.sort(key=lambda item: (item[0], item[1]))
        for _, _, kind, node in found:
            yield kind, node, node.id in inner


_QUERIES: dict[str, tree_sitter.Query] = {}


def _query(grammar: str) -> tree_sitter.Query:
    if grammar not in _QUERIES:
        # Each grammar names its own nodes: `x!` is TypeScript's, class fields differ.
        own = _JS_QUERY_TEXT if grammar == "javascript" else _TS_QUERY_TEXT
        _QUERIES[grammar] = tree_sitter.Query(language(grammar), _QUERY_TEXT + own)
    return _QUERIES[grammar]


def _target_key(target: Node) -> str | None:
    """``client`` or ``this.client``: the assignment targets whose values are followed."""
    if target.type == "identifier":
        return text(target)
    if target.type == "member_expression":
        obj, prop = target.child_by_field_name("object"), target.child_by_field_name("property")
        if obj is not None and obj.type == "this" and prop is not None:
            return f"this.{text(prop)}"
    return None


def _extend(ref: Ref | None, *attrs: str) -> Ref | None:
    return None if ref is None else dataclasses.replace(ref, chain=(*ref.chain, *attrs))


def _package(module: str) -> str:
    """``@scope/name/sub`` -> ``@scope/name``; ``name/sub`` -> ``name``."""
    parts = module.split("/")
    return "/".join(parts[:2]) if module.startswith("@") else parts[0]


def _http_instance(made: Ref, args: list[Node], strings: Mapping[str, str]) -> Ref | None:
    """``axios.create({baseURL})``, ``ky.create({prefixUrl})``, ``got.extend(...)``."""
    library = made.root.split(":")[0]
    if made.chain not in (("create",), ("extend",)):
        return None
    base = made.base_url
    config = strip(args[0]) if args else None
    if config is not None and config.type == "object":
        for pair in config.named_children:
            key = pair.child_by_field_name("key") if pair.type == "pair" else None
            if key is not None and text(key).strip("'\"") in ("baseURL", "prefixUrl", "prefix"):
                found = string_value(pair.child_by_field_name("value"), strings)
                base = found if found is not None else HOLE
    return Ref(f"{library}:client", base_url=base)
