"""The on-disk cache of built indexes and fetched specs.

Indexes are keyed by what they were built from (a package version, a spec's
content hash or ETag), so a new version is rebuilt and an old one is never served.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["cache_dir", "cache_key", "read_json", "write_json"]


def cache_dir() -> Path:
    """``$FLEETNB_CACHE_DIR``, else ``$XDG_CACHE_HOME/fleetnb/truth`` (``~/.cache`` default)."""
    explicit = os.environ.get("FLEETNB_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "fleetnb" / "truth"


def cache_key(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def read_json(name: str) -> Any | None:
    """The cached JSON document ``name``, or None when absent or unreadable."""
    path = cache_dir() / name
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_json(name: str, data: Any) -> None:
    """Store ``data`` atomically, so a concurrent reader never sees half a file.

    A cache that cannot be written (read-only home) only costs a rebuild next time.
    """
    directory = cache_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=directory, delete=False, suffix=".tmp"
        ) as handle:
            json.dump(data, handle, separators=(",", ":"))
        Path(handle.name).replace(directory / name)
    except OSError:
        return
