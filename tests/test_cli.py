"""The `fleetnb` command as a shell user runs it: real processes, exit codes, messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def fleetnb(root: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fleetnb.cli", "--root", str(root), *args],
        capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


def test_launch_status_events_send_stop(tmp_path: Path, repo: Path) -> None:
    done = fleetnb(
        tmp_path, "launch", "cli task", "--harness", "demo", "--cwd", str(repo),
        "--name", "cli-agent", "--approvals", "allow", "--wait",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0] == "cli-agent"
    assert done.stdout.strip().endswith("idle")

    status = fleetnb(tmp_path, "status", "--json")
    (row,) = json.loads(status.stdout)
    assert (row["name"], row["state"], row["demo"]) == ("cli-agent", "idle", True)
    assert "cli-agent" in fleetnb(tmp_path, "status").stdout

    lines = fleetnb(tmp_path, "events", "cli-agent", "--json").stdout.splitlines()
    assert json.loads(lines[0])["kind"] == "launched"
    assert "turn_finished" in fleetnb(tmp_path, "events", "cli-agent").stdout

    assert fleetnb(tmp_path, "send", "cli-agent", "again").returncode == 0
    assert fleetnb(tmp_path, "wait", "cli-agent", "--timeout", "30").stdout.strip() == "idle"
    stopped = fleetnb(tmp_path, "stop", "cli-agent")
    assert (stopped.returncode, stopped.stdout.strip()) == (0, "stopped")
    refused = fleetnb(tmp_path, "send", "cli-agent", "more")
    assert refused.returncode == 1
    assert "has finished" in refused.stderr


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["events", "ghost"], 1, "no agent named 'ghost'"),
        (["launch", "t", "--harness", "nope"], 1, "no harness named 'nope'"),
        (["launch", "t", "--harness", "demo", "--cwd", "/nonexistent"], 1, "does not exist"),
        (["launch", "t", "--harness", "demo", "--env", "NOEQUALS"], 1, "KEY=VALUE"),
        (["launch", "t", "--approvals", "maybe"], 2, "invalid choice"),
        (["frobnicate"], 2, "invalid choice"),
    ],
)
def test_mistakes_exit_nonzero_with_a_message(
    tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    result = fleetnb(tmp_path, *args)
    assert result.returncode == code
    assert message in result.stderr


def test_status_of_an_empty_fleet_says_how_to_start(tmp_path: Path) -> None:
    assert "fleetnb launch" in fleetnb(tmp_path, "status").stdout


def test_quickstart_runs_the_demo_fleet(tmp_path: Path) -> None:
    result = fleetnb(tmp_path, "quickstart", "--dir", str(tmp_path / "qs"), timeout=120)
    assert result.returncode == 0, result.stderr
    assert "approved by the quickstart" in result.stdout
    notes = sorted(p.name for p in (tmp_path / "qs" / "fleetnb-demo").iterdir())
    assert notes == ["review-the-open-changes.md", "write-the-release-notes.md"]
