"""What every fake model server shares: a threaded HTTP server on 127.0.0.1.

Subclasses say which request handler answers; this class starts it on a free
port in a daemon thread, stops it, and ends every held ("stalled") reply when
released or stopped, so no test can hang on a fake.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

__all__ = ["LoopbackServer"]


class LoopbackServer:
    """A fake server's lifecycle; use as a context manager or call start() and stop()."""

    thread_name = "fake-server"

    def __init__(self) -> None:
        self._released = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def handler(self) -> type[BaseHTTPRequestHandler]:
        """The request handler class bound to this fake."""
        raise NotImplementedError

    def start(self) -> Self:
        server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, name=self.thread_name, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def release(self) -> None:
        """End every stall, now and later."""
        self._released.set()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:<port>``."""
        if self._server is None:
            raise RuntimeError(f"the {self.thread_name} is not running; call start() first")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"
