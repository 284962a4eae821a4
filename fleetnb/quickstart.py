"""The quickstart fleet: three demo agents in a scratch git repo, watched live.

No API key and no network: the demo harness works in the scratch repo for
real. One agent may do everything, one is denied everything, and one follows
the default policy, which asks a person before it stages its notes with git;
the person answers at the terminal (or, with no terminal, the quickstart
approves and says so).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from fleetnb.agent import Agent
from fleetnb.fleet import Fleet

__all__ = ["run_quickstart"]

_AGENTS = [
    ("writer", "write the release notes", "allow"),
    ("reviewer", "review the open changes", None),  # the default policy asks to stage
    ("cautious", "tidy the build scripts", "deny"),
]
_COLUMNS = ["name", "state", "total_tokens", "pending_approvals", "last_action"]


def run_quickstart(directory: str, *, timeout: float = 120.0) -> int:
    repo = _scratch_repo(Path(directory))
    fleet = Fleet(repo)
    print(f"fleetnb quickstart: demo agents (no API key) working in {repo}\n")
    agents = [
        fleet.launch(task, harness="demo", cwd=repo, name=_unique(fleet, name), approvals=mode)
        for name, task, mode in _AGENTS
    ]
    deadline = time.monotonic() + timeout
    shown = ""
    while time.monotonic() < deadline:
        for agent in agents:
            _answer_pending(agent)
        table = fleet.status()[_COLUMNS].to_string(index=False)
        if table != shown:
            print(table, "\n", flush=True)
            shown = table
        if all(agent.state.is_settled for agent in agents):
            break
        time.sleep(0.3)
    written = sorted(p.name for p in (repo / "fleetnb-demo").glob("*"))
    print(f"Done. Files the agents wrote: {written}")
    print(f"Inspect with: fleetnb --root {repo} status   |   fleetnb --root {repo} events NAME")
    return 0


def _answer_pending(agent: Agent) -> None:
    for request in agent.status().pending_approvals:
        what = request.get("input", {})
        question = f"{agent.name} wants {request.get('tool')} {what}"
        if sys.stdin.isatty():
            allow = input(f"{question}. Approve? [Y/n] ").strip().lower() in ("", "y", "yes")
            agent.decide(str(request["request_id"]), allow, by="person")
        else:
            print(f"{question}: approved by the quickstart (no terminal to ask)")
            agent.decide(str(request["request_id"]), True, by="quickstart")


def _unique(fleet: Fleet, name: str) -> str:
    taken = {agent.name for agent in fleet.agents}
    number = 1
    candidate = name
    while candidate in taken:
        number += 1
        candidate = f"{name}-{number}"
    return candidate


def _scratch_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    if not (path / ".git").exists():
        subprocess.run(["git", "init", "-q", str(path)], check=True)
        (path / "README.md").write_text("# A scratch repo for the fleetnb quickstart\n")
        (path / ".gitignore").write_text(".fleetnb/\n")
    return path.resolve()
