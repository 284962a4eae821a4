"""OpenAPI documents from files and URLs: parsing, caching, and what goes wrong."""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from fleetnb.truth import SpecError, check_source, load_openapi


def test_yaml_spec_paths_verbs_and_nested_params(billing_spec: Path) -> None:
    surface = load_openapi(billing_spec)
    templates = {(op.verb, op.template) for op in surface.operations}
    assert ("post", "/checkout/sessions") in templates
    assert ("delete", "/customers/{customer}") in templates
    create = surface.match("/customers").for_verb("post")
    assert create is not None
    assert create.params is not None
    shape = surface.shapes[create.params]
    assert {"email", "name", "address", "metadata"} <= set(shape.fields)
    assert shape.required == {"email"}


def test_json_spec_and_cyclic_refs(tmp_path: Path) -> None:
    document = {
        "openapi": "3.1.0",
        "servers": [{"url": "https://tree.test"}],
        "paths": {"/nodes": {"post": {"requestBody": {"content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Node"}}}}}}},
        "components": {"schemas": {"Node": {"type": "object", "properties": {
            "label": {"type": "string"},
            "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}}}}},
    }  # fmt: skip
    path = tmp_path / "tree.json"
    path.write_text(json.dumps(document))
    code = (
        "import httpx\n"
        "httpx.post('https://tree.test/nodes', json={'label': 'a', 'children': "
        "[{'label': 'b', 'children': [{'lable': 'c'}]}]})\n"
    )
    report = check_source(code, specs=[path])
    assert [(f.kind, f.suggestion) for f in report.findings] == [("unknown_param", "label")]
    assert "children.children.lable" in report.findings[0].message


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "neither JSON nor YAML"),
        ("swagger: '2.0'\npaths: {}\n", "not an OpenAPI 3 document"),
        ("openapi: 3.0.0\ninfo: {}\n", "no `paths`"),
        ("- a\n- list\n", "not an OpenAPI 3 document"),
        (
            "openapi: 3.0.0\npaths:\n  /x:\n    post:\n      requestBody:\n        content: [1]\n",
            "malformed OpenAPI document",
        ),
    ],
)
def test_invalid_specs_raise_a_spec_error(tmp_path: Path, content: str, reason: str) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(content)
    with pytest.raises(SpecError, match=reason):
        load_openapi(path)


def test_huge_or_missing_spec_is_a_problem_not_a_crash(tmp_path: Path, billing_spec: Path) -> None:
    with pytest.raises(SpecError, match="byte limit"):
        load_openapi(billing_spec, max_bytes=100)
    report = check_source("import httpx\n", specs=[tmp_path / "absent.yaml"])
    assert any("cannot read the spec" in problem for problem in report.problems)


class _SpecServer(http.server.BaseHTTPRequestHandler):
    body = b""
    requests: list[str | None] = []  # noqa: RUF012 - shared with the test on purpose

    def do_GET(self) -> None:
        etag = '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'
        type(self).requests.append(self.headers.get("If-None-Match"))
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: object) -> None:
        return


@contextlib.contextmanager
def _serve(body: bytes) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 answering with ``body`` and its ETag."""
    _SpecServer.body = body
    _SpecServer.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SpecServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/billing.yaml"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def spec_server(billing_spec: Path) -> Iterator[str]:
    with _serve(billing_spec.read_bytes()) as url:
        yield url


def test_url_specs_are_revalidated_by_etag_and_served_from_cache_offline(spec_server: str) -> None:
    first = load_openapi(spec_server)
    second = load_openapi(spec_server)
    assert _SpecServer.requests[0] is None
    assert _SpecServer.requests[1] is not None  # the second fetch asked If-None-Match
    assert len(first.operations) == len(second.operations)


def test_offline_without_a_cached_copy_is_a_clear_error() -> None:
    with pytest.raises(SpecError, match="no cached copy"):
        load_openapi("http://127.0.0.1:9/never.yaml", timeout=2)


def test_offline_after_a_fetch_uses_the_cached_copy(billing_spec: Path) -> None:
    with _serve(billing_spec.read_bytes()) as url:
        online = load_openapi(url)
    offline = load_openapi(url, timeout=2)  # the server is gone now
    assert len(offline.operations) == len(online.operations)
