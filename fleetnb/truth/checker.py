"""Checking extracted calls against the real surfaces.

Every call is either checked (its target resolved against an index) or counted
as unresolved; findings are only raised for checked calls.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from fleetnb.truth.calls import (
    STRIPE_CLIENT,
    SUPABASE_JS_CLIENT,
    SUPABASE_PY_CLIENT,
    Calls,
    HttpCall,
    ModuleCall,
)
from fleetnb.truth.extract_python import HTTP_MODULES, extract_python
from fleetnb.truth.extract_ts import extract_javascript, extract_tsx, extract_typescript
from fleetnb.truth.findings import CheckReport, Finding, FindingKind, Severity, closest
from fleetnb.truth.imports_check import unknown_imports
from fleetnb.truth.openapi import SpecError, load_openapi
from fleetnb.truth.package_check import PackageWalk
from fleetnb.truth.package_index import PackageIndex, index_package, indexable
from fleetnb.truth.registry import Registry
from fleetnb.truth.routes import HOLE, HttpSurface
from fleetnb.truth.shapes import KeyTree, ShapeTable, check_keys
from fleetnb.truth.sources import read_source, walk
from fleetnb.truth.stripe_index import (
    IndexBuildError,
    StripeIndex,
    StripeMethod,
    StripeService,
    load_stripe_index,
    stripe_version,
)
from fleetnb.truth.supabase_check import SupabaseSurfaces
from fleetnb.truth.ts_stripe import camel, node_misspelling, node_names, stripe_node_chain

__all__ = ["EXTRACTORS", "SUFFIXES", "Checker", "check_paths", "check_source"]

# One extractor per language, all producing the same call records: a new language
# (TypeScript with tree-sitter) plugs in here and reuses every index and check.
# An extractor raises SyntaxError or ValueError on code it cannot parse.
EXTRACTORS: dict[str, Callable[[str], Calls]] = {
    "python": extract_python,
    "typescript": extract_typescript,
    "tsx": extract_tsx,
    "javascript": extract_javascript,  # its grammar reads JSX too
}
SUFFIXES = {".py": "python", ".pyi": "python"} | {
    **dict.fromkeys((".ts", ".mts", ".cts"), "typescript"),
    ".tsx": "tsx",
    **dict.fromkeys((".js", ".jsx", ".mjs", ".cjs"), "javascript"),
}
_OWN_INDEXES = HTTP_MODULES | {"stripe"}  # checked by their own indexes, not by introspection


def check_source(
    code: str,
    lang: str = "python",
    *,
    path: str | None = None,
    specs: Sequence[str | os.PathLike[str]] = (),
    supabase_schema: Sequence[str | os.PathLike[str]] = (),
) -> CheckReport:
    """Check the API calls in ``code``; unparseable code becomes a problem, not an error."""
    return Checker(specs, supabase_schema=supabase_schema).check_source(code, lang, path=path)


def check_paths(
    paths: Iterable[str | os.PathLike[str]],
    *,
    specs: Sequence[str | os.PathLike[str]] = (),
    supabase_schema: Sequence[str | os.PathLike[str]] = (),
) -> CheckReport:
    """Check every source file under ``paths`` (files or directories).

    ``supabase_schema``: SQL migrations, folders of them or PostgREST OpenAPI JSON,
    applied after the ``supabase/migrations`` found in each file's project.
    """
    return Checker(specs, supabase_schema=supabase_schema).check_paths(paths)


class Checker:
    """Indexes loaded once (Stripe, OpenAPI specs, packages), reused across files."""

    def __init__(
        self,
        specs: Sequence[str | os.PathLike[str]] = (),
        *,
        supabase_schema: Sequence[str | os.PathLike[str]] = (),
    ) -> None:
        self.problems: list[str] = []
        self.supabase = SupabaseSurfaces(supabase_schema)
        self.surfaces: list[HttpSurface] = []
        self.specs: list[HttpSurface] = []  # the surfaces given as specs, without Stripe's
        for spec in specs:
            try:
                self.specs.append(load_openapi(spec))
            except SpecError as exc:
                self.problems.append(str(exc))
        self.surfaces.extend(self.specs)
        self._stripe: StripeIndex | bool | None = False
        self.registry = Registry()
        self._packages: dict[tuple[str, tuple[str, ...]], PackageIndex] = {}

    @property
    def stripe(self) -> StripeIndex | None:
        if self._stripe is False:
            try:
                self._stripe = load_stripe_index()
            except IndexBuildError as exc:
                self._stripe = None
                self.problems.append(str(exc))
            if self._stripe is not None:
                self.surfaces.append(self._stripe.http_surface())
        return self._stripe if isinstance(self._stripe, StripeIndex) else None

    def check_source(
        self, code: str, lang: str = "python", *, path: str | None = None
    ) -> CheckReport:
        report = CheckReport(problems=self.take_problems())
        extract = EXTRACTORS.get(lang)
        if extract is None:
            report.problems.append(
                f"{path or '<source>'}: no extractor for {lang!r} yet; not checked"
            )
            return report
        try:
            calls = extract(code)
        except (SyntaxError, ValueError, RecursionError) as exc:
            where = f"{path or '<source>'}:{getattr(exc, 'lineno', None) or 0}"
            report.problems.append(
                f"{where}: does not parse as {lang} ({exc.__class__.__name__}: "
                f"{getattr(exc, 'msg', exc)}); not checked"
            )
            return report
        if calls.syntax_errors:
            report.problems.append(
                f"{path or '<source>'}:{calls.syntax_errors[0]}: {len(calls.syntax_errors)} "
                f"syntax error(s) in {lang}; only the calls in the parts that parse were checked"
            )
        _File(self, calls, path, report, lang).check()
        return report

    def check_paths(self, paths: Iterable[str | os.PathLike[str]]) -> CheckReport:
        report = CheckReport(problems=self.take_problems())
        for file, explicit in walk(paths, report):
            lang = SUFFIXES.get(file.suffix)
            if lang is None:
                if explicit:
                    report.problems.append(
                        f"{file}: no extractor for {file.suffix or 'this'} files yet; not checked"
                    )
                continue
            code = read_source(file, report)
            if code is not None:
                report.merge(self.check_source(code, lang, path=str(file)))
        return report

    def package(self, top: str, submodules: tuple[str, ...]) -> PackageIndex | None:
        if not indexable(top):
            return None
        key = (top, submodules)
        if key not in self._packages:
            self._packages[key] = index_package(top, submodules)
        return self._packages[key]

    def prefetch(self, keys: Iterable[tuple[str, tuple[str, ...]]]) -> None:
        """Index several packages at once: each is a child interpreter, mostly waiting on I/O."""
        todo = [key for key in set(keys) if key not in self._packages and indexable(key[0])]
        if len(todo) < 2:
            return
        with ThreadPoolExecutor(max_workers=min(4, len(todo))) as pool:
            for key, index in zip(todo, pool.map(lambda k: index_package(*k), todo), strict=True):
                self._packages[key] = index

    def take_problems(self) -> list[str]:
        taken, self.problems = self.problems, []
        return taken


@dataclasses.dataclass(slots=True)
class _File:
    """The check of one file's calls."""

    checker: Checker
    calls: Calls
    path: str | None
    report: CheckReport
    lang: str

    def check(self) -> None:
        self.report.calls_unresolved += len(self.calls.unresolved)
        tops = {call.root.split(".")[0] for call in self.calls.module_calls}
        self.checker.prefetch(self._package_key(top) for top in tops - _OWN_INDEXES)
        for call in self.calls.module_calls:
            self._module_call(call)
        supabase = self.checker.supabase
        self._absorb(supabase.check_tables(self.calls.table_calls, self.path, self.lang))
        for http in self.calls.http_calls:
            self._http(http)
        registry = self.checker.registry
        self.report.findings.extend(unknown_imports(self.calls, self.lang, self.path, registry))
        self.report.findings.sort(key=lambda f: (f.path or "", f.line, f.column))

    def _finding(
        self,
        where: tuple[int, int],
        api: str,
        kind: FindingKind,
        message: str,
        *,
        suggestion: str | None = None,
        severity: Severity = "error",
    ) -> None:
        line, column = where
        finding = Finding(self.path, line, column, api, kind, severity, message, suggestion)
        self.report.findings.append(finding)

    def _stripe_index(self, *, note_missing: bool = True) -> StripeIndex | None:
        index = self.checker.stripe
        for problem in self.checker.take_problems():
            self._note(problem)  # a failed build, reported with this file's findings
        if index is None and note_missing and stripe_version() is None:
            self._note(
                "stripe is not installed, so Stripe calls were not checked; "
                "install it (pip install 'fleetnb[truth]')"
            )
        return index

    def _package_key(self, top: str) -> tuple[str, tuple[str, ...]]:
        # `import a.b` binds `a`: the child must import a.b too, as the code does.
        imported = self.calls.modules | {c.root for c in self.calls.module_calls}
        return top, tuple(sorted(m for m in imported if m.split(".")[0] == top and m != top))

    def _note(self, problem: str) -> None:
        if problem not in self.report.problems:
            self.report.problems.append(problem)

    def _absorb(self, found: CheckReport) -> None:
        """A check run by its own module: its findings and counts, its problems once."""
        self.report.findings.extend(found.findings)
        self.report.calls_checked += found.calls_checked
        self.report.calls_unresolved += found.calls_unresolved
        for problem in found.problems:
            self._note(problem)

    def _resolved(self, ok: bool) -> None:
        if ok:
            self.report.calls_checked += 1
        else:
            self.report.calls_unresolved += 1

    # -- SDK and module calls -------------------------------------------------------

    def _module_call(self, call: ModuleCall) -> None:
        if call.root == SUPABASE_PY_CLIENT:
            self._absorb(self.checker.supabase.check_client(call, self.path))
            return
        top = call.root.split(".")[0]
        if call.root == STRIPE_CLIENT or top == "stripe":
            if call.chain[:1] == ("StripeClient",):
                return  # the constructor: the instance is what gets checked
            index = self._stripe_index()
            if index is None:
                self._resolved(False)
                return
            if call.shown is not None:  # stripe-node, mapped onto the Python SDK's names
                call = stripe_node_chain(index, call)
                if self._node_name(index, call):
                    return
            self._resolved(self._stripe(index, call))
        elif call.root == SUPABASE_JS_CLIENT:
            self._absorb(self.checker.supabase.check_js_client(call, self.path))
        elif top not in HTTP_MODULES:
            package = self.checker.package(*self._package_key(top))
            if package is None:
                return  # the project's own module: not an API surface
            for problem in package.problems:
                self._note(problem)
            walk = PackageWalk(package, call, self.path)
            self._resolved(walk.run())
            self.report.findings.extend(walk.findings)

    def _node_name(self, index: StripeIndex, call: ModuleCall) -> bool:
        """A name stripe-node spells otherwise (``delete`` for ``del``): reported even where
        the Python SDK has it."""
        found = node_misspelling(index, call)
        if found is None:
            return False
        at, suggestion = found
        parts = (call.shown or "").split(".")
        self._finding(
            (call.line, call.column),
            call.api,
            "unknown_method",
            f"`{'.'.join(parts[: at + 1])}` has no method or attribute `{parts[at + 1]}`",
            suggestion=suggestion,
        )
        self._resolved(True)
        return True

    def _stripe(self, index: StripeIndex, call: ModuleCall) -> bool:
        key = "client" if call.root == STRIPE_CLIENT else call.root
        chain = call.chain
        if key == "stripe" and chain[:1] == ("StripeClient",):
            return True
        for position, attr in enumerate(chain):
            service = index.services.get(key)
            if service is None:
                return False
            if attr in service.children:
                key = service.children[attr]
                continue
            if attr in service.methods and position == len(chain) - 1:
                self._stripe_params(index, call, service.methods[attr])
                return True
            if attr in service.methods or attr in service.others:
                return position == len(chain) - 1  # a property or helper; deeper is unknown
            where, name, suggestion = _spelling(call, key, position, index, service)
            self._finding(
                (call.line, call.column),
                call.api,
                "unknown_method",
                f"`{where}` has no method or attribute `{name}`",
                suggestion=suggestion,
            )
            return True
        return True

    def _stripe_params(self, index: StripeIndex, call: ModuleCall, method: StripeMethod) -> None:
        if call.root != STRIPE_CLIENT:  # legacy resources take params as keywords
            if method.params is not None:
                tree = KeyTree(dict(call.kwargs.keys), call.kwargs.complete)
                for name in method.keywords:  # retrieve(id=...): a named argument, not a param
                    tree.keys.pop(name, None)
                self._keys(_at(call), call.api, tree, table=index.shapes, shape=method.params)
            return
        for name, node in call.kwargs.keys.items():
            if name not in ("params", "options"):
                self._finding(
                    (node.line, node.column),
                    call.api,
                    "unknown_param",
                    f"`{call.api}` takes API parameters inside `params={{...}}`, "
                    f"not as the keyword `{name}`",
                    suggestion="params",
                )
        params = _client_params(call, method)
        if params is not None and method.params is not None:
            self._keys(_at(call), call.api, params, table=index.shapes, shape=method.params)

    def _keys(
        self, where: tuple[int, int], api: str, tree: KeyTree, *, table: ShapeTable, shape: str
    ) -> None:
        for problem in check_keys(table, (shape,), tree):
            if problem.kind == "unknown_param":
                self._finding(
                    (problem.line, problem.column),
                    api,
                    "unknown_param",
                    f"`{api}` does not accept the parameter `{problem.key}`",
                    suggestion=problem.suggestion,
                )
            else:
                self._finding(
                    where,
                    api,
                    "missing_required_param",
                    f"`{api}` requires the parameter `{problem.key}`",
                )

    # -- raw HTTP ---------------------------------------------------------------

    def _http(self, call: HttpCall) -> None:
        if self._stripe_index(note_missing=False) is None and not self.checker.surfaces:
            self._resolved(False)
            return
        url = call.url.split("?")[0]
        for surface in self.checker.surfaces:
            relative = surface.relative_path(url)
            if relative is not None:
                self._resolved(True)
                self._route(surface, call, relative)
                return
        self._resolved(self._unknown_base(call, url))

    def _unknown_base(self, call: HttpCall, url: str) -> bool:
        """A URL whose base is computed (``f"{BASE}/pets"``, a client's env base_url).

        Checked against a given spec only when its path matches one of the spec's
        templates: with the host unknown, a path the spec lacks may belong to
        another service, so it is never reported as unknown.
        """
        if urlsplit(url).hostname is not None:
            return False
        path = "/" + url.partition("/")[2] if url.startswith(HOLE) else url
        for surface in self.checker.specs:
            for server in surface.servers:
                prefix = urlsplit(server).path.rstrip("/")
                relative = path[len(prefix) :] if prefix and path.startswith(prefix + "/") else path
                match = surface.match(_holes(relative))
                if match.template is not None and match.word_in_slot is None:
                    self._route(surface, call, relative)
                    return True
        return False

    def _route(self, surface: HttpSurface, call: HttpCall, path: str) -> None:
        shown = call.url.split("?")[0].replace(HOLE, "{…}")
        api = f"{call.verb.upper()} {shown}"
        match = surface.match(_holes(path))
        if match.template is None:
            self._finding(
                (call.line, call.column),
                api,
                "unknown_endpoint",
                f"{surface.name} serves no path like `{shown}`",
                suggestion=match.suggestion,
            )
            return
        if match.word_in_slot is not None:
            self._finding(
                (call.line, call.column),
                api,
                "unknown_endpoint",
                f"`{match.word_in_slot}` fills the ID slot of `{match.template}`; "
                "it looks like an invented action, not an ID",
                suggestion=match.suggestion,
                severity="warning",
            )
            return
        verb = "get" if call.verb == "head" else call.verb
        operation = match.for_verb(verb)
        if operation is None:
            allowed = sorted(op.verb.upper() for op in match.operations)
            self._finding(
                (call.line, call.column),
                api,
                "wrong_verb",
                f"`{match.template}` takes {', '.join(allowed)}, not {call.verb.upper()}",
                suggestion=allowed[0] if len(allowed) == 1 else None,
            )
            return
        if operation.params is not None:
            self._keys(
                (call.line, call.column),
                api,
                call.keys,
                table=surface.shapes,
                shape=operation.params,
            )


def _at(call: ModuleCall | HttpCall) -> tuple[int, int]:
    return call.line, call.column


def _spelling(
    call: ModuleCall, key: str, position: int, index: StripeIndex, service: StripeService
) -> tuple[str, str, str | None]:
    """The service, the missing name and the suggestion, as the call's own SDK spells them."""
    attr = call.chain[position]
    if call.shown is None:
        return ("client" if key == "client" else key), attr, closest(attr, service.names())
    parts = call.shown.split(".")
    cut = max(1, min(len(parts) - 1, len(parts) - (len(call.chain) - position)))
    suggestion = closest(attr, node_names(index, service))
    return ".".join(parts[:cut]), parts[cut], camel(suggestion) if suggestion else None


def _client_params(call: ModuleCall, method: StripeMethod) -> KeyTree | None:
    """The params a StripeClient call passes, or None when only known at run time.

    Params come by keyword or as the positional argument after the method's IDs.
    """
    if call.params is not None or call.params_dynamic:
        return call.params
    if call.spread:
        return None
    if len(call.args) > method.ids:
        return call.args[method.ids]  # None: a variable, known only at run time
    return KeyTree()  # no params at all: every required key is missing


def _holes(path: str) -> str:
    """A segment partly computed (``cus_{cid}``) may be anything: the whole segment is a hole."""
    return "/".join(HOLE if HOLE in segment else segment for segment in path.split("/"))
