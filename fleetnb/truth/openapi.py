"""An OpenAPI 3 document as an ``HttpSurface``: paths, verbs, query and body parameters.

Specs come from a file (JSON or YAML) or a URL fetched with httpx and cached on
disk by URL and ETag, so a check offline still works from the last copy. Built
surfaces are cached by the document's content hash.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fleetnb.errors import FleetError
from fleetnb.truth import cache
from fleetnb.truth.routes import HttpSurface, Operation
from fleetnb.truth.shapes import Shape

__all__ = ["MAX_SPEC_BYTES", "SpecError", "load_openapi", "surface_from_document"]

MAX_SPEC_BYTES = 64 * 1024 * 1024  # Stripe's own spec is ~7 MB; beyond this it is not a spec
_VERBS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
_SURFACE_FORMAT = 1


class SpecError(FleetError):
    """An OpenAPI document cannot be read, fetched or understood."""


def load_openapi(
    source: str | os.PathLike[str], *, timeout: float = 20.0, max_bytes: int = MAX_SPEC_BYTES
) -> HttpSurface:
    """The surface of the OpenAPI 3 document at ``source`` (a path or an http(s) URL)."""
    text = str(source)
    if text.startswith(("http://", "https://")):
        raw = _fetch(text, timeout, max_bytes)
    else:
        raw = _read_file(Path(text), max_bytes)
    digest = hashlib.sha256(raw).hexdigest()
    name = f"openapi-{_SURFACE_FORMAT}-{digest[:32]}.json"
    cached = cache.read_json(name)
    if cached is not None:
        return _surface_from_json(cached)
    document = _parse(raw, text)
    try:
        surface = surface_from_document(document, name=text)
    except (AttributeError, TypeError, KeyError, ValueError, RecursionError) as exc:
        # A document that is YAML but not the shape OpenAPI prescribes somewhere deep.
        raise SpecError(
            f"{text} is a malformed OpenAPI document ({exc.__class__.__name__}: "
            f"{exc}); validate it with an OpenAPI validator"
        ) from exc
    cache.write_json(name, _surface_to_json(surface))
    return surface


def _read_file(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise SpecError(
                f"{path} is {size} bytes, over the {max_bytes}-byte limit "
                "for a spec; pass a smaller OpenAPI document"
            )
        return path.read_bytes()
    except OSError as exc:
        raise SpecError(f"cannot read the spec {path}: {exc.strerror}; check the path") from exc


def _fetch(url: str, timeout: float, max_bytes: int) -> bytes:
    """The document at ``url``, revalidated by ETag; the cached copy when offline."""
    import httpx  # noqa: PLC0415 - only URL specs need it; `fleetnb check` starts faster

    key = cache.cache_key("spec-url", url)
    meta = cache.read_json(f"url-{key}.json") or {}
    body_path = cache.cache_dir() / f"url-{key}.body"
    headers = {"If-None-Match": meta["etag"]} if meta.get("etag") and body_path.exists() else {}
    try:
        response = httpx.get(url, headers=headers, timeout=timeout, follow_redirects=True)
    except httpx.HTTPError as exc:
        if body_path.exists():
            return body_path.read_bytes()
        raise SpecError(
            f"cannot fetch the spec {url} ({exc.__class__.__name__}: {exc}) and "
            "no cached copy exists; check the URL or pass a local file"
        ) from exc
    if response.status_code == 304 and body_path.exists():
        return body_path.read_bytes()
    if response.status_code != 200:
        raise SpecError(
            f"fetching the spec {url} returned HTTP {response.status_code}; "
            "check the URL or pass a local file"
        )
    if len(response.content) > max_bytes:
        raise SpecError(f"the spec at {url} is over the {max_bytes}-byte limit; pass a smaller one")
    try:
        cache.cache_dir().mkdir(parents=True, exist_ok=True)
        body_path.write_bytes(response.content)
        cache.write_json(f"url-{key}.json", {"etag": response.headers.get("etag")})
    except OSError:
        pass  # an unwritable cache only costs a refetch
    return response.content


def _parse(raw: bytes, source: str) -> Mapping[str, Any]:
    import yaml  # noqa: PLC0415 - specs cached as built surfaces never need parsing again

    try:
        text = raw.decode("utf-8")
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        document = json.loads(text) if text.lstrip().startswith("{") else yaml.load(text, loader)
    except (UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
        raise SpecError(
            f"{source} is neither JSON nor YAML ({exc.__class__.__name__}); "
            "pass an OpenAPI 3 document"
        ) from exc
    if not isinstance(document, dict) or not str(document.get("openapi", "")).startswith("3"):
        raise SpecError(
            f"{source} is not an OpenAPI 3 document (no `openapi: 3.x` field); "
            "Swagger 2 documents must be converted first"
        )
    if not isinstance(document.get("paths"), dict):
        raise SpecError(f"{source} has no `paths` object; it describes no endpoints")
    return document


def surface_from_document(document: Mapping[str, Any], *, name: str = "openapi") -> HttpSurface:
    """Operations and parameter shapes of an already parsed OpenAPI 3 document."""
    builder = _Builder(document)
    operations: list[Operation] = []
    for template, raw_item in document["paths"].items():
        item = builder.resolve(raw_item)
        if not isinstance(item, dict):
            continue
        for verb in _VERBS:
            op = builder.resolve(item.get(verb))
            if isinstance(op, dict):
                operations.append(builder.operation(verb, str(template), item, op))
    servers = tuple(
        str(s.get("url", "")) for s in document.get("servers") or [] if isinstance(s, dict)
    )
    return HttpSurface(name, servers or ("/",), operations, builder.shapes)


class _Builder:
    """Turns schemas into named shapes; $refs name their shape so cycles terminate."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.shapes: dict[str, Shape] = {}

    def resolve(self, node: Any, depth: int = 0) -> Any:
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and depth < 50:
            node = self._pointer(node["$ref"])
            depth += 1
        return node

    def _pointer(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            return None  # external references are not followed: the key stays unchecked
        node: Any = self.document
        for escaped in ref[2:].split("/"):
            part = escaped.replace("~1", "/").replace("~0", "~")
            node = node.get(part) if isinstance(node, dict) else None
        return node

    def operation(
        self, verb: str, template: str, item: Mapping[str, Any], op: Mapping[str, Any]
    ) -> Operation:
        fields: dict[str, tuple[str, ...]] = {}
        required: set[str] = set()
        open_ = False
        for raw in [*(item.get("parameters") or []), *(op.get("parameters") or [])]:
            param = self.resolve(raw)
            if isinstance(param, dict) and param.get("in") == "query" and "name" in param:
                fields[str(param["name"])] = self.shape_names(
                    param.get("schema"), f"{verb} {template} ?{param['name']}"
                )
                if param.get("required"):
                    required.add(str(param["name"]))
        body = self.resolve(op.get("requestBody"))
        if isinstance(body, dict):
            for media in (body.get("content") or {}).values():
                schema = self.resolve((media or {}).get("schema"))
                names = self.shape_names(schema, f"{verb} {template} body")
                for shape in (self.shapes[n] for n in names):
                    open_ = open_ or shape.open
                    fields.update(shape.fields)
                    if body.get("required"):
                        required |= shape.required
                if isinstance(schema, dict) and not names and schema:
                    open_ = True  # a body that is not an object (a file, a list): keys unknown
        name = f"{verb.upper()} {template}"
        self.shapes[name] = Shape(fields, frozenset(required), open_)
        return Operation(verb, template, name, bool(op.get("deprecated")))

    def shape_names(self, schema: Any, hint: str) -> tuple[str, ...]:
        """The shapes an object-valued schema may take; () for scalars and unknowns."""
        if isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
            return self._ref_names(schema, schema["$ref"])
        if not isinstance(schema, dict):
            return ()
        for union in ("anyOf", "oneOf"):
            if isinstance(schema.get(union), list):
                found: list[str] = []
                for index, option in enumerate(schema[union]):
                    found.extend(self.shape_names(option, f"{hint}|{index}"))
                return tuple(dict.fromkeys(found))
        if schema.get("type") == "array" or "items" in schema:
            return self.shape_names(schema.get("items"), f"{hint}[]")
        return self._object(schema, hint)

    def _ref_names(self, schema: Mapping[str, Any], ref: str) -> tuple[str, ...]:
        """A referenced schema's shape is named by its $ref, so recursion terminates."""
        if ref in self.shapes:
            return (ref,)
        self.shapes[ref] = Shape({}, open=True)  # placeholder while its own fields are read
        target = self.resolve(schema)
        names = self.shape_names(target, ref) if isinstance(target, dict) else ()
        if not names:
            del self.shapes[ref]  # a scalar schema: nothing to check under it
        elif len(names) == 1 and names[0] != ref:
            self.shapes[ref] = self.shapes[names[0]]
            return (ref,)
        return names

    def _object(self, schema: Mapping[str, Any], hint: str) -> tuple[str, ...]:
        props: dict[str, Any] = {}
        required: set[str] = set()
        parts = [self.resolve(p) for p in schema.get("allOf") or []] + [schema]
        for part in parts:
            if isinstance(part, dict):
                props.update(part.get("properties") or {})
                required.update(str(r) for r in part.get("required") or [])
        extra = schema.get("additionalProperties")
        if not props and schema.get("type") != "object" and not extra:
            return ()
        fields = {str(k): self.shape_names(v, f"{hint}.{k}") for k, v in props.items()}
        self.shapes[hint] = Shape(fields, frozenset(required), open=not props or bool(extra))
        return (hint,)


def _surface_to_json(surface: HttpSurface) -> dict[str, Any]:
    return {
        "name": surface.name,
        "servers": list(surface.servers),
        "operations": [op.to_json() for op in surface.operations],
        "shapes": {name: shape.to_json() for name, shape in surface.shapes.items()},
    }


def _surface_from_json(data: Mapping[str, Any]) -> HttpSurface:
    return HttpSurface(
        data["name"],
        tuple(data["servers"]),
        [Operation.from_json(op) for op in data["operations"]],
        {name: Shape.from_json(shape) for name, shape in data["shapes"].items()},
    )
