"""The installed supabase-py client's attributes, with the types they hold, by introspection.

``supabase.auth.sign_in_with_password(...)`` is a chain through attribute types:
``Client.auth`` is set in ``__init__`` from a method annotated to return
``SyncSupabaseAuthClient``. ``dir()`` misses such instance attributes, so the
child interpreter reads each class's source for ``self.x = ...`` assignments and
takes their types from annotations; an attribute whose type it cannot tell ends
the walk, and the call is counted as unresolved.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fleetnb.truth import cache
from fleetnb.truth.calls import ModuleCall
from fleetnb.truth.findings import CheckReport, Finding, closest
from fleetnb.truth.package_index import introspect

__all__ = [
    "ClientIndex",
    "check_client_call",
    "load_builder_names",
    "load_client_index",
    "suggest_renamed",
]

_FORMAT = 1
_ROOTS = ("supabase.Client", "supabase.AsyncClient")
# The query builders ``supabase.table(...)`` hands out, sync and async, at each stage.
_BUILDERS = tuple(
    f"postgrest.{mode}{stage}RequestBuilder"
    for mode in ("Sync", "Async")
    for stage in ("", "Select", "Filter", "Query", "Single", "MaybeSingle", "RPCFilter")
)

# Runs in the child: from each root class, follow attribute types to the classes they hold.
_CHILD = r"""
import ast, importlib, inspect, json, sys, textwrap, types, typing
out_path, roots = sys.argv[1], sys.argv[2:]
def as_class(hint):
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and len(args) == 1:
        return as_class(args[0])
    return hint if inspect.isclass(hint) else None
def returns(fn):
    try:
        return as_class(typing.get_type_hints(fn).get("return"))
    except Exception:
        return None
def value_type(node, klass, scope):
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return as_class(scope.get(node.func.id))
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "self"):
        return returns(getattr(klass, node.func.attr, None))
    return None
def instance_attrs(cls):
    found, readable = {}, True
    for klass in reversed(cls.__mro__[:-1]):
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        except (OSError, TypeError, SyntaxError):
            readable = False
            continue
        scope = vars(sys.modules[klass.__module__])
        for node in ast.walk(tree):
            targets = node.targets if isinstance(node, ast.Assign) else (
                [node.target] if isinstance(node, ast.AnnAssign) else [])
            for t in targets:
                if not (isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name)
                        and t.value.id == "self"):
                    continue
                kind = None
                if isinstance(node, ast.AnnAssign):
                    try:
                        kind = as_class(eval(ast.unparse(node.annotation), dict(scope)))
                    except Exception:
                        kind = None
                kind = kind or (value_type(node.value, klass, scope) if node.value else None)
                if kind is not None or t.attr not in found:
                    found[t.attr] = kind
    return found, readable
def describe(cls):
    attrs, readable = instance_attrs(cls)
    types_, methods = {}, {}
    for name in dir(cls):
        member = inspect.getattr_static(cls, name, None)
        if isinstance(member, property) and member.fget is not None:
            attrs[name] = returns(member.fget)
        elif callable(member) and not name.startswith("__"):
            fn = getattr(member, "__func__", member)
            try:
                ps = inspect.signature(fn).parameters.values()
                methods[name] = {"params": [p.name for p in ps], "var_kw": any(
                    p.kind == p.VAR_KEYWORD for p in ps)}
            except (TypeError, ValueError):
                methods[name] = None
    for name, kind in attrs.items():
        if kind is not None:
            types_[name] = f"{kind.__module__}.{kind.__qualname__}"
    return {"names": sorted(set(dir(cls)) | set(attrs)), "types": types_, "methods": methods,
            "dynamic": hasattr(cls, "__getattr__") or not readable}, [
        k for k in attrs.values() if k is not None]
result = {"modules": {}, "errors": {}}
todo = []
for root in roots:
    module, _, name = root.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module), name)
        result["modules"][root] = f"{cls.__module__}.{cls.__qualname__}"
        todo.append(cls)
    except BaseException as exc:
        result["errors"][root] = f"{type(exc).__name__}: {exc}"
while todo and len(result["modules"]) < 400:
    cls = todo.pop()
    key = f"{cls.__module__}.{cls.__qualname__}"
    if key in result["modules"]:
        continue
    result["modules"][key], held = describe(cls)
    todo.extend(k for k in held if k.__module__.split(".")[0] != "builtins")
with open(out_path, "w") as f:
    json.dump(result, f)
"""

# Names from supabase-py and supabase-js v1 that agents carry over, in snake case;
# spelling distance alone would offer sign_out for sign_in and set_session for session.
_RENAMED = {
    "sign_in": "sign_in_with_password",
    "sign_in_with_email": "sign_in_with_password",
    "session": "get_session",
    "user": "get_user",
    "update": "update_user",
    "set_auth": "set_session",
    "refresh": "refresh_session",
    "reset_password_for_email": "reset_password_email",
}


@dataclasses.dataclass(frozen=True, slots=True)
class ClientIndex:
    """Classes by dotted name (names, attribute types, method signatures), and the roots."""

    roots: Mapping[str, str]
    classes: Mapping[str, Mapping[str, Any]]
    problems: tuple[str, ...] = ()


@lru_cache(maxsize=1)
def load_client_index() -> ClientIndex | None:
    """The installed supabase client's index, or None when supabase is not installed."""
    built = _introspected("supabase", "client", _ROOTS)
    if built is None:
        return None
    described: dict[str, Any] = built.get("modules", {})
    roots = {root: str(described[root]) for root in _ROOTS if root in described}
    classes = {key: value for key, value in described.items() if isinstance(value, dict)}
    return ClientIndex(roots, classes, tuple(built.get("problems", ())))


@lru_cache(maxsize=1)
def load_builder_names() -> frozenset[str] | None:
    """Every public method and property of the installed query builders (any stage):
    a chained name outside them exists on none. None when postgrest is not installed."""
    built = _introspected("postgrest", "builders", _BUILDERS)
    if built is None or built.get("transient") or built.get("problems") or built.get("errors"):
        return None  # a partial index would flag real methods
    classes = [value for value in built.get("modules", {}).values() if isinstance(value, dict)]
    names = {n for info in classes for n in info.get("names", ()) if not n.startswith("_")}
    return frozenset(names) or None


def _introspected(distribution: str, kind: str, roots: tuple[str, ...]) -> dict[str, Any] | None:
    """The child's description of ``roots``, cached per installed version of
    ``distribution`` (a failed or timed-out build is not cached); None when not installed."""
    try:
        installed = version(distribution)
    except PackageNotFoundError:
        return None
    name = f"supabase-{kind}-{_FORMAT}-{cache.cache_key(_CHILD, installed)}.json"
    built: dict[str, Any] | None = cache.read_json(name)
    if built is None:
        built = introspect(_CHILD, list(roots))
        if not built.get("transient") and not built.get("problems") and not built.get("errors"):
            cache.write_json(name, built)
    return built


def check_client_call(index: ClientIndex, call: ModuleCall, path: str | None) -> CheckReport:
    """Whether ``supabase.<chain>`` exists on the sync or the async client (either will do)."""
    report = CheckReport()
    outcomes = [_walk(index, start, call) for start in index.roots.values()]
    known = [found for found in outcomes if found is not None]
    if not known or len(known) < len(outcomes):
        report.calls_unresolved += 1
        return report
    report.calls_checked += 1
    if all(known):  # wrong on both clients: an async-only or sync-only name is not flagged
        report.findings.extend(dataclasses.replace(f, path=path) for f in known[0])
    return report


def _walk(index: ClientIndex, start: str, call: ModuleCall) -> list[Finding] | None:
    """The findings of one walk (empty: the call exists); None when a type is unknown."""
    info = index.classes.get(start)
    for position, attr in enumerate(call.chain):
        if info is None:
            return None
        if attr not in info["names"]:
            if info["dynamic"] or call.guarded or attr.startswith("_"):
                return None
            return [_unknown(call, position, attr, info)]
        if position == len(call.chain) - 1:
            return _kwargs(call, info["methods"].get(attr))
        kind = info["types"].get(attr)
        info = index.classes.get(kind) if kind is not None else None
    return []


def _unknown(call: ModuleCall, position: int, attr: str, info: Mapping[str, Any]) -> Finding:
    public = [name for name in info["names"] if not name.startswith("_")]
    owner = ".".join(("supabase", *call.chain[:position]))
    return Finding(
        None,
        call.line,
        call.column,
        _api(call),
        "unknown_method",
        "error",
        f"`{owner}` has no method or attribute `{attr}` in the installed supabase-py",
        suggest_renamed(attr, public),
    )


def suggest_renamed(attr: str, names: list[str]) -> str | None:
    """The v2 name for a v1 one, or the other language's spelling, else the closest name.

    Serves both clients: ``names`` are snake case (supabase-py) or camel case (supabase-js).
    """
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", attr).lower()
    renamed = _RENAMED.get(snake)
    for candidate in (renamed, snake, attr):
        if candidate is None:
            continue
        camel = re.sub(r"_([a-z])", lambda match: match.group(1).upper(), candidate)
        for spelling in (candidate, camel):
            if spelling != attr and spelling in names:
                return spelling
    return closest(attr, names)


def _kwargs(call: ModuleCall, signature: Mapping[str, Any] | None) -> list[Finding]:
    if signature is None or signature.get("var_kw") or call.guarded:
        return []
    accepted = [name for name in signature["params"] if name != "self"]
    return [
        Finding(
            None,
            node.line,
            node.column,
            _api(call),
            "unknown_param",
            "error",
            f"`{_api(call)}` has no parameter `{name}` (it takes {', '.join(accepted) or 'none'})",
            closest(name, accepted),
        )
        for name, node in call.kwargs.keys.items()
        if name not in accepted
    ]


def _api(call: ModuleCall) -> str:
    return ".".join(("supabase", *call.chain))
