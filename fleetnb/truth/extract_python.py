"""Calls to APIs in Python source, read statically with ``ast``.

Names are followed through simple aliases (``import stripe as s``,
``client = StripeClient(...)``, ``customers = client.v1.customers``,
``with httpx.Client(base_url=...) as http``). A call whose target or arguments
are only known at run time (``getattr``, a subscript, a dict built elsewhere, a
URL in a variable) is recorded as unresolved: it is counted, never flagged.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from urllib.parse import parse_qsl, urlsplit

from fleetnb.truth.calls import (
    STRIPE_CLIENT,
    SUPABASE_PY_CLIENT,
    Calls,
    HttpCall,
    ModuleCall,
    Ref,
    TableCall,
    Unresolved,
)
from fleetnb.truth.routes import HOLE
from fleetnb.truth.shapes import KeyNode, KeyTree, merge_trees, tree_from_flat
from fleetnb.truth.supabase_py import (
    QUERY,
    SUPABASE_CLIENTS,
    builder_links,
    builder_steps,
    table_start,
)

__all__ = ["HTTP_MODULES", "extract_python"]

HTTP_MODULES = frozenset({"httpx", "requests"})
_HTTP_VERBS = frozenset({"get", "post", "put", "patch", "delete", "head", "options"})
_HTTP_CLIENTS = frozenset(
    {"httpx.Client", "httpx.AsyncClient", "requests.Session", "requests.session"}
)


def extract_python(source: str) -> Calls:
    """The API calls in ``source``; raises SyntaxError (or ValueError) if it does not parse."""
    tree = ast.parse(source)
    visitor = _Visitor()
    visitor.seed(tree)
    visitor.visit(tree)
    return visitor.calls


class _Visitor(ast.NodeVisitor):
    def __init__(self) -> None:
        self.calls = Calls()
        self.names: dict[str, Ref] = {}
        self.strings: dict[str, str] = {}
        self.guards = 0
        self.queries: dict[int, Ref] = {}  # query-builder chains read, by node id

    # -- bindings ---------------------------------------------------------------

    def seed(self, tree: ast.Module) -> None:
        """Bind the module's top-level imports and clients before reading function bodies.

        Functions are usually defined above the ``client = StripeClient(...)`` they use.
        """
        for statement in tree.body:
            if isinstance(statement, ast.Import | ast.ImportFrom):
                self.visit(statement)
            elif isinstance(statement, ast.Assign):
                self._bind(statement.targets, statement.value)
            elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
                self._bind([statement.target], statement.value)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        """A function's parameters shadow module names; its locals do not leak out.

        ``self.x = ...`` bindings do outlive the method, since other methods use them.
        """
        names, strings = dict(self.names), dict(self.strings)
        args = node.args
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
            if arg is not None:
                self.names.pop(arg.arg, None)
                self.strings.pop(arg.arg, None)
                annotated = self._annotated(arg.annotation)
                if annotated is not None:
                    self.names[arg.arg] = annotated
        guard = not isinstance(node, ast.Lambda) and bool(_PLATFORM_NAME.search(node.name))
        self.guards += guard
        self.generic_visit(node)
        self.guards -= guard
        kept = {key: ref for key, ref in self.names.items() if key.startswith("self.")}
        self.names, self.strings = names | kept, strings

    visit_AsyncFunctionDef = visit_FunctionDef
    visit_Lambda = visit_FunctionDef

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self._forget(node.target)
        self.generic_visit(node)

    visit_AsyncFor = visit_For

    def _forget(self, target: ast.AST) -> None:
        for name in ast.walk(target):
            if isinstance(name, ast.Name):
                self.names.pop(name.id, None)
                self.strings.pop(name.id, None)

    def _comprehension(
        self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp
    ) -> None:
        names, strings = dict(self.names), dict(self.strings)
        for generator in node.generators:
            self._forget(generator.target)
        self.generic_visit(node)
        self.names, self.strings = names, strings

    visit_ListComp = _comprehension
    visit_SetComp = _comprehension
    visit_GeneratorExp = _comprehension
    visit_DictComp = _comprehension

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        self._bind([node.target], node.value)

    # -- guards: code that expects an attribute may be missing ---------------------

    def visit_If(self, node: ast.If | ast.IfExp) -> None:
        guard = bool(_GUARD_TEST.search(ast.unparse(node.test)))
        self.guards += guard
        self.generic_visit(node)
        self.guards -= guard

    visit_IfExp = visit_If

    def visit_Try(self, node: ast.Try | ast.TryStar) -> None:
        guard = any(_catches_missing(handler) for handler in node.handlers)
        self.guards += guard
        for statement in node.body:
            self.visit(statement)
        self.guards -= guard
        for part in (*node.handlers, *node.orelse, *node.finalbody):
            self.visit(part)

    visit_TryStar = visit_Try

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._import_site(alias.name, node)
            self.calls.imports.add(alias.name.split(".")[0])
            self.calls.modules.add(alias.name)
            if alias.asname:
                self.names[alias.asname] = Ref(alias.name)
            else:
                top = alias.name.split(".")[0]
                self.names[top] = Ref(top)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level or not node.module:
            return  # relative imports are the project's own code
        self._import_site(node.module, node)
        self.calls.imports.add(node.module.split(".")[0])
        self.calls.modules.add(node.module)
        for alias in node.names:
            if alias.name != "*":
                self.names[alias.asname or alias.name] = Ref(node.module, (alias.name,))

    def _import_site(self, module: str, node: ast.Import | ast.ImportFrom) -> None:
        if not self.guards:  # a guarded import is optional: its absence is expected
            top = module.split(".", maxsplit=1)[0]
            self.calls.import_sites.setdefault(top, (node.lineno, node.col_offset + 1))

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        self._bind(node.targets, node.value)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
            self._bind([node.target], node.value)

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        for item in node.items:
            self.visit(item.context_expr)
            if item.optional_vars is not None:
                self._bind([item.optional_vars], item.context_expr)
        for statement in node.body:
            self.visit(statement)

    visit_AsyncWith = visit_With

    def _bind(self, targets: list[ast.expr], value: ast.expr) -> None:
        ref = self._value_ref(value)
        text = _string(value, self.strings)
        for target in targets:
            if isinstance(target, ast.Tuple | ast.List | ast.Starred):
                self._forget(target)
                continue
            key = _target_key(target)
            if key is not None:
                self.names.pop(key, None)
                self.strings.pop(key, None)
                if ref is not None:
                    self.names[key] = ref
                if text is not None and HOLE not in text:
                    self.strings[key] = text

    def _annotated(self, annotation: ast.expr | None) -> Ref | None:
        """A parameter annotated ``StripeClient`` or ``httpx.Client`` is one."""
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
            try:
                annotation = ast.parse(annotation.value, mode="eval").body
            except SyntaxError:
                return None
        if annotation is None or isinstance(annotation, ast.Constant):
            return None
        made = self._ref(annotation)
        if made is None:
            return None
        return self._instance(".".join((made.root, *made.chain)), None)

    def _value_ref(self, value: ast.expr) -> Ref | None:
        if isinstance(value, ast.Await):
            value = value.value
        if id(value) in self.queries:
            return self.queries[id(value)]
        if isinstance(value, ast.Call):
            made = self._ref(value.func)
            if made is None:
                return None
            base = _keyword(value, "base_url")
            base_text = _string(base, self.strings) if base is not None else None
            return self._instance(".".join((made.root, *made.chain)), base_text)
        return self._ref(value)

    @staticmethod
    def _instance(class_name: str, base_url: str | None) -> Ref | None:
        """The client an instance of ``class_name`` is, if it is one we check."""
        if class_name in ("stripe.StripeClient", "stripe._stripe_client.StripeClient"):
            return Ref(STRIPE_CLIENT)
        if class_name in _HTTP_CLIENTS:
            return Ref(f"{class_name.split('.', maxsplit=1)[0]}:client", base_url=base_url)
        if class_name in SUPABASE_CLIENTS:
            return Ref(SUPABASE_PY_CLIENT)
        return None

    def _ref(self, node: ast.expr) -> Ref | None:
        attrs: list[str] = []
        while isinstance(node, ast.Attribute):
            attrs.append(node.attr)
            node = node.value
        attrs.reverse()
        if isinstance(node, ast.Name) and attrs and f"{node.id}.{attrs[0]}" in self.names:
            base = self.names[f"{node.id}.{attrs[0]}"]  # self.client, bound in a method
            return dataclasses.replace(base, chain=(*base.chain, *attrs[1:]))
        if isinstance(node, ast.Name) and node.id in self.names:
            base = self.names[node.id]
            return dataclasses.replace(base, chain=(*base.chain, *attrs))
        if isinstance(node, ast.Call):
            made = self._value_ref(node)
            if made is not None:
                return dataclasses.replace(made, chain=(*made.chain, *attrs))
        return None

    # -- calls ------------------------------------------------------------------

    def visit_Call(self, node: ast.Call) -> None:
        if self._table_chain(node):
            return
        self.generic_visit(node)
        ref = self._ref(node.func)
        if ref is None:
            if self._is_dynamic(node.func):
                self.calls.unresolved.append(
                    Unresolved(node.lineno, node.col_offset + 1, "the call's target is computed")
                )
            return
        if ref.root.endswith(":client") or (ref.root in HTTP_MODULES and len(ref.chain) == 1):
            self._http(node, ref)
        elif ref.chain:
            self._module_call(node, ref)

    # -- Supabase query builders ---------------------------------------------------

    def _table_chain(self, node: ast.Call) -> bool:
        """``supabase.table("posts").select("id").eq("id", 1)``: one TableCall, from the outside.

        Only the arguments are visited afterwards, so the inner calls of the chain
        are not read again as calls of their own.
        """
        links, base = builder_links(node)
        base_ref = self._ref(base) if links else None
        if base_ref is None:
            return False
        if base_ref.root == QUERY:
            (schema, table), start = base_ref.chain, 0
        elif base_ref.root == SUPABASE_PY_CLIENT and base_ref.chain in ((), ("postgrest",)):
            found = table_start(links, self._known)
            if found is None:
                return False
            start, schema, table = found
        else:
            return False
        steps = builder_steps(node, links, start, self._known, lambda n: _nested(n, self.strings))
        line, column = node.lineno, node.col_offset + 1
        self.calls.table_calls.append(TableCall(table or None, line, column, steps, schema or None))
        self.queries[id(node)] = Ref(QUERY, (schema, table))
        for _, call in links:
            for part in (*call.args, *call.keywords) if call is not None else ():
                self.visit(part)
        self.visit(base)
        return True

    def _known(self, node: ast.expr) -> str | None:
        text = _string(node, self.strings)
        return text if text is not None and HOLE not in text else None

    def _is_dynamic(self, node: ast.expr) -> bool:
        """A target reached through ``getattr`` or a subscript from a known API name.

        A call on what an API call returned (``client.v1.customers.list().data``)
        is not an API call itself and is not counted.
        """
        while isinstance(node, ast.Attribute):
            node = node.value
        if isinstance(node, ast.Subscript):
            return self._mentions_known(node.value)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "getattr"
            and node.args
        ):
            return self._mentions_known(node.args[0])
        return False

    def _mentions_known(self, node: ast.expr) -> bool:
        return any(isinstance(n, ast.Name) and n.id in self.names for n in ast.walk(node))

    def _module_call(self, node: ast.Call, ref: Ref) -> None:
        kwargs = KeyTree()
        params: KeyTree | None = None
        dynamic = False
        for keyword in node.keywords:
            if keyword.arg is None:
                kwargs.complete = False
            elif keyword.arg == "params" and ref.root == STRIPE_CLIENT:
                params = _dict_keys(keyword.value, self.strings)
                dynamic = params is None
            else:
                kwargs.keys[keyword.arg] = KeyNode(
                    keyword.lineno, keyword.col_offset + 1, _nested(keyword.value, self.strings)
                )
        self.calls.module_calls.append(
            ModuleCall(
                ref.root,
                ref.chain,
                node.lineno,
                node.col_offset + 1,
                kwargs,
                params,
                dynamic,
                guarded=self.guards > 0,
                args=tuple(_dict_keys(arg, self.strings) for arg in node.args),
                spread=any(isinstance(arg, ast.Starred) for arg in node.args),
            )
        )

    def _http(self, node: ast.Call, ref: Ref) -> None:
        method = ref.chain[-1] if ref.chain else ""
        args = list(node.args)
        verb: str | None = method if method in _HTTP_VERBS else None
        if method in ("request", "stream"):
            verb_node = args.pop(0) if args else _keyword(node, "method")
            verb_text = _string(verb_node, self.strings) if verb_node is not None else None
            verb = verb_text.lower() if verb_text and HOLE not in verb_text else None
        elif verb is None:
            return  # not a request (httpx.Timeout(...), client.close())
        url_node = args[0] if args else _keyword(node, "url")
        url = _string(url_node, self.strings) if url_node is not None else None
        if verb is None or url is None:
            self.calls.unresolved.append(
                Unresolved(node.lineno, node.col_offset + 1, "the URL or verb is computed")
            )
            return
        if not urlsplit(url).hostname and ref.base_url:
            url = ref.base_url.rstrip("/") + "/" + url.lstrip("/")
        self.calls.http_calls.append(
            HttpCall(
                verb,
                url,
                node.lineno,
                node.col_offset + 1,
                self._http_keys(node, url),
                ref.root.split(":")[0],
            )
        )

    def _http_keys(self, node: ast.Call, url: str) -> KeyTree:
        line, column = node.lineno, node.col_offset + 1
        query = {key: (line, column) for key, _ in parse_qsl(urlsplit(url).query, True)}
        keys = tree_from_flat(query)
        if _keyword(node, "content") is not None or _keyword(node, "files") is not None:
            keys.complete = False  # a body we cannot read: required keys may be in it
        for name in ("json", "data", "params"):
            value = _keyword(node, name)
            if value is None:
                continue
            found = _dict_keys(value, self.strings)
            if found is None:
                keys.complete = False
            elif name == "json":
                keys.merge(found)
            else:
                # Form and query keys are flat strings: "line_items[0][price]".
                flat = {k: (n.line, n.column) for k, n in found.keys.items()}
                keys.merge(tree_from_flat(flat))
                keys.complete = keys.complete and found.complete
        return keys


_GUARD_TEST = re.compile(
    r"platform|os\.name|hasattr|version_info|windows|win32|darwin|linux|posix|java|TYPE_CHECKING"
    r"|\b_?(has|have|is|use|supports?)_|\bPY[23]\b",
    re.IGNORECASE,
)
# A function named for one platform (wait_pid_kqueue, _win_console) runs only there.
_PLATFORM_NAME = re.compile(
    r"(^|_)(win|windows|win32|nt|darwin|macos|osx|bsd|kqueue|linux|posix)(_|$)", re.IGNORECASE
)
_MISSING_ERRORS = frozenset({"AttributeError", "ImportError", "ModuleNotFoundError", "NameError"})


def _catches_missing(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True  # a bare except catches the AttributeError too
    caught = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(c, ast.Name) and c.id in _MISSING_ERRORS for c in caught)


def _target_key(target: ast.expr) -> str | None:
    """``client`` or ``self.client``: the assignment targets whose values are followed."""
    if isinstance(target, ast.Name):
        return target.id
    if (
        isinstance(target, ast.Attribute)
        and isinstance(target.value, ast.Name)
        and target.value.id in ("self", "cls")
    ):
        return f"{target.value.id}.{target.attr}"
    return None


def _keyword(node: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in node.keywords if k.arg == name), None)


def _string(node: ast.expr | None, strings: dict[str, str]) -> str | None:
    """A string known statically; f-string holes become HOLE; None when unknown."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return strings.get(node.id)
    if isinstance(node, ast.JoinedStr):
        return "".join(_string(part, strings) or HOLE for part in node.values)
    if isinstance(node, ast.FormattedValue) and node.format_spec is None and node.conversion < 0:
        return _string(node.value, strings)  # f"{API}/v1/..." with API a known constant
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _string(node.left, strings), _string(node.right, strings)
        return None if left is None or right is None else left + right
    return None


def _dict_keys(node: ast.expr, strings: dict[str, str]) -> KeyTree | None:
    """The keys of a dict literal (``dict(a=...)`` too), nested; None if not a literal."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "dict"
        and not node.args
    ):
        tree = KeyTree()
        for keyword in node.keywords:
            if keyword.arg is None:
                tree.complete = False
            else:
                tree.keys[keyword.arg] = KeyNode(
                    keyword.lineno, keyword.col_offset + 1, _nested(keyword.value, strings)
                )
        return tree
    if not isinstance(node, ast.Dict):
        return None
    tree = KeyTree()
    for key, value in zip(node.keys, node.values, strict=True):
        text = _string(key, strings) if key is not None else None
        if text is None or HOLE in text:
            tree.complete = False  # **spread or a computed key
            continue
        assert key is not None
        tree.keys[text] = KeyNode(key.lineno, key.col_offset + 1, _nested(value, strings))
    return tree


def _nested(value: ast.expr, strings: dict[str, str]) -> KeyTree | None:
    """Keys under a value: a dict literal, or the dicts of a list literal merged."""
    if isinstance(value, (ast.List, ast.Tuple)):
        return merge_trees(_dict_keys(element, strings) for element in value.elts)
    return _dict_keys(value, strings)
