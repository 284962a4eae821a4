"""Imports of packages that exist nowhere: not installed, not the project's own, not published.

A package is only called possibly invented when every place it could come from
says no: the standard library, this interpreter's installed distributions, the
project's own modules and packages (next to the file or above it, ``src/``
layouts too), the project's ``node_modules`` and ``package.json``, and finally
the public registry (:mod:`fleetnb.truth.registry`). A registry that cannot be
asked leaves the import alone. The finding is a warning: a private index or a
package published tomorrow can prove it wrong.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator, Mapping
from functools import lru_cache
from importlib.metadata import packages_distributions
from pathlib import Path

from fleetnb.truth.calls import Calls
from fleetnb.truth.findings import Finding, closest
from fleetnb.truth.registry import Registry, npm_package_name

__all__ = ["unknown_imports"]

_ANCESTORS = 8  # how far above a file its project's own modules may live
_MANIFEST_KEYS = ("dependencies", "devDependencies", "peerDependencies", "optionalDependencies")


def unknown_imports(
    calls: Calls, lang: str, path: str | None, registry: Registry
) -> Iterator[Finding]:
    """A warning for each imported package that exists nowhere."""
    folders = _folders(path)
    python = lang == "python"
    for specifier, (line, column) in sorted(calls.import_sites.items()):
        name = specifier if python else npm_package_name(specifier)
        if name is None or _known(name, specifier, folders, python=python):
            continue
        if registry.exists("pypi" if python else "npm", name) is not False:
            continue
        where = "PyPI" if python else "npm"
        yield Finding(
            path,
            line,
            column,
            name,
            "unknown_package",
            "warning",
            f"`{name}` is not installed, not part of this project, and {where} has no "
            "package of that name; the import may be invented",
            closest(name, _installed()) if python else None,
        )


def _known(name: str, specifier: str, folders: list[Path], *, python: bool) -> bool:
    if python:
        return (
            name in sys.stdlib_module_names
            or name in _installed()
            or _importable(name)
            or _local(name, folders)
        )
    first = specifier.split("/", maxsplit=1)[0]
    return _in_node_project(name, folders) or _local(first, folders)


def _folders(path: str | None) -> list[Path]:
    """The file's folder and those above it, up to its repository's root."""
    if path is None:
        return []
    found: list[Path] = []
    for folder in [Path(path).resolve().parent, *Path(path).resolve().parents[:_ANCESTORS]]:
        found.append(folder)
        if (folder / ".git").exists():
            break
    return found


def _local(name: str, folders: list[Path]) -> bool:
    """A module or package of the project itself (``utils.py``, ``app/``, ``src/app/``)."""
    for folder in folders:
        for base in (folder, folder / "src"):
            if (base / name).is_dir() or any(
                (base / f"{name}{suffix}").is_file()
                for suffix in (".py", ".pyi", ".ts", ".tsx", ".js", ".mjs", ".jsx")
            ):
                return True
    return False


def _in_node_project(name: str, folders: list[Path]) -> bool:
    for folder in folders:
        if (folder / "node_modules" / name).is_dir():
            return True
        if name in _declared(folder / "package.json"):
            return True
    return False


def _declared(manifest: Path) -> set[str]:
    """The dependencies a package.json declares (none when absent or unreadable)."""
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    if not isinstance(data, Mapping):
        return set()
    return {
        str(dependency)
        for key in _MANIFEST_KEYS
        if isinstance(data.get(key), Mapping)
        for dependency in data[key]
    }


@lru_cache(maxsize=1)
def _installed() -> frozenset[str]:
    """Top-level import names this interpreter can import from installed distributions."""
    return frozenset(packages_distributions())


def _importable(name: str) -> bool:
    """A module this interpreter finds (without running it) but no distribution names."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False
