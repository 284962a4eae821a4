"""The log formats an import reads, behind one small protocol, and their registry.

A format knows where an agent CLI keeps its session logs and how to read one
file from a byte offset into :class:`~fleetnb.cost.records.UsageRecord` and
:class:`~fleetnb.cost.records.LimitHit` values. The importer owns everything
else (which files changed, offsets, the ledger), so a format stays a parser.

Line formats (Claude Code, Codex) read a bounded slice of a file per call, so a
multi-gigabyte log never sits in memory: the importer calls :meth:`LogFormat.read`
again from ``chunk.end`` until the file is consumed. :func:`complete_lines` does
the bounded reading for them.
"""

from __future__ import annotations

import dataclasses
import importlib
import io
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from fleetnb.cost.records import LimitHit, UsageRecord
from fleetnb.errors import FleetError

__all__ = [
    "CHUNK_BYTES",
    "MAX_LINE_BYTES",
    "LogChunk",
    "LogFormat",
    "LogPathError",
    "UnknownLogSourceError",
    "complete_block",
    "complete_lines",
    "find_files",
    "log_format",
    "log_sources",
    "timestamp_seconds",
]

#: How much of a file one ``read`` consumes at most (whole lines; a longer line is read whole).
CHUNK_BYTES = 8 * 1024 * 1024
#: Lines longer than this are skipped unread (``line_too_long``); real Claude Code
#: lines carrying images reach several megabytes, so the cap is far above them.
MAX_LINE_BYTES = 256 * 1024 * 1024

# Formats by source, imported on first use: "module:attribute" (a class is instantiated).
_FORMATS = {
    "claude": "fleetnb.cost.logs_claude:ClaudeLogs",
    "codex": "fleetnb.cost.logs_codex:CodexLogs",
    "gemini": "fleetnb.cost.logs_gemini:GeminiLogs",
}


class UnknownLogSourceError(FleetError, KeyError):
    """No log format is registered under the requested source name."""

    def __str__(self) -> str:  # KeyError would repr-quote the message
        return str(self.args[0]) if self.args else ""


class LogPathError(FleetError):
    """A log directory or file given to an import does not exist."""


@dataclasses.dataclass(slots=True)
class LogChunk:
    """What one read of one log file produced."""

    records: list[UsageRecord]
    limits: list[LimitHit]
    end: int  # byte offset consumed: the end of the last complete line
    skipped: dict[str, int]  # reason -> lines skipped (not_json, invalid_usage, ...)
    state: dict[str, Any]  # parser state carried to the next read of this file (JSON-able)
    rewrite: bool = False  # whole-document formats: records replace all earlier ones of the file
    lines: int = 0  # lines (or messages) read, for the import summary


class LogFormat(Protocol):
    """One agent CLI's session logs."""

    source: str

    def default_roots(self) -> list[Path]:
        """Where the CLI keeps its logs on this machine (from its environment variables)."""
        ...

    def files(self, root: Path) -> Iterator[Path]:
        """The log files under one root."""
        ...

    def read(self, path: Path, start: int, state: dict[str, Any]) -> LogChunk:
        """Parse ``path`` from byte ``start`` (at most about :data:`CHUNK_BYTES` of it)."""
        ...


def log_sources() -> list[str]:
    """The registered source names, sorted."""
    return sorted(_FORMATS)


def log_format(source: str) -> LogFormat:
    """The format registered as ``source``; an unknown name raises with the known ones."""
    target = _FORMATS.get(source)
    if target is None:
        raise UnknownLogSourceError(
            f"no log format named {source!r}; the known ones are {', '.join(log_sources())}"
        )
    module_name, _, attribute = target.partition(":")
    try:
        found = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise UnknownLogSourceError(
            f"the {source} log format ({target}) cannot be loaded: {exc}; "
            "is this fleetnb installation complete?"
        ) from exc
    fmt: LogFormat = found() if isinstance(found, type) else found
    return fmt


def find_files(root: Path, wanted: Callable[[str], bool]) -> Iterator[Path]:
    """The files under ``root`` whose name is ``wanted``, in path order (as ``sorted``
    of their Paths), found with ``os.scandir``: a warm import of a tree of tens of
    thousands of logs is mostly this walk, and ``Path.rglob`` costs several times more."""
    try:
        entries = sorted(os.scandir(root), key=lambda entry: entry.name)
    except (FileNotFoundError, NotADirectoryError):
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            yield from find_files(Path(entry.path), wanted)
        elif wanted(entry.name):
            yield Path(entry.path)


def complete_lines(
    path: Path, start: int, budget: int = CHUNK_BYTES, max_line: int = MAX_LINE_BYTES
) -> tuple[list[bytes], int, dict[str, int]]:
    """The complete lines of ``path`` from ``start`` (without their newlines); see
    :func:`complete_block`."""
    block, end, skipped = complete_block(path, start, budget, max_line)
    return (block[:-1].split(b"\n") if block else []), end, skipped


def complete_block(
    path: Path, start: int, budget: int = CHUNK_BYTES, max_line: int = MAX_LINE_BYTES
) -> tuple[bytes, int, dict[str, int]]:
    """The complete lines of ``path`` from ``start``, about ``budget`` bytes of them.

    Returns them as one block ending in a newline (empty at the end of the file),
    the offset just after it, and skip counts: a final line with no newline is
    left for the next read and counted as ``incomplete_last_line``; a line longer
    than ``max_line`` is passed over as ``line_too_long``. A line longer than
    ``budget`` comes whole, alone.
    """
    # Unbuffered, and never asking for more than the file holds: most logs are far
    # smaller than a chunk, and an 8 MB buffer per small file costs more than its parse.
    with open(path, "rb", buffering=0) as handle:
        left = os.fstat(handle.fileno()).st_size - start
        handle.seek(start)
        data = handle.readall() if 0 < left < budget else handle.read(budget) or b""
        cut = data.rfind(b"\n")
        if cut >= 0:
            skipped = {}
            if len(data) < budget and cut < len(data) - 1:
                skipped["incomplete_last_line"] = 1
            return data[: cut + 1], start + cut + 1, skipped
        if not data:
            return b"", start, {}
        return _long_line(handle, data, start, budget, max_line)


def _long_line(
    handle: io.RawIOBase, head: bytes, start: int, budget: int, max_line: int
) -> tuple[bytes, int, dict[str, int]]:
    """A line longer than ``budget``: read it whole, or pass over it when beyond the cap."""
    parts = [head]
    size = len(head)
    while True:
        more = handle.read(budget)
        if more is None or not more:
            return b"", start, {"incomplete_last_line": 1}
        cut = more.find(b"\n")
        if cut >= 0:
            size += cut + 1
            if size > max_line:
                return b"", start + size, {"line_too_long": 1}
            parts.append(more[: cut + 1])
            return b"".join(parts), start + size, {}
        size += len(more)
        if size <= max_line:
            parts.append(more)
        elif parts:
            parts = []  # over the cap: stop keeping it, keep looking for its end


def timestamp_seconds(stamp: str | None) -> float | None:
    """Unix seconds of an ISO 8601 timestamp (naive ones are UTC); None if unreadable."""
    if not stamp:
        return None
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
