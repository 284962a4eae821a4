"""One git worktree per agent: isolated edits, reviewed as a diff, merged or discarded.

``Fleet.launch(..., worktree=True)`` makes a worktree on a new branch
``fleetnb/<agent name>`` under ``<root>/.fleetnb/worktrees/<agent name>``, off the
repository's HEAD, and runs the agent there. Its changes are compared with that
base commit (uncommitted and untracked files included, read through a scratch
index so the agent's own index is never touched), committed on the branch and
merged into whatever the repository has checked out. A conflicting merge is
aborted and reported with the files it named; the branch and worktree stay.
Everything here is plain ``git`` run as a subprocess.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fleetnb.errors import LaunchError, WorktreeError

__all__ = ["Worktree", "create_worktree", "head_commit"]

# Used only where the repository has no identity configured for commits.
_IDENTITY = ("-c", "user.name=fleetnb", "-c", "user.email=fleetnb@localhost")


@dataclasses.dataclass(frozen=True, slots=True)
class Worktree:
    """Where an agent's worktree lives, its branch, and the commit it started from."""

    repo: Path
    path: Path
    branch: str
    base: str

    def to_dict(self) -> dict[str, str]:
        return {"repo": str(self.repo), "path": str(self.path), "branch": self.branch,
                "base": self.base}  # fmt: skip

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Worktree:
        return cls(Path(data["repo"]), Path(data["path"]), str(data["branch"]), str(data["base"]))

    def diff(self) -> str:
        """The unified diff of the worktree (committed or not, new files too) against ``base``."""
        self._require_present()
        with tempfile.TemporaryDirectory() as scratch:
            env = {**os.environ, "GIT_INDEX_FILE": str(Path(scratch) / "index")}
            _git(self.path, "read-tree", "HEAD", env=env)
            _git(self.path, "add", "-A", env=env)
            return _git(self.path, "diff", "--cached", "--binary", self.base, env=env).stdout

    def commit(self, message: str) -> str | None:
        """Commit everything in the worktree on its branch; the new commit, or None if clean."""
        self._require_present()
        _git(self.path, "add", "-A")
        if _git(self.path, "diff", "--cached", "--quiet", check=False).returncode == 0:
            return None
        _git(self.path, *_identity(self.path), "commit", "-q", "-m", message)
        return _git(self.path, "rev-parse", "HEAD").stdout.strip()

    def merge(self, message: str) -> str:
        """Merge the branch into the repository's checked-out branch; the resulting HEAD.

        A conflict aborts the merge and raises :class:`WorktreeError` naming the files.
        """
        result = _git(
            self.repo, *_identity(self.repo), "merge", "--no-ff", "-m", message, self.branch,
            check=False,
        )  # fmt: skip
        if result.returncode != 0:
            files = _conflicted(self.repo)
            _git(self.repo, "merge", "--abort", check=False)
            raise WorktreeError(_merge_failure(self.branch, files, result), files=files)
        return _git(self.repo, "rev-parse", "HEAD").stdout.strip()

    def remove(self) -> None:
        """Remove the worktree directory and delete its branch."""
        if self.path.exists():
            _git(self.repo, "worktree", "remove", "--force", str(self.path))
        _git(self.repo, "worktree", "prune")
        if _branch_exists(self.repo, self.branch):
            _git(self.repo, "branch", "-D", self.branch)

    def _require_present(self) -> None:
        if not self.path.is_dir():
            raise WorktreeError(
                f"the worktree {self.path} is gone (discarded?); its branch was {self.branch}"
            )


def create_worktree(cwd: Path, root: Path, name: str) -> tuple[Worktree, Path]:
    """Make the agent's worktree; returns it and the agent's cwd inside it.

    Raises :class:`LaunchError` (and makes nothing) when ``cwd`` is not in a git
    repository with a commit, or the branch or directory already exists.
    """
    top = _git_or_launch_error(cwd, ["rev-parse", "--show-toplevel"], cwd)
    repo = Path(top).resolve()
    base = _git_or_launch_error(repo, ["rev-parse", "--verify", "HEAD^{commit}"], cwd)
    branch = f"fleetnb/{name}"
    path = root / ".fleetnb" / "worktrees" / name
    if _branch_exists(repo, branch) or path.exists():
        raise LaunchError(
            f"branch {branch} or directory {path} already exists; pick another agent name "
            "or remove them (agent.discard() does)"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    # A fleet rooted inside the repository must not offer the worktrees to `git add`.
    (path.parent / ".gitignore").write_text("*\n")
    _git_or_launch_error(repo, ["worktree", "add", "-q", "-b", branch, str(path), base], cwd)
    inside = path / cwd.resolve().relative_to(repo)
    return Worktree(repo, path, branch, base), inside


def head_commit(cwd: str | os.PathLike[str]) -> str | None:
    """The commit checked out in ``cwd``; None outside a repository, before its first
    commit, or without git."""
    try:
        result = _git(Path(cwd), "rev-parse", "--verify", "--quiet", "HEAD", check=False)
    except WorktreeError:
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


def _git(
    cwd: Path, *args: str, check: bool = True, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    try:
        result = subprocess.run(
            ["git", "-C", str(cwd), *args],
            capture_output=True, text=True, env=dict(env) if env else None, check=False,
        )  # fmt: skip
    except FileNotFoundError as exc:
        raise WorktreeError("`git` was not found on PATH; install git") from exc
    if check and result.returncode != 0:
        raise WorktreeError(
            f"git {' '.join(args)} failed in {cwd}: {result.stderr.strip() or result.stdout}"
        )
    return result


def _git_or_launch_error(repo: Path, args: Sequence[str], cwd: Path) -> str:
    try:
        result = _git(repo, *args, check=False)
    except WorktreeError as exc:
        raise LaunchError(str(exc)) from exc
    if result.returncode != 0:
        raise LaunchError(
            f"worktree=True needs cwd {str(cwd)!r} inside a git repository with at least "
            f"one commit (git {' '.join(args)}: {result.stderr.strip()}); run `git init` "
            "and commit, or launch without worktree=True"
        )
    return result.stdout.strip()


def _branch_exists(repo: Path, branch: str) -> bool:
    result = _git(repo, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}", check=False)
    return result.returncode == 0


def _identity(repo: Path) -> tuple[str, ...]:
    configured = _git(repo, "config", "user.email", check=False).stdout.strip()
    return () if configured else _IDENTITY


def _conflicted(repo: Path) -> list[str]:
    out = _git(repo, "diff", "--name-only", "--diff-filter=U", check=False).stdout
    return [line for line in out.splitlines() if line]


def _merge_failure(branch: str, files: list[str], result: subprocess.CompletedProcess[str]) -> str:
    if files:
        return (
            f"merging {branch} conflicts in {', '.join(files)}; the merge was aborted and "
            f"the branch and worktree are untouched: resolve by hand (git merge {branch}) "
            "or discard() the agent"
        )
    detail = (result.stderr or result.stdout).strip()
    return (
        f"merging {branch} failed: {detail}; the branch and worktree are untouched "
        "(commit or stash the repository's own changes, then merge again)"
    )
