"""The example notebooks on disk: where they are, reading them, copies with parameters set.

Papermill injects parameters in a cell of its own when it executes; a notebook
opened in JupyterLab by a browser test gets them written into its ``parameters``
cell instead, so the notebook a person would see is the one that runs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, cast

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

__all__ = ["NOTEBOOKS", "code_notebook", "read_notebook", "with_parameters", "write_notebook"]

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """``path`` as an nbformat 4 notebook."""
    notebook = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]  # untyped
    return cast(nbformat.NotebookNode, notebook)


def write_notebook(notebook: nbformat.NotebookNode, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)  # type: ignore[no-untyped-call]  # nbformat.write is untyped


def code_notebook(sources: list[str]) -> nbformat.NotebookNode:
    """A Python 3 notebook of one code cell per source."""
    cells = [new_code_cell(source) for source in sources]  # type: ignore[no-untyped-call]
    notebook = new_notebook(cells=cells)  # type: ignore[no-untyped-call]  # nbformat is untyped
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    return cast(nbformat.NotebookNode, notebook)


def with_parameters(source: Path, target: Path, **values: Any) -> Path:
    """Write ``source`` to ``target`` with each ``name = ...`` line set to ``values[name]``."""
    notebook = read_notebook(source)
    cell = _parameters_cell(notebook, source)
    lines = cell.source.splitlines()
    for name, value in values.items():
        lines = _assign(lines, name, value, source)
    cell.source = "\n".join(lines)
    write_notebook(notebook, target)
    return target


def _parameters_cell(notebook: nbformat.NotebookNode, source: Path) -> nbformat.NotebookNode:
    for cell in notebook.cells:
        if "parameters" in cell.metadata.get("tags", []):
            return cast(nbformat.NotebookNode, cell)
    raise ValueError(f"{source} has no cell tagged 'parameters'")


def _assign(lines: list[str], name: str, value: Any, source: Path) -> list[str]:
    pattern = re.compile(rf"^{re.escape(name)}\s*=\s*[^#]*?(?P<comment>\s*#.*)?$")
    matches = [pattern.match(line) for line in lines]
    if not any(matches):
        raise ValueError(f"the parameters cell of {source} does not set {name!r}")
    return [
        f"{name} = {value!r}{match['comment'] or ''}" if match else line
        for line, match in zip(lines, matches, strict=True)
    ]
