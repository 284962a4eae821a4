"""Reading evidence trails back out of saved notebooks (papermill runs included).

Every ``application/vnd.fleetnb.evidence+json`` output of every code cell is
read with nbformat. An output that is corrupt, foreign or of an unknown schema
is reported in ``problems`` with its cell index and the reason; the rest is
still read.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from fleetnb.evidence.trail import MIME_TYPE, EvidenceFormatError, EvidenceTrail, frame_rows

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["NotebookEvidence", "Problem", "read_notebook", "read_notebook_frame"]


@dataclasses.dataclass(frozen=True, slots=True)
class Problem:
    """An evidence output that could not be read, and why."""

    cell_index: int
    output_index: int
    reason: str


@dataclasses.dataclass(frozen=True)
class NotebookEvidence:
    """The trails found in one notebook, in cell order, and the outputs that failed."""

    path: str
    trails: list[EvidenceTrail]
    cells: list[int]
    problems: list[Problem]

    def __iter__(self) -> Iterator[EvidenceTrail]:
        return iter(self.trails)

    def __len__(self) -> int:
        return len(self.trails)

    def __getitem__(self, index: int) -> EvidenceTrail:
        return self.trails[index]

    def to_frame(self) -> pd.DataFrame:
        """One row per entry of every trail, with the cell it came from."""
        import pandas as pd  # noqa: PLC0415 - pandas loads only for frames

        rows: list[dict[str, Any]] = []
        for cell, trail in zip(self.cells, self.trails, strict=True):
            rows.extend(frame_rows(trail.payload, notebook=self.path, cell_index=cell))
        frame = pd.DataFrame(rows)
        frame.attrs["problems"] = [dataclasses.asdict(p) for p in self.problems]
        return frame


def read_notebook(path: str | os.PathLike[str]) -> NotebookEvidence:
    """Every evidence trail saved in the outputs of the notebook at ``path``."""
    import nbformat  # noqa: PLC0415 - about a second to import; only readers pay it

    notebook: Any = nbformat.read(os.fspath(path), as_version=4)  # type: ignore[no-untyped-call]  # nbformat is untyped
    trails: list[EvidenceTrail] = []
    cells: list[int] = []
    problems: list[Problem] = []
    for cell_index, cell in enumerate(notebook.cells):
        for output_index, output in enumerate(cell.get("outputs") or ()):
            data = output.get("data") if isinstance(output, dict) else None
            if not isinstance(data, dict) or MIME_TYPE not in data:
                continue
            try:
                trails.append(EvidenceTrail.from_payload(data[MIME_TYPE]))
                cells.append(cell_index)
            except EvidenceFormatError as exc:
                problems.append(Problem(cell_index, output_index, str(exc)))
    return NotebookEvidence(os.fspath(path), trails, cells, problems)


def read_notebook_frame(path: str | os.PathLike[str]) -> pd.DataFrame:
    """The trails of a notebook as one DataFrame; ``frame.attrs["problems"]`` lists failures."""
    return read_notebook(path).to_frame()
