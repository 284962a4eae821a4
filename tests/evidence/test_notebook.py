"""Evidence in real notebooks: papermill runs a demo agent on a real ipykernel, the saved
notebook is read back with nbformat, and no secret from the agent's events reaches the file."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from pathlib import Path

import papermill
import pytest
from nbformat.v4 import new_code_cell, new_output

from fleetnb.evidence import MIME_TYPE, read_notebook, read_notebook_frame, redact
from tests.conftest import stop_running_at
from tests.evidence.samples import SECRETS
from tests.notebooks.files import code_notebook, write_notebook
from tests.notebooks.files import read_notebook as read_nb

TASK_SECRET = SECRETS[0][2]

PARAMETERS = "root = ''\nrepo = ''\ntask_file = ''\nsecrets_file = ''"
CELLS = [
    """\
import json, pathlib
import fleetnb
fleet = fleetnb.Fleet(root)
task = pathlib.Path(task_file).read_text()
agent = fleet.launch(task, harness="demo", cwd=repo, approvals="allow",
                     options={"step_delay": 0.01})
print(agent.wait(timeout=60))""",
    """\
texts = json.loads(pathlib.Path(secrets_file).read_text())
for n, text in enumerate(texts):
    fleet.store.append_many(agent.id, [
        ("tool_call", {"call_id": f"s{n}", "tool": "Bash", "input": {"command": text}}),
        ("tool_result", {"call_id": f"s{n}", "output": text, "is_error": False, "exit_code": 0}),
        ("assistant_text", {"text": text}),
    ])
agent.annotate(texts[1], tag="leak")
agent.annotate("the demo staged its notes", tag="review", event=agent.events()[-1])""",
    "agent.evidence()",
    'display(agent.evidence(kinds=["command"], limit=5))',
    "print(agent.stop())",
]


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "root"
    path.mkdir()
    yield path
    stop_running_at(path)


def run_notebook(tmp_path: Path, root: Path, repo: Path, kernel_name: str) -> Path:
    """Write the evidence notebook, run it with papermill, return the executed copy."""
    source = code_notebook([PARAMETERS, *CELLS])
    source.cells[0].metadata["tags"] = ["parameters"]
    source.metadata["kernelspec"]["language"] = "python"
    write_notebook(source, tmp_path / "evidence.ipynb")
    task_file = tmp_path / "task.txt"
    task_file.write_text(f"write notes; deploy with ANTHROPIC_API_KEY={TASK_SECRET}")
    secrets_file = tmp_path / "secrets.json"
    secrets_file.write_text(json.dumps([text for _, text, _ in SECRETS]))
    output = tmp_path / "executed.ipynb"
    papermill.execute_notebook(
        str(tmp_path / "evidence.ipynb"),
        str(output),
        parameters={"root": str(root), "repo": str(repo), "task_file": str(task_file),
                    "secrets_file": str(secrets_file)},
        kernel_name=kernel_name,
        cwd=str(tmp_path),
        progress_bar=False,
        execution_timeout=120,
    )  # fmt: skip
    return output


@pytest.mark.timeout(240)
def test_papermill_notebook_carries_readable_redacted_evidence(
    tmp_path: Path, root: Path, repo: Path, kernel_name: str
) -> None:
    path = run_notebook(tmp_path, root, repo, kernel_name)
    text = path.read_text()
    for context, _, secret in SECRETS:
        for form in (secret, html.escape(secret), json.dumps(secret)[1:-1]):
            assert form not in text, f"{context} leaked into the notebook"
    for context, sample, _ in SECRETS:  # each sample was displayed, redacted
        assert json.dumps(redact(sample))[1:-1] in text, f"{context} is missing from the trail"

    found = read_notebook(path)
    assert found.problems == []
    assert len(found) == 2
    full, commands = found
    assert full.agent["harness"] == "demo"
    kinds = {e["kind"] for e in full.entries}
    assert {"command", "file_change", "approval", "annotation", "message", "tool"} <= kinds
    review = [e for e in full.entries if e["kind"] == "annotation" and e["tag"] == "review"]
    assert review
    assert review[0]["event_seq"] is not None
    assert commands.entries[0]["kind"] == "omitted"
    assert {e["kind"] for e in commands.entries[1:]} == {"command"}

    frame = read_notebook_frame(path)
    assert len(frame) == len(full.entries) + len(commands.entries)
    assert {"cell_index", "agent_name", "kind", "seq", "title"} <= set(frame.columns)
    assert frame.attrs["problems"] == []
    outputs = read_nb(path).cells
    evidence_cells = {
        i
        for i, c in enumerate(outputs)
        if any(MIME_TYPE in o.get("data", {}) for o in c.get("outputs", []))
    }
    assert set(frame["cell_index"]) == evidence_cells  # fmt: skip


@pytest.mark.timeout(240)
def test_corrupt_and_foreign_outputs_are_reported(
    tmp_path: Path, root: Path, repo: Path, kernel_name: str
) -> None:
    path = run_notebook(tmp_path, root, repo, kernel_name)
    notebook = read_nb(path)
    bad = [{"schema": "someone.else/3", "agent": {}, "entries": []}, "{not json",
           {"schema": "fleetnb.evidence/1", "agent": {}, "entries": "nope"}]  # fmt: skip
    for payload in bad:
        cell = new_code_cell("display(something)")  # type: ignore[no-untyped-call]
        output = new_output("display_data", data={MIME_TYPE: payload})  # type: ignore[no-untyped-call]
        cell.outputs = [output]
        notebook.cells.append(cell)
    write_notebook(notebook, path)

    found = read_notebook(path)
    assert len(found) == 2  # the good trails are still read
    cells = len(notebook.cells)
    assert [p.cell_index for p in found.problems] == [cells - 3, cells - 2, cells - 1]
    reasons = [p.reason for p in found.problems]
    assert "unknown schema" in reasons[0]
    assert "not valid JSON" in reasons[1]
    assert "'entries' is not a list" in reasons[2]
