"""A fake package registry on 127.0.0.1: PyPI's JSON API and the npm registry's documents.

It publishes the names it is given and answers 404 for every other one, and
records each path asked, so a test can see what was looked up and what the
cache spared.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote

from tests.fakes._server import LoopbackServer

__all__ = ["FakeRegistry"]


class FakeRegistry(LoopbackServer):
    """``/pypi/<name>/json`` and ``/npm/<name>`` for the published names."""

    thread_name = "fake-registry"

    def __init__(self, pypi: Iterable[str] = (), npm: Iterable[str] = ()) -> None:
        super().__init__()
        self.pypi = {name.lower().replace("_", "-") for name in pypi}
        self.npm = set(npm)
        self.asked: list[str] = []

    @property
    def pypi_url(self) -> str:
        return f"{self.origin}/pypi"

    @property
    def npm_url(self) -> str:
        return f"{self.origin}/npm"

    def handler(self) -> type[BaseHTTPRequestHandler]:
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                path = unquote(self.path)
                registry.asked.append(path)
                self._answer(registry.published(path))

            def _answer(self, found: bool) -> None:
                body = json.dumps({"name": "x"} if found else {"error": "Not found"}).encode()
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def published(self, path: str) -> bool:
        if path.startswith("/pypi/") and path.endswith("/json"):
            name = path[len("/pypi/") : -len("/json")]
            return name.lower().replace("_", "-") in self.pypi
        if path.startswith("/npm/"):
            return path[len("/npm/") :] in self.npm
        return False
