"""Labels for the OpenAPI rows, read from the spec itself with plain YAML.

Independent of fleetnb's own OpenAPI loader: paths are matched segment by segment
(a ``{name}`` segment matches any one segment, a literal one wins over it), the
verb must be one the path item declares, and body and query keys are walked
through the request schema (``$ref``, ``anyOf``/``oneOf``/``allOf``, arrays,
``additionalProperties``) with ``required`` checked at each level the call spells
out. Run as a script to print every disagreement.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from tests.truth.eval.oracle_stripe import flat_to_nested
from tests.truth.eval.rows import EVAL_DIR, disagreements

__all__ = ["SPEC", "OpenApiOracle", "main"]

SPEC = EVAL_DIR.parent / "specs" / "billing.yaml"
_VERBS = ("get", "put", "post", "delete", "patch", "head", "options")
_MAX_DEPTH = 12


class OpenApiOracle:
    def __init__(self, spec: Path = SPEC) -> None:
        self.doc: dict[str, Any] = yaml.safe_load(spec.read_text(encoding="utf-8"))
        self.base = urlsplit(self.doc["servers"][0]["url"]).path.rstrip("/")

    def _deref(self, node: Any) -> Any:
        seen = 0
        while isinstance(node, dict) and "$ref" in node and seen < _MAX_DEPTH:
            target: Any = self.doc
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            node, seen = target, seen + 1
        return node

    def _path_item(self, path: str) -> dict[str, Any] | None:
        segments = path.strip("/").split("/")
        best: tuple[int, dict[str, Any]] | None = None
        for template, item in self.doc["paths"].items():
            parts = template.strip("/").split("/")
            if len(parts) != len(segments):
                continue
            if all(p.startswith("{") or p == s for p, s in zip(parts, segments, strict=True)):
                literal = sum(not p.startswith("{") for p in parts)
                if best is None or literal > best[0]:
                    best = (literal, item)
        return best[1] if best else None

    def label(self, call: Mapping[str, Any]) -> list[str]:
        path = urlsplit(call["url"]).path
        if not path.startswith(self.base + "/"):
            return ["unknown_endpoint"]
        item = self._path_item(path[len(self.base) :])
        if item is None:
            return ["unknown_endpoint"]
        verb = call["verb"].lower()
        operation = item.get("get" if verb == "head" else verb)
        if operation is None:
            return ["wrong_verb"]
        kinds = set(self._query(item, operation, call.get("query") or {}))
        body = call.get("json") if "json" in call else flat_to_nested(call.get("form") or {})
        schema = self._body_schema(operation)
        if schema is not None and (
            body or self._deref(operation.get("requestBody", {})).get("required")
        ):
            kinds.update(self._walk(schema, body or {}, 0))
        return sorted(kinds)

    def _query(
        self, item: Mapping[str, Any], operation: Mapping[str, Any], query: Mapping[str, Any]
    ) -> Iterable[str]:
        declared = [
            self._deref(p) for p in [*item.get("parameters", []), *operation.get("parameters", [])]
        ]
        names = {p["name"] for p in declared if p.get("in") == "query"}
        for key in flat_to_nested(query):
            if key not in names:
                yield "unknown_param"
        for param in declared:
            if param.get("in") == "query" and param.get("required") and param["name"] not in query:
                yield "missing_required_param"

    def _body_schema(self, operation: Mapping[str, Any]) -> Any:
        body = self._deref(operation.get("requestBody"))
        if not isinstance(body, dict):
            return None
        for media in body.get("content", {}).values():
            return self._deref(media.get("schema"))
        return None

    def _variants(self, schema: Any) -> list[dict[str, Any]]:
        schema = self._deref(schema)
        if not isinstance(schema, dict):
            return []
        for key in ("anyOf", "oneOf", "allOf"):
            if key in schema:
                return [v for sub in schema[key] for v in self._variants(sub)]
        return [schema]

    def _walk(self, schema: Any, value: Any, depth: int) -> Iterable[str]:
        if depth > _MAX_DEPTH:
            return
        variants = self._variants(schema)
        items = [v["items"] for v in variants if v.get("type") == "array" and "items" in v]
        if items and isinstance(value, list | dict):
            # Form keys ``line_items[0][price]`` decode to a dict standing for the list's items.
            for element in value if isinstance(value, list) else [value]:
                yield from self._walk(items[0], element, depth + 1)
            return
        objects = [v for v in variants if v.get("type") == "object" or "properties" in v]
        if not isinstance(value, dict) or not objects:
            return
        if any(v.get("additionalProperties") not in (None, False) for v in objects):
            return  # free-form, like metadata
        properties = {k: p for v in objects for k, p in v.get("properties", {}).items()}
        for key, inner in value.items():
            if key not in properties:
                yield "unknown_param"
            else:
                yield from self._walk(properties[key], inner, depth + 1)
        required = {k for v in objects for k in v.get("required", [])}
        if any(key not in value for key in required):
            yield "missing_required_param"


def main() -> int:
    oracle = OpenApiOracle()
    return disagreements("openapi_*.yaml", lambda row: oracle.label(row.oracle["http"]))


if __name__ == "__main__":
    sys.exit(main())
