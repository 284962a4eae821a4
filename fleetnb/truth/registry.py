"""Does an imported package exist at all? The package registries, asked once and cached.

An import of a package that is neither installed nor published is a classic
invention (``import stripe_helpers``, ``from 'supabase-auth-utils'``). The
registries answer: PyPI's JSON API and the npm registry, over httpx with a short
timeout (``FLEETNB_PYPI_URL`` and ``FLEETNB_NPM_URL`` name a mirror). Answers are
cached on disk, per registry (a published package for a month, a missing
one for a day: it may be published tomorrow). Offline, or with
``FLEETNB_OFFLINE=1``, the answer is "unknown", never an error: a check must
not fail, or flag anything, because the network is down.

Import names and distribution names differ for a few well-known packages
(``import yaml`` installs ``PyYAML``); those are asked under their distribution's
name, and ``python-<name>`` and ``py<name>`` are tried before a name is called
missing.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterable
from typing import Any, Literal

import httpx

from fleetnb.truth.cache import cache_key, read_json, write_json

__all__ = ["DEFAULT_NPM_URL", "DEFAULT_PYPI_URL", "Ecosystem", "Registry", "npm_package_name"]

Ecosystem = Literal["pypi", "npm"]
DEFAULT_PYPI_URL = "https://pypi.org/pypi"
DEFAULT_NPM_URL = "https://registry.npmjs.org"
TIMEOUT_S = 3.0
_FOUND_TTL_S = 30 * 86400.0
_MISSING_TTL_S = 86400.0
# Import names whose distribution is published under another name.
_DISTRIBUTION_OF = {
    "PIL": "pillow", "yaml": "pyyaml", "cv2": "opencv-python", "sklearn": "scikit-learn",
    "skimage": "scikit-image", "bs4": "beautifulsoup4", "dateutil": "python-dateutil",
    "OpenSSL": "pyopenssl", "Crypto": "pycryptodome", "jwt": "pyjwt", "dotenv": "python-dotenv",
    "git": "gitpython", "serial": "pyserial", "docx": "python-docx", "pptx": "python-pptx",
    "fitz": "pymupdf", "attr": "attrs", "MySQLdb": "mysqlclient", "zmq": "pyzmq",
    "gi": "pygobject", "win32api": "pywin32", "wx": "wxpython", "magic": "python-magic",
}  # fmt: skip
_NPM_NAME = re.compile(r"^(@[a-z0-9][\w.-]*/)?[a-z0-9][\w.-]*$", re.IGNORECASE)


class Registry:
    """Existence answers for package names: True, False, or None when unknown."""

    def __init__(self, *, offline: bool | None = None, timeout: float = TIMEOUT_S) -> None:
        self.offline = os.environ.get("FLEETNB_OFFLINE") == "1" if offline is None else offline
        self.timeout = timeout
        self._lock = threading.Lock()
        self._unreachable: set[Ecosystem] = set()  # one failed request: no more this session
        self._known: dict[str, dict[str, Any]] = {}  # each cache file, read once

    def exists(self, ecosystem: Ecosystem, name: str) -> bool | None:
        """Whether a package is published under ``name`` (an import name for PyPI)."""
        candidates = _candidates(ecosystem, name)
        if not candidates:
            return None
        unknown = False
        for candidate in candidates:  # the first published name settles it
            answer = self._published(ecosystem, candidate)
            if answer is True:
                return True
            unknown = unknown or answer is None
        return None if unknown else False

    def _published(self, ecosystem: Ecosystem, name: str) -> bool | None:
        # Per registry: a private mirror's answers are not the public one's.
        cache_name = f"registry-{ecosystem}-{cache_key(_base(ecosystem))}.json"
        with self._lock:
            if cache_name not in self._known:
                self._known[cache_name] = read_json(cache_name) or {}
            entry = self._known[cache_name].get(name)
        if isinstance(entry, list) and len(entry) == 2:
            found, when = bool(entry[0]), float(entry[1])
            if time.time() - when < (_FOUND_TTL_S if found else _MISSING_TTL_S):
                return found
        answer = self._ask(ecosystem, name)
        if answer is not None:
            with self._lock:
                # Re-read before writing: another process may have added answers meanwhile.
                fresh = read_json(cache_name) or {}
                fresh[name] = self._known[cache_name][name] = [answer, time.time()]
                write_json(cache_name, fresh)
        return answer

    def _ask(self, ecosystem: Ecosystem, name: str) -> bool | None:
        if self.offline or ecosystem in self._unreachable:
            return None
        try:
            # Only the status matters: the body (every release of a package) is never read.
            with httpx.stream(
                "GET", _url(ecosystem, name), timeout=self.timeout, follow_redirects=True
            ) as response:
                status = response.status_code
        except httpx.HTTPError:
            self._unreachable.add(ecosystem)
            return None
        if status == httpx.codes.NOT_FOUND:
            return False
        return True if httpx.codes.is_success(status) else None


def npm_package_name(specifier: str) -> str | None:
    """The package an import specifier names (``@scope/pkg/sub`` → ``@scope/pkg``), or
    None for relative paths, URLs and node's built-in modules."""
    if specifier.startswith((".", "/", "node:", "bun:", "http:", "https:", "#", "~", "@/")):
        return None
    parts = specifier.split("/")
    name = "/".join(parts[:2]) if specifier.startswith("@") else parts[0]
    if name in _NODE_BUILTINS or not _NPM_NAME.match(name):
        return None
    return name


def _candidates(ecosystem: Ecosystem, name: str) -> Iterable[str]:
    if ecosystem == "npm":
        return [name] if _NPM_NAME.match(name) else []
    if not name.isidentifier():
        return []
    if name in _DISTRIBUTION_OF:
        return [_DISTRIBUTION_OF[name]]
    return [name, f"python-{name}", f"py{name}"]


def _base(ecosystem: Ecosystem) -> str:
    if ecosystem == "npm":
        return (os.environ.get("FLEETNB_NPM_URL") or DEFAULT_NPM_URL).rstrip("/")
    return (os.environ.get("FLEETNB_PYPI_URL") or DEFAULT_PYPI_URL).rstrip("/")


def _url(ecosystem: Ecosystem, name: str) -> str:
    if ecosystem == "npm":
        return f"{_base(ecosystem)}/{name.replace('/', '%2F')}"
    return f"{_base(ecosystem)}/{name}/json"


_NODE_BUILTINS = frozenset(
    [
        "assert",
        "async_hooks",
        "buffer",
        "child_process",
        "cluster",
        "console",
        "constants",
        "crypto",
        "dgram",
        "diagnostics_channel",
        "dns",
        "domain",
        "events",
        "fs",
        "http",
        "http2",
        "https",
        "inspector",
        "module",
        "net",
        "os",
        "path",
        "perf_hooks",
        "process",
        "punycode",
        "querystring",
        "readline",
        "repl",
        "stream",
        "string_decoder",
        "sys",
        "timers",
        "tls",
        "trace_events",
        "tty",
        "url",
        "util",
        "v8",
        "vm",
        "wasi",
        "worker_threads",
        "zlib",
        "test",
    ]
)
