"""Which files a check reads, and reading them safely.

Directories are walked without their VCS, virtualenv and build folders; files
that are not regular, are binary, are not UTF-8 or are over the size cap are
reported as problems and skipped, so one odd file never stops a check.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from fleetnb.truth.findings import CheckReport

__all__ = ["MAX_FILE_BYTES", "read_source", "walk"]

MAX_FILE_BYTES = 2 * 1024 * 1024  # agent-written source is far smaller; bigger is generated or data
_SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".venv",
        "venv",
        "node_modules",
        "__pycache__",
        ".tox",
        ".mypy_cache",
        ".ruff_cache",
        "site-packages",
        "build",
        "dist",
    }
)


def walk(
    paths: Iterable[str | os.PathLike[str]], report: CheckReport
) -> Iterator[tuple[Path, bool]]:
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            yield path, True
        elif path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
                for name in sorted(files):
                    yield Path(root) / name, False
        else:
            report.problems.append(f"{path}: no such file or directory")


def read_source(file: Path, report: CheckReport) -> str | None:
    try:
        info = file.stat()
        if not stat.S_ISREG(info.st_mode):
            # A FIFO or device named *.py: reading it could block forever.
            report.problems.append(f"{file}: not a regular file; not checked")
            return None
        size = info.st_size
        if size > MAX_FILE_BYTES:
            report.problems.append(
                f"{file}: {size} bytes, over the {MAX_FILE_BYTES}-byte limit "
                "for a source file; not checked"
            )
            return None
        data = file.read_bytes()
    except OSError as exc:
        report.problems.append(f"{file}: cannot be read ({exc.strerror}); not checked")
        return None
    if b"\x00" in data[:8192]:
        report.problems.append(f"{file}: binary content; not checked")
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        report.problems.append(f"{file}: not UTF-8 text; not checked")
        return None
