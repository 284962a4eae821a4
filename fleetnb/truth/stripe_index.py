"""The Stripe SDK's real surface, read from the installed ``stripe`` package.

``StripeClient`` services are walked through each service module's
``_subservices`` map (the map its ``__getattr__`` uses, so an attribute it would
refuse at run time is refused here too). Each method's verb and path are read
statically from its ``self._request("post", "/v1/...")`` call, parameter keys from
the ``stripe.params`` TypedDicts (nested ones and required keys included). The
legacy resource style (``stripe.Customer.create(**params)``) is read from the
resource classes. The result is cached as JSON per installed stripe version.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import json
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

from fleetnb.errors import FleetError
from fleetnb.truth import cache
from fleetnb.truth.routes import HttpSurface, Operation
from fleetnb.truth.shapes import LazyShapes, Shape

__all__ = [
    "IndexBuildError",
    "StripeIndex",
    "StripeMethod",
    "StripeService",
    "load_stripe_index",
    "stripe_version",
]

_FORMAT = 4
_IDENT = re.compile(r"[A-Za-z_]\w*")
_BASES = {
    "api": "https://api.stripe.com",
    "files": "https://files.stripe.com",
    "connect": "https://connect.stripe.com",
    "meter_events": "https://meter-events.stripe.com",
}


@dataclasses.dataclass(frozen=True, slots=True)
class StripeMethod:
    """One SDK method: its HTTP verb and path (if it makes one request) and params shape."""

    verb: str | None
    path: str | None
    params: str | None
    base: str = "api"
    ids: int = 0  # positional-only ID arguments before params (``retrieve(customer, params)``)
    keywords: tuple[str, ...] = ()  # named arguments besides params (legacy ``retrieve(id=...)``)


@dataclasses.dataclass(frozen=True, slots=True)
class StripeService:
    """A service (``client.v1.customers``) or legacy class (``stripe.Customer``)."""

    methods: Mapping[str, StripeMethod]
    children: Mapping[str, str]  # attribute -> dotted key of the child service
    others: frozenset[str] = frozenset()  # other real attributes (properties, helpers)

    def names(self) -> set[str]:
        return set(self.methods) | set(self.children) | set(self.others)


@dataclasses.dataclass(slots=True)
class StripeIndex:
    """Services by dotted key (``client``, ``client.v1.customers``, ``stripe.Customer``)."""

    version: str
    services: dict[str, StripeService]
    shapes: Mapping[str, Shape]
    build_seconds: float
    from_cache: bool = False

    def http_surface(self) -> HttpSurface:
        """Every request path the SDK makes, as a surface for raw HTTP calls to Stripe."""
        seen: dict[tuple[str, str], Operation] = {}
        for key, service in self.services.items():
            if not key.startswith("client"):
                continue
            for method in service.methods.values():
                if method.verb and method.path:
                    path = (
                        method.path if method.base == "api" else _BASES[method.base] + method.path
                    )
                    seen.setdefault(
                        (method.verb, path), Operation(method.verb, path, method.params)
                    )
        api = [op for op in seen.values() if op.template.startswith("/")]
        return HttpSurface(f"stripe {self.version}", (_BASES["api"],), api, self.shapes)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": _FORMAT,
            "version": self.version,
            "build_seconds": self.build_seconds,
            "shapes": {name: shape.to_json() for name, shape in self.shapes.items()},
            "services": {
                key: {
                    "methods": {n: dataclasses.asdict(m) for n, m in service.methods.items()},
                    "children": dict(service.children),
                    "others": sorted(service.others),
                }
                for key, service in self.services.items()
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StripeIndex:
        services = {
            key: StripeService(
                {
                    n: StripeMethod(**{**m, "keywords": tuple(m.get("keywords", ()))})
                    for n, m in value["methods"].items()
                },
                value["children"],
                frozenset(value["others"]),
            )
            for key, value in data["services"].items()
        }
        shapes = LazyShapes(data["shapes"])
        return cls(data["version"], services, shapes, data["build_seconds"], from_cache=True)


def stripe_version() -> str | None:
    """The installed stripe version, read without importing the package."""
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    try:
        return version("stripe")
    except PackageNotFoundError:
        return None


BUILD_TIMEOUT = 180.0


class IndexBuildError(FleetError):
    """An SDK's index could not be built (its import failed, hung or crashed)."""


@lru_cache(maxsize=1)
def load_stripe_index() -> StripeIndex | None:
    """The index of the installed stripe package (cached on disk), or None without stripe.

    A cold build runs in a child interpreter: importing every stripe module costs
    memory a notebook kernel should not keep, and a broken install must not take
    the caller down. Raises IndexBuildError when the build fails.
    """
    installed = stripe_version()
    if installed is None:
        return None
    name = f"stripe-{_FORMAT}-{installed}.json"
    cached = cache.read_json(name)
    if cached is not None and cached.get("format") == _FORMAT:
        return StripeIndex.from_json(cached)
    built = _build_in_child()
    cache.write_json(name, built)
    return dataclasses.replace(StripeIndex.from_json(built), from_cache=False)


def _build_in_child() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "stripe-index.json"
        command = [sys.executable, "-m", "fleetnb.truth.stripe_index", str(out)]
        try:
            done = subprocess.run(command, capture_output=True, timeout=BUILD_TIMEOUT, check=False)
        except subprocess.TimeoutExpired as exc:
            raise IndexBuildError(
                f"building the stripe index took over {BUILD_TIMEOUT:.0f} s; "
                "Stripe calls were not checked"
            ) from exc
        try:
            data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise IndexBuildError(
                f"building the stripe index failed (exit {done.returncode}: "
                f"{tail[0]}); reinstall stripe (pip install 'fleetnb[truth]')"
            ) from exc
        return data


def _build(installed: str) -> StripeIndex:
    started = time.perf_counter()
    import stripe  # noqa: PLC0415

    builder = _Builder()
    client = stripe.StripeClient("sk_test_fleetnb_index")
    builder.client_root(client)
    builder.legacy_namespace(stripe, "stripe")
    return StripeIndex(installed, builder.services, builder.shapes, time.perf_counter() - started)


class _Builder:
    def __init__(self) -> None:
        self.services: dict[str, StripeService] = {}
        self.shapes: dict[str, Shape] = {}
        self._modules: dict[str, _ModuleSource] = {}

    # -- StripeClient -----------------------------------------------------------

    def client_root(self, client: Any) -> None:
        import stripe  # noqa: PLC0415

        children: dict[str, str] = {}
        for attr, value in vars(client).items():
            if isinstance(
                value, stripe.StripeService if hasattr(stripe, "StripeService") else object
            ) and not attr.startswith("_"):
                children[attr] = self.service(type(value), f"client.{attr}")
        v1 = self.services.get("client.v1")
        others: set[str] = set()
        for attr, value in inspect.getmembers_static(type(client)):
            if attr.startswith("_") or attr in children:
                continue
            # Deprecated top-level aliases (client.customers) forward to client.v1.*.
            if isinstance(value, property) and v1 is not None and attr in v1.children:
                children[attr] = v1.children[attr]
            else:
                others.add(attr)
        self.services["client"] = StripeService({}, children, frozenset(others))

    def service(self, cls: type, key: str) -> str:
        source = self._source(cls.__module__)
        subservices = getattr(sys.modules[cls.__module__], "_subservices", {})
        children = {}
        for attr, (module_name, class_name) in subservices.items():
            child_cls = getattr(importlib.import_module(module_name), class_name)
            children[attr] = self.service(child_cls, f"{key}.{attr}")
        methods = {}
        for name, func in source.methods(cls.__name__):
            methods[name] = self._method(source, func)
        self.services[key] = StripeService(methods, children)
        return key

    def _method(
        self, source: _ModuleSource, func: ast.FunctionDef | ast.AsyncFunctionDef
    ) -> StripeMethod:
        verb = path = None
        base = "api"
        for node in ast.walk(func):
            if isinstance(node, ast.Call) and _is_self_request(node) and len(node.args) >= 2:
                verb, path = _constant(node.args[0]), _path_literal(node.args[1])
                for keyword in node.keywords:
                    if keyword.arg == "base_address" and isinstance(keyword.value, ast.Constant):
                        base = str(keyword.value.value)
                break
        params = None
        for arg in [*func.args.args, *func.args.kwonlyargs]:
            if arg.arg == "params" and arg.annotation is not None:
                params = self._params_shape(source, ast.unparse(arg.annotation))
        ids = len(func.args.posonlyargs) - 1  # without self
        return StripeMethod(verb, path, params, base, max(ids, 0))

    # -- legacy resources -------------------------------------------------------

    def legacy_namespace(self, module: ModuleType, key: str) -> None:
        names = set(getattr(module, "_import_map", {})) | {
            n for n in vars(module) if not n.startswith("_")
        }
        children: dict[str, str] = {}
        for name in sorted(names):
            try:
                value = getattr(module, name)
            except (AttributeError, ImportError):
                continue
            child = f"{key}.{name}"
            if (
                inspect.ismodule(value)
                and value.__name__.startswith("stripe.")
                and name.isidentifier()
                and child.count(".") < 3
                and not name.startswith("_")
                and name not in {"params", "v2"}
            ):
                self.legacy_namespace(value, child)
                children[name] = child
            elif inspect.isclass(value) and value.__module__.startswith("stripe"):
                self.legacy_class(value, child)
                children[name] = child
        self.services[key] = StripeService({}, children, frozenset(names - set(children)))

    def legacy_class(self, cls: type, key: str) -> None:
        source = self._source(cls.__module__)
        methods: dict[str, StripeMethod] = {}
        others: set[str] = set()
        for name, value in inspect.getmembers_static(cls):
            if name.startswith("_"):
                continue
            func = getattr(value, "__func__", value)
            annotation = getattr(func, "__annotations__", {}).get("params")
            if callable(func) and annotation is not None:
                shape = self._params_shape(source, str(annotation))
                methods[name] = StripeMethod(None, None, shape, keywords=_named_args(func))
            elif callable(func) or isinstance(value, (classmethod, staticmethod)):
                methods[name] = StripeMethod(None, None, None)
            else:
                others.add(name)
        # Resource objects are dicts of their fields too: attribute access stays unchecked.
        self.services[key] = StripeService(methods, {}, frozenset(others))

    # -- params TypedDicts ------------------------------------------------------

    def _params_shape(self, source: _ModuleSource, annotation: str) -> str | None:
        for ident in _IDENT.findall(annotation):
            module_name = source.imports.get(ident)
            if module_name and ident.endswith("Params"):
                td = getattr(importlib.import_module(module_name), ident, None)
                if td is not None and _is_typed_dict(td):
                    return self.typed_dict(td)
        return None

    def typed_dict(self, td: type) -> str:
        name = f"{td.__module__}.{td.__qualname__}"
        if name in self.shapes:
            return name
        self.shapes[name] = Shape({})  # placeholder: self-referencing params terminate
        namespace = vars(sys.modules[td.__module__])
        fields: dict[str, tuple[str, ...]] = {}
        for key, annotation in _annotations(td):
            nested = [
                namespace[ident]
                for ident in dict.fromkeys(_IDENT.findall(str(annotation)))
                if ident in namespace and _is_typed_dict(namespace[ident])
            ]
            fields[key] = tuple(self.typed_dict(t) for t in nested)
        required = frozenset(getattr(td, "__required_keys__", frozenset()))
        self.shapes[name] = Shape(fields, required)
        return name

    def _source(self, module_name: str) -> _ModuleSource:
        if module_name not in self._modules:
            self._modules[module_name] = _ModuleSource(sys.modules[module_name])
        return self._modules[module_name]


def _named_args(func: Any) -> tuple[str, ...]:
    try:
        parameters = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return ()
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return tuple(p.name for p in parameters if p.kind in named and p.name not in ("self", "cls"))


def _is_typed_dict(value: object) -> bool:
    # typing.is_typeddict misses typing_extensions' TypedDicts, which stripe uses.
    return (
        isinstance(value, type) and issubclass(value, dict) and hasattr(value, "__required_keys__")
    )


def _annotations(td: type) -> Iterator[tuple[str, Any]]:
    # TypedDict merges its bases' keys into __annotations__ (RequestOptions included).
    yield from td.__annotations__.items()


class _ModuleSource:
    """A module's syntax tree: its classes' methods and the names its imports bind."""

    def __init__(self, module: ModuleType) -> None:
        path = Path(module.__file__ or "")
        self.tree = (
            ast.parse(path.read_text(encoding="utf-8")) if path.is_file() else ast.Module([], [])
        )
        self.imports: dict[str, str] = {}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    self.imports[alias.asname or alias.name] = node.module

    def methods(
        self, class_name: str
    ) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
        for node in self.tree.body:
            if isinstance(node, ast.ClassDef) and node.name == class_name:
                for item in node.body:
                    if isinstance(
                        item, (ast.FunctionDef, ast.AsyncFunctionDef)
                    ) and not item.name.startswith("_"):
                        yield item.name, item


def _is_self_request(call: ast.Call) -> bool:
    func = call.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr.startswith("_request")
        and isinstance(func.value, ast.Name)
        and func.value.id == "self"
    )


def _constant(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _path_literal(node: ast.expr) -> str | None:
    """``"/v1/customers/{customer}".format(...)`` or a plain literal."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
    ):
        return _constant(node.func.value)
    return _constant(node)


if __name__ == "__main__":
    # The child side of load_stripe_index: build, then write the JSON where asked.
    Path(sys.argv[1]).write_text(json.dumps(_build(stripe_version() or "").to_json()))
