"""Import agents' own session logs into the cost ledger, reading only what is new.

For each log file the ledger keeps its device, inode, size, mtime, the offset
read up to and a hash of its first bytes. A file whose size and mtime are
unchanged is not opened; one that grew is read from its offset; one that shrank,
changed inode or head was rotated or replaced: its records are dropped and it is
read again from the start. A file that disappeared keeps its records.

Files are read in bounded batches (see :data:`fleetnb.cost.logs.CHUNK_BYTES`),
each written to the ledger in its own transaction, so memory stays flat however
large the tree, and a file that vanishes or breaks mid-import costs only itself:
the failure is listed in :attr:`ImportResult.problems` and the import goes on.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path
from typing import Any

from fleetnb.cost.ledger import FileState, Ledger
from fleetnb.cost.logs import (
    LogFormat,
    LogPathError,
    UnknownLogSourceError,
    log_format,
    log_sources,
)
from fleetnb.cost.rates import default_overrides
from fleetnb.store import store_path

__all__ = ["ImportResult", "import_logs"]

# Enough to tell two logs apart (their first lines carry session ids and times).
_HEAD_BYTES = 4096


@dataclasses.dataclass(slots=True)
class ImportResult:
    """What one import saw, read and kept."""

    files_seen: int = 0
    files_read: int = 0
    files_unchanged: int = 0
    files_gone: int = 0
    bytes_read: int = 0
    lines_read: int = 0
    records: int = 0
    limits: int = 0
    skipped: dict[str, int] = dataclasses.field(default_factory=dict)
    problems: list[str] = dataclasses.field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def __str__(self) -> str:
        text = (
            f"Imported {self.records} usage records and {self.limits} limit hits from "
            f"{self.files_read} of {self.files_seen} log files ({self.bytes_read:,} bytes, "
            f"{self.lines_read:,} lines); {self.files_unchanged} unchanged, "
            f"{self.files_gone} gone."
        )
        if self.skipped:
            reasons = ", ".join(f"{n} {reason}" for reason, n in sorted(self.skipped.items()))
            text += f" Skipped lines: {reasons}."
        if self.problems:
            text += f" {len(self.problems)} problem(s): " + "; ".join(self.problems)
        return text


def import_logs(
    source: str | None = None,
    path: str | os.PathLike[str] | None = None,
    *,
    root: str | os.PathLike[str] | None = None,
) -> ImportResult:
    """Import ``source``'s logs (every known source when None) into the fleet at ``root``.

    ``path`` is a log root (``CLAUDE_CONFIG_DIR``-like, ``CODEX_HOME``-like) or one
    log file to read instead of the CLI's default locations.
    """
    if path is not None and not Path(path).exists():
        raise LogPathError(
            f"{path} does not exist; pass a log directory (like CLAUDE_CONFIG_DIR or "
            "CODEX_HOME) or one log file, or no path for the CLIs' default locations"
        )
    formats = [log_format(name) for name in ([source] if source else _available_sources())]
    result = ImportResult()
    with Ledger(store_path(root), default_overrides(root)) as ledger:
        for fmt in formats:
            roots = [Path(path)] if path is not None else fmt.default_roots()
            _import_source(fmt, roots, ledger, result)
    return result


def _available_sources() -> list[str]:
    """The sources whose format loads (a missing optional one is left out)."""
    available = []
    for name in log_sources():
        try:
            log_format(name)
        except UnknownLogSourceError:
            continue
        available.append(name)
    return available


def _import_source(fmt: LogFormat, roots: list[Path], ledger: Ledger, result: ImportResult) -> None:
    known = ledger.file_states(fmt.source)
    seen: set[str] = set()
    for root in roots:
        if not root.exists():
            continue
        try:
            files = [root] if root.is_file() else list(fmt.files(root))
        except OSError as exc:
            result.problems.append(f"cannot list {root}: {exc}")
            continue
        for file in files:
            seen.add(str(file))
            result.files_seen += 1
            try:
                _import_file(fmt, file, known.get(str(file)), ledger, result)
            except OSError as exc:
                result.problems.append(f"{file}: {exc.strerror or exc}; left for the next import")
    for name in known:
        inside = any(name == str(r) or name.startswith(f"{r}{os.sep}") for r in roots)
        if inside and name not in seen and not os.path.exists(name):
            result.files_gone += 1


def _import_file(
    fmt: LogFormat, path: Path, before: FileState | None, ledger: Ledger, result: ImportResult
) -> None:
    stat = os.stat(path)
    if before is not None and (before.size, before.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
        result.files_unchanged += 1
        return
    head = _head(path, stat.st_size)
    rotated = before is not None and _rotated(before, stat, path)
    start = 0 if before is None or rotated else before.offset
    state: dict[str, Any] = {} if before is None or rotated else before.state
    reset = rotated
    result.files_read += 1
    while True:
        chunk = fmt.read(path, start, state)
        ledger.save(fmt.source, path, stat, head, chunk, reset=reset)
        result.bytes_read += max(chunk.end - start, 0)
        result.lines_read += chunk.lines
        result.records += len(chunk.records)
        result.limits += len(chunk.limits)
        for reason, count in chunk.skipped.items():
            result.skipped[reason] = result.skipped.get(reason, 0) + count
        done = chunk.end >= stat.st_size or "incomplete_last_line" in chunk.skipped
        if done or chunk.rewrite or chunk.end <= start:
            return
        start, state, reset = chunk.end, chunk.state, False


def _rotated(before: FileState, stat: os.stat_result, path: Path) -> bool:
    """Whether the file at ``path`` is no longer the one read before."""
    if (stat.st_dev, stat.st_ino) != (before.device, before.inode):
        return True
    if stat.st_size < before.size:
        return True
    length, _, digest = before.head.partition(":")
    return _head(path, int(length or 0)) != before.head if digest else False


def _head(path: Path, size: int) -> str:
    """``<n>:<hash of the first n bytes>``, n at most :data:`_HEAD_BYTES`."""
    with open(path, "rb") as handle:
        data = handle.read(min(size, _HEAD_BYTES))
    return f"{len(data)}:{hashlib.blake2b(data, digest_size=16).hexdigest()}"
