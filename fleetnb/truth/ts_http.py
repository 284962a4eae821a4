"""Raw HTTP calls in TypeScript and JavaScript: ``fetch``, axios, ky and got.

Each becomes an ``HttpCall`` with the body and query keys the code writes, so the
checks that serve ``httpx`` and ``requests`` serve these too. A body the code
builds elsewhere makes the keys incomplete; a computed URL or verb is unresolved.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl, urlsplit

from fleetnb.truth.calls import Calls, HttpCall, Ref, Unresolved
from fleetnb.truth.routes import HOLE
from fleetnb.truth.shapes import KeyTree, tree_from_flat
from fleetnb.truth.ts_syntax import (
    Node,
    call_arguments,
    flat_keys,
    nested_keys,
    position,
    property_name,
    string_value,
    strip,
    text,
)

__all__ = ["HTTP_LIBRARIES", "http_call"]

HTTP_LIBRARIES = frozenset({"axios", "ky", "got"})
_VERBS = frozenset({"get", "post", "put", "patch", "delete", "head", "options"})
_BODY_VERBS = frozenset({"post", "put", "patch"})  # axios takes their body second
# Where each library takes a body or query in its options: how the keys are written.
_JSON_OPTIONS = frozenset({"json"})
_FLAT_OPTIONS = frozenset({"form", "searchParams", "params"})


def http_call(calls: Calls, node: Node, ref: Ref, strings: Mapping[str, str]) -> None:
    """Record ``node``, a call through ``ref`` (``fetch``, ``axios.post``, an instance)."""
    library = ref.root.split(":")[0]
    method = ref.chain[-1] if ref.chain else ""
    if len(ref.chain) > 1 or (method and method not in _VERBS and method != "request"):
        return  # axios.create(), ky.extend(), instance.interceptors.request.use()
    args = call_arguments(node)
    if library == "axios":
        request = _axios(args, method, strings)
    else:
        request = _with_options(args, method, strings)
    line, column = position(node)
    if request is None:
        calls.unresolved.append(Unresolved(line, column, "the URL or verb is computed"))
        return
    verb, url, keys = request
    if not urlsplit(url).hostname and ref.base_url:
        url = ref.base_url.rstrip("/") + "/" + url.lstrip("/")
    keys.merge(_form(urlsplit(url).query, line, column))
    calls.http_calls.append(HttpCall(verb, url, line, column, keys, library))


_Request = tuple[str, str, KeyTree]


def _axios(args: list[Node], method: str, strings: Mapping[str, str]) -> _Request | None:
    """``axios.post(url, data, config)``, ``axios(config)``, ``axios(url, config)``."""
    if method in _VERBS:
        has_body = method in _BODY_VERBS
        url_node = args[0] if args else None
        config = _arg(args, 2 if has_body else 1)
        data = _arg(args, 1) if has_body else _options(config).get("data")
        verb: str | None = method
    else:
        first = strip(args[0]) if args else None
        if first is not None and first.type == "object":
            config, url_node = first, _options(first).get("url")
        else:
            config, url_node = _arg(args, 1), first
        if config is not None and _opaque(config):
            return None  # the verb is in options built elsewhere
        verb = _verb(_options(config), strings)
        data = _options(config).get("data")
    url = string_value(url_node, strings) if url_node is not None else None
    if url is None or verb is None:
        return None
    keys = _body(data, strings) if data is not None else KeyTree()
    if config is not None and _opaque(config):
        keys.complete = False  # params may be in the options built elsewhere
    elif "params" in (options := _options(config)):
        keys.merge(_flat(options["params"], strings))
    return verb, url, keys


def _arg(args: list[Node], index: int) -> Node | None:
    return args[index] if len(args) > index else None


def _with_options(args: list[Node], method: str, strings: Mapping[str, str]) -> _Request | None:
    """``fetch(url, {method, body})``, ``ky.post(url, {json})``, ``got(url, {method, form})``."""
    url = string_value(args[0], strings) if args else None
    config = args[1] if len(args) > 1 else None
    if config is not None and _opaque(config):
        return None if url is None or method not in _VERBS else (method, url, _incomplete())
    options = _options(config)
    verb = method if method in _VERBS else _verb(options, strings)
    if url is None or verb is None:
        return None
    keys = KeyTree()
    for name, value in options.items():
        if name == "body":
            keys.merge(_body(value, strings))
        elif name in _JSON_OPTIONS:
            keys.merge(nested_keys(value, strings, 0) or _incomplete())
        elif name in _FLAT_OPTIONS:
            keys.merge(_flat(value, strings))
    return verb, url, keys


def _options(config: Node | None) -> dict[str, Node]:
    """An options object literal's values by key; empty when absent."""
    config = strip(config)
    found: dict[str, Node] = {}
    if config is None or config.type != "object":
        return found
    for pair in config.named_children:
        key, value = pair.child_by_field_name("key"), pair.child_by_field_name("value")
        name = property_name(key) if key is not None and pair.type == "pair" else None
        if name is not None and value is not None:
            found[name] = value
        elif pair.type == "shorthand_property_identifier":
            found[text(pair)] = pair  # `{ body }`: a variable, read as unknown
    return found


def _opaque(config: Node) -> bool:
    """Options built elsewhere or spread: the verb and body may be anything."""
    inner = strip(config)
    if inner is None or inner.type != "object":
        return True
    return any(child.type == "spread_element" for child in inner.named_children)


def _verb(options: dict[str, Node], strings: Mapping[str, str]) -> str | None:
    if "method" not in options:
        return "get"
    found = string_value(options["method"], strings)
    return found.lower() if found is not None and HOLE not in found else None


def _body(value: Node, strings: Mapping[str, str]) -> KeyTree:
    """``JSON.stringify({...})``, ``new URLSearchParams({...})``, an object or a form string."""
    value = _unwrap(value)
    if value.type in ("call_expression", "new_expression"):
        callee = value.child_by_field_name(
            "function" if value.type == "call_expression" else "constructor"
        )
        name = text(callee) if callee is not None else ""
        args = call_arguments(value)
        if name == "JSON.stringify" and args:
            return nested_keys(args[0], strings, 0) or _incomplete()
        if name == "URLSearchParams" and args:
            return _flat(args[0], strings)
        return _incomplete()
    if value.type in ("object", "array"):
        return nested_keys(value, strings, 0) or _incomplete()
    found = string_value(value, strings)
    if found is not None and HOLE not in found and "=" in found:
        return _form(found, *position(value))
    return _incomplete()


def _form(encoded: str, line: int, column: int) -> KeyTree:
    """The keys of ``a=1&line_items[0][price]=p``, placed where the code writes them."""
    return tree_from_flat({key: (line, column) for key, _ in parse_qsl(encoded, True)})


def _flat(value: Node, strings: Mapping[str, str]) -> KeyTree:
    value = _unwrap(value)
    if value.type == "new_expression":
        return _body(value, strings)  # new URLSearchParams({...})
    found = nested_keys(value, strings, 0)
    return flat_keys(found) if found is not None else _incomplete()


def _unwrap(value: Node) -> Node:
    inner = strip(value)
    return value if inner is None else inner


def _incomplete() -> KeyTree:
    return KeyTree(complete=False)
