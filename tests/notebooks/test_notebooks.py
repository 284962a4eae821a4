"""The example notebooks run headless under papermill on a real ipykernel.

Each runs on the demo harness with ``auto_approve=True`` in a temp directory;
the executed notebook is read back with nbformat, as a person or a batch job
would read it later, without a kernel.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import nbformat
import papermill
import pytest

from tests.conftest import stop_running_at
from tests.cost.test_cost_cli import write_tree
from tests.notebooks.files import NOTEBOOKS, read_notebook


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    """Where the notebook's scratch repo goes; its agents are stopped afterwards."""
    path = tmp_path / "repo"
    yield path
    stop_running_at(path)


def execute(name: str, workdir: Path, kernel_name: str, **parameters: object) -> Path:
    """Run notebooks/``name`` with papermill; returns the executed copy."""
    output = workdir.parent / f"executed-{name}"
    papermill.execute_notebook(
        str(NOTEBOOKS / name),
        str(output),
        parameters={"auto_approve": True, "workdir": str(workdir), **parameters},
        kernel_name=kernel_name,
        cwd=str(workdir.parent),
        progress_bar=False,
        execution_timeout=120,
    )
    return output


def read_back(path: Path) -> nbformat.NotebookNode:
    """The executed notebook, valid, with every code cell run and no error output."""
    notebook = read_notebook(path)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        assert cell.execution_count is not None, cell.source
        errors = [output for output in cell.outputs if output.output_type == "error"]
        assert not errors, f"{cell.source}\n{errors}"
    return notebook


def outputs_of(notebook: nbformat.NotebookNode, source_part: str) -> str:
    """The text and HTML outputs of the code cells whose source contains ``source_part``."""
    texts = []
    for cell in notebook.cells:
        if cell.cell_type == "code" and source_part in cell.source:
            for output in cell.outputs:
                data = output.get("data", {})
                texts.extend([output.get("text", ""), data.get("text/plain", ""),
                              data.get("text/html", "")])  # fmt: skip
    return "\n".join(texts)


@pytest.mark.timeout(180)
def test_quickstart_runs_headless(workdir: Path, kernel_name: str) -> None:
    notebook = read_back(execute("quickstart.ipynb", workdir, kernel_name, n_agents=3))

    live = outputs_of(notebook, "display(fleet)")  # the widgets' fallbacks, as launched
    assert all(f"demo-{n}" in live for n in (1, 2, 3)), live
    settled = outputs_of(notebook, "print(fleet)")  # the static view, after approving
    for n in (1, 2, 3):
        assert re.search(rf"demo-{n} \[demo\].*\b(idle|done)\b", settled), settled
    assert "no pending approvals" in settled
    final = outputs_of(notebook, "fleet.status()")
    assert final.count("idle") + final.count("done") >= 3, final
    assert "approved demo-1" in outputs_of(notebook, "approve_until_settled(fleet)")
    staged = outputs_of(notebook, '"diff", "--cached"')
    assert "+- write the release notes" in staged
    assert "tidy-the-build-scripts" not in staged  # that agent is denied everything


@pytest.mark.timeout(180)
def test_approvals_runs_headless(workdir: Path, kernel_name: str) -> None:
    notebook = read_back(execute("approvals.ipynb", workdir, kernel_name))

    verdicts = outputs_of(notebook, "verdicts(DEFAULT_POLICY)")
    assert "destructive command" in verdicts
    decided = outputs_of(notebook, "decisions(agent)")
    for by in ("rule", "person", "approve_all"):
        assert by in decided
    assert "leave staging to a person" in decided
    assert "headless" in outputs_of(notebook, "Fleet(root, headless=True)")


@pytest.mark.timeout(180)
def test_cost_runs_headless(workdir: Path, kernel_name: str) -> None:
    logs = write_tree(workdir.parent / "claude-logs")  # a tiny Claude Code log tree
    notebook = read_back(execute("cost.ipynb", workdir, kernel_name, log_root=str(logs),
                                 source="claude", timezone="UTC"))  # fmt: skip

    assert "Imported 8 usage records" in outputs_of(notebook, "import_logs")
    per_day = outputs_of(notebook, 'groupby("period")')
    assert "2025-03-09" in per_day
    assert "2025-04-02" in per_day
    plot = next(cell for cell in notebook.cells if "plot_daily" in cell.source)
    figures = [output.data["application/vnd.plotly.v1+json"] for output in plot.outputs
               if "application/vnd.plotly.v1+json" in output.get("data", {})]  # fmt: skip
    assert {trace["name"] for trace in figures[0]["data"]} == {
        "claude-3-5-haiku-20241022", "claude-opus-4-20250514", "claude-sonnet-4-20250514",
        "some-unknown-model"}  # fmt: skip
    assert "claude-opus-4-20250514" in outputs_of(notebook, 'groupby("model")')
    assert "s2" in outputs_of(notebook, "cost.sessions(")
    assert "True" in outputs_of(notebook, "cost.blocks(")  # the gap rows
