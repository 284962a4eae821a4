"""One git worktree per agent, on the demo harness in real git repositories."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

import fleetnb
from fleetnb import EventKind, State

FAST = {"step_delay": 0.01}
NOTES = "fleetnb-demo/shared-notes.md"


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout


def _launch(fleet: fleetnb.Fleet, repo: Path, name: str) -> fleetnb.Agent:
    return fleet.launch(
        "shared notes", harness="demo", cwd=repo, name=name, approvals="allow",
        options=FAST, worktree=True,
    )  # fmt: skip


def test_worktree_needs_a_git_repository(fleet: fleetnb.Fleet, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(fleetnb.LaunchError, match="inside a git repository"):
        fleet.launch("t", harness="demo", cwd=plain, worktree=True)
    assert len(fleet) == 0
    assert not (fleet.root / ".fleetnb" / "worktrees").exists()


def test_agents_in_worktrees_merge_conflict_and_discard(fleet: fleetnb.Fleet, repo: Path) -> None:
    base = _git(repo, "rev-parse", "HEAD").strip()
    first, second = _launch(fleet, repo, "first"), _launch(fleet, repo, "second")
    assert first.wait(timeout=30) is State.IDLE
    assert second.wait(timeout=30) is State.IDLE
    second.send("more from second")
    assert second.wait(timeout=30) is State.IDLE

    trees = fleet.root / ".fleetnb" / "worktrees"
    assert Path(first.record.cwd) == trees / "first"
    assert (trees / "first" / NOTES).read_text() == "- shared notes\n"
    assert (trees / "second" / NOTES).read_text() == "- shared notes\n- more from second\n"
    assert not (repo / "fleetnb-demo").exists(), "the repository itself is untouched"
    assert _git(trees / "second", "branch", "--show-current").strip() == "fleetnb/second"

    diff = first.diff()
    assert f"+++ b/{NOTES}" in diff
    assert "+- shared notes" in diff
    (event,) = first.events(kinds=[EventKind.DIFF])
    assert event.payload == {
        "action": "diff", "base": base, "branch": "fleetnb/first", "diff": diff
    }  # fmt: skip

    head = first.merge()
    assert (repo / NOTES).read_text() == "- shared notes\n"
    assert _git(repo, "rev-parse", "HEAD").strip() == head
    assert "fleetnb/first" in _git(repo, "log", "-1", "--format=%s")
    assert _git(repo, "status", "--porcelain") == ""

    before = second.diff()
    with pytest.raises(fleetnb.WorktreeError, match=f"conflicts in {re.escape(NOTES)}") as info:
        second.merge("second's notes")
    assert info.value.files == [NOTES]
    assert _git(repo, "status", "--porcelain") == "", "the merge was aborted"
    assert _git(repo, "rev-parse", "HEAD").strip() == head
    assert (repo / NOTES).read_text() == "- shared notes\n"
    assert (trees / "second" / NOTES).read_text() == "- shared notes\n- more from second\n"
    assert second.diff() == before, "nothing of the agent's work was lost"

    with pytest.raises(fleetnb.AgentRunningError, match="stop\\(\\) it first"):
        second.discard()
    assert second.stop() is State.STOPPED
    second.discard()
    assert not (trees / "second").exists()
    assert "fleetnb/second" not in _git(repo, "branch", "--list")
    assert second.events(kinds=[EventKind.DIFF])[-1].payload["diff"] == before
    with pytest.raises(fleetnb.ResumeError, match="is gone"):
        second.resume("carry on")
    with pytest.raises(fleetnb.WorktreeError, match="is gone"):
        second.diff()


def test_an_agent_without_worktree_has_no_diff(fleet: fleetnb.Fleet, repo: Path) -> None:
    agent = fleet.launch("t", harness="demo", cwd=repo, approvals="allow", options=FAST)
    with pytest.raises(fleetnb.WorktreeError, match="worktree=True"):
        agent.diff()


def test_a_fleet_rooted_in_the_repository_keeps_worktrees_out_of_it(repo: Path) -> None:
    fleet = fleetnb.Fleet(repo)
    sub = repo / "pkg"
    sub.mkdir()
    (sub / "mod.py").write_text("x = 1\n")
    _git(repo, "add", "pkg")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "pkg")
    agent = fleet.launch(
        "sub notes", harness="demo", cwd=sub, approvals="allow", options=FAST, worktree=True
    )
    assert Path(agent.record.cwd) == repo / ".fleetnb" / "worktrees" / agent.name / "pkg"
    assert agent.wait(timeout=30) is State.IDLE
    assert agent.stop() is State.STOPPED
    assert "+- sub notes" in agent.diff()
    assert "worktrees" not in _git(repo, "status", "--porcelain", "--untracked-files=all")
    agent.merge()
    assert (sub / "fleetnb-demo" / "sub-notes.md").read_text() == "- sub notes\n"
    agent.discard()
    fleet.close()
