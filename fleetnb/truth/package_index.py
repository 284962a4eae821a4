"""Any installed package's public surface by introspection, imported in a subprocess.

Importing a package runs its code: it may print, fail, hang or change global
state. So the index is built in a child interpreter with a timeout, and whatever
goes wrong is returned as a problem, never raised into the check. Only the
standard library and installed distributions are imported, never the checked
project's own modules. Indexes are cached per module, version and Python.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from functools import lru_cache
from importlib.metadata import packages_distributions, version
from typing import Any

from fleetnb.truth import cache

__all__ = ["ModuleInfo", "PackageIndex", "index_package", "indexable", "introspect"]

_FORMAT = 1
IMPORT_TIMEOUT = 30.0

# Runs in the child: import each module, describe every module object reachable.
_CHILD = r"""
import importlib, inspect, json, pkgutil, sys, types
out_path, names = sys.argv[1], sys.argv[2:]
def sig(obj):
    try:
        s = inspect.signature(obj)
        # A decorator's own wrapper may take more than the function it wraps
        # (a renamed, deprecated keyword): its **kwargs counts too.
        outer = inspect.signature(obj, follow_wrapped=False)
    except (TypeError, ValueError):
        return None
    ps = s.parameters.values()
    kinds = {p.kind for p in (*ps, *outer.parameters.values())}
    return {"params": [p.name for p in ps if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)],
            "var_kw": inspect.Parameter.VAR_KEYWORD in kinds}
def describe(mod):
    names = set(dir(mod))
    subs = set()
    if hasattr(mod, "__path__"):
        subs = {m.name for m in pkgutil.iter_modules(mod.__path__)}
    info = {"names": sorted(names | subs), "dynamic": "__getattr__" in vars(mod),
            "callables": {}, "classes": {}, "modules": {}}
    for name in names:
        if name.startswith("__"):
            continue
        try:
            value = getattr(mod, name)
        except Exception:
            continue
        if isinstance(value, types.ModuleType):
            info["modules"][name] = value.__name__
        elif inspect.isclass(value):
            methods = {}
            for attr in dir(value):
                if not attr.startswith("_"):
                    member = inspect.getattr_static(value, attr, None)
                    fn = getattr(member, "__func__", member)
                    methods[attr] = sig(fn) if callable(fn) else None
            # A metaclass's methods (ABCMeta.register) are callable on the class too.
            names = sorted(set(dir(value)) | set(dir(type(value))))
            info["classes"][name] = {"names": names, "init": sig(value), "methods": methods,
                                     "dynamic": hasattr(value, "__getattr__")}
        elif callable(value):
            info["callables"][name] = sig(value)
    return info
result = {"modules": {}, "errors": {}}
for name in names:
    try:
        importlib.import_module(name)
    except BaseException as exc:
        result["errors"][name] = f"{type(exc).__name__}: {exc}"
# Requested modules, the modules they expose (os.path is posixpath), and the package's own.
top = names[0].split(".")[0]
todo = [(n, 0) for n in names if n in sys.modules]
seen = set()
while todo:
    name, depth = todo.pop()
    if name in seen or name not in sys.modules or len(seen) > 200:
        continue
    seen.add(name)
    info = describe(sys.modules[name])
    result["modules"][name] = info
    todo.extend((m, depth + 1) for m in info["modules"].values()
                if depth == 0 or (m.split(".")[0] == top and m.count(".") < 3))
with open(out_path, "w") as f:
    json.dump(result, f)
"""


@dataclasses.dataclass(frozen=True, slots=True)
class ModuleInfo:
    names: frozenset[str]
    dynamic: bool
    callables: Mapping[str, Mapping[str, Any] | None]
    classes: Mapping[str, Mapping[str, Any]]
    modules: Mapping[str, str]


@dataclasses.dataclass(frozen=True, slots=True)
class PackageIndex:
    """The modules of one top-level package as imported, and what went wrong doing it."""

    top: str
    modules: Mapping[str, ModuleInfo]
    problems: tuple[str, ...] = ()


def indexable(top: str) -> bool:
    """Only the standard library and installed distributions: never the project's own code."""
    return top in sys.stdlib_module_names or top in _distributions()


@lru_cache(maxsize=1)
def _distributions() -> Mapping[str, list[str]]:
    return packages_distributions()


def _version(top: str) -> str:
    if top in sys.stdlib_module_names:
        return "stdlib"
    try:
        return ",".join(version(d) for d in _distributions().get(top, []))
    except Exception:  # a broken distribution's metadata: rebuild every time, do not fail
        return "unknown"


def index_package(
    top: str,
    submodules: Iterable[str] = (),
    *,
    extra_path: Iterable[str] = (),
    timeout: float = IMPORT_TIMEOUT,
) -> PackageIndex:
    """Index ``top`` (and ``submodules`` the code imports) in a child interpreter."""
    names = sorted({top, *submodules})
    extra = list(extra_path)
    key = cache.cache_key("pkg", _CHILD, *names, _version(top), sys.version, *extra)
    cached = cache.read_json(f"pkg-{_FORMAT}-{top}-{key}.json")
    if cached is None:
        cached = _run_child(names, extra, timeout)
        if not cached.get("transient"):
            cache.write_json(f"pkg-{_FORMAT}-{top}-{key}.json", cached)
    modules = {
        name: ModuleInfo(
            frozenset(info["names"]),
            info["dynamic"],
            info["callables"],
            info["classes"],
            info["modules"],
        )
        for name, info in cached["modules"].items()
    }
    return PackageIndex(top, modules, tuple(cached["problems"]))


def introspect(script: str, names: list[str], *, timeout: float = IMPORT_TIMEOUT) -> dict[str, Any]:
    """Run ``script`` on ``names`` in a child interpreter, as the package index is built.

    The script writes ``{"modules": {...}, "errors": {...}}`` to the path in ``argv[1]``;
    what it returns under ``modules`` is its own to define.
    """
    return _run_child(names, [], timeout, script)


def _run_child(
    names: list[str], extra_path: list[str], timeout: float, script: str = _CHILD
) -> dict[str, Any]:
    env = dict(os.environ)
    if extra_path:
        env["PYTHONPATH"] = os.pathsep.join([*extra_path, env.get("PYTHONPATH", "")])
    with tempfile.TemporaryDirectory() as scratch:
        out = os.path.join(scratch, "index.json")
        try:
            # A scratch cwd, so the checked project's files are not importable by accident.
            done = subprocess.run(
                [sys.executable, "-c", script, out, *names],
                cwd=scratch,
                env=env,
                capture_output=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return {
                "modules": {},
                "transient": True,
                "problems": [
                    f"importing {names[0]} took over {timeout:.0f} s; its calls were not checked"
                ],
            }
        return _result(names, out, done)


def _result(names: list[str], out: str, done: subprocess.CompletedProcess[bytes]) -> dict[str, Any]:
    problems: list[str] = []
    try:
        with open(out, encoding="utf-8") as handle:
            result: dict[str, Any] = json.load(handle)
    except (OSError, ValueError):
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        return {
            "modules": {},
            "problems": [
                f"importing {names[0]} ended the interpreter (exit {done.returncode}: {tail[0]}); "
                "its calls were not checked"
            ],
        }
    for name, error in result.get("errors", {}).items():
        problems.append(f"importing {name} failed ({error}); its calls were not checked")
    printed = (done.stdout + done.stderr).decode(errors="replace").strip()
    if printed:
        problems.append(
            f"importing {names[0]} printed output (a side effect on import): "
            f"{printed.splitlines()[0][:120]!r}"
        )
    return {"modules": result.get("modules", {}), "problems": problems}
