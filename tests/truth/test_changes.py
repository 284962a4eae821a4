"""Checking an agent's changes: only changed lines count, in real git repositories."""

from __future__ import annotations

import subprocess
from pathlib import Path

from fleetnb.truth.changes import (
    MAX_FINDINGS_KEPT,
    ChangeChecker,
    changed_lines,
    report_of,
    summary,
    written_paths,
)
from fleetnb.truth.findings import CheckReport, Finding
from fleetnb.worktree import head_commit

CLIENT = "from stripe import StripeClient\nclient = StripeClient('sk_test_1')\n"
OLD_BAD = "client.v1.customers.fetch('cus_old')\n"  # in the repository before the agent
NEW_BAD = "client.v1.customers.remove('cus_new')\n"


def _git(repo: Path, *args: str) -> None:
    base = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*base, *args], check=True, capture_output=True)


def _committed(repo: Path, name: str, text: str) -> str:
    (repo / name).write_text(text)
    _git(repo, "add", name)
    _git(repo, "commit", "-qm", f"add {name}")
    head = head_commit(repo)
    assert head is not None
    return head


def test_changed_lines_are_the_added_ones_and_new_files_count_whole(repo: Path) -> None:
    base = _committed(repo, "app.py", "a = 1\nb = 2\nc = 3\n")
    (repo / "app.py").write_text("a = 1\nb = 20\nc = 3\nd = 4\n")
    (repo / "new.py").write_text("x = 1\n")
    (repo / "notes.txt").write_text("not code\n")  # no extractor: not checked
    assert changed_lines(repo, base) == {"app.py": {2, 4}, "new.py": None}


def test_a_file_with_only_deleted_lines_has_nothing_to_check(repo: Path) -> None:
    base = _committed(repo, "app.py", "a = 1\nb = 2\n")
    (repo / "app.py").write_text("a = 1\n")
    assert changed_lines(repo, base) == {}


def test_only_findings_on_the_agents_lines_are_kept(repo: Path) -> None:
    base = _committed(repo, "pay.py", CLIENT + OLD_BAD)
    (repo / "pay.py").write_text(CLIENT + OLD_BAD + NEW_BAD)
    checker = ChangeChecker(repo, base)
    payload = checker.check("edit")
    assert payload is not None
    assert (payload["errors"], payload["files"], payload["base"]) == (1, ["pay.py"], base)
    (finding,) = payload["findings"]
    assert (finding["path"], finding["line"], finding["suggestion"]) == ("pay.py", 4, "delete")
    assert checker.check("turn") is None  # nothing changed since: no second event
    (repo / "pay.py").write_text(CLIENT + OLD_BAD + "client.v1.customers.delete('cus_new')\n")
    fixed = checker.check("turn")
    assert fixed is not None
    assert (fixed["errors"], fixed["findings"]) == (0, [])


def test_without_a_repository_the_written_files_are_checked_whole(tmp_path: Path) -> None:
    (tmp_path / "pay.py").write_text(CLIENT + OLD_BAD)
    (tmp_path / "other.py").write_text(CLIENT + NEW_BAD)  # not written by the agent
    outside = tmp_path.parent / "elsewhere.py"
    checker = ChangeChecker(tmp_path, None)
    payload = checker.check("edit", [str(tmp_path / "pay.py"), str(outside), "missing.py"])
    assert payload is not None
    assert [(f["path"], f["line"]) for f in payload["findings"]] == [("pay.py", 3)]


def test_a_file_that_does_not_parse_is_a_problem_not_a_failure(repo: Path) -> None:
    base = head_commit(repo)
    assert base is not None
    (repo / "broken.py").write_text("def broken(:\n")
    report, payload = ChangeChecker(repo, base).check_now()
    assert report.findings == []
    assert payload["trigger"] == "manual"
    (problem,) = payload["problems"]
    assert problem.startswith("broken.py:1: does not parse")


def test_outside_a_repository_head_is_none(tmp_path: Path) -> None:
    assert head_commit(tmp_path) is None


def test_a_payload_keeps_the_first_findings_and_rebuilds_into_a_report() -> None:
    many = [
        Finding("a.py", line, 1, "client.v1.x", "unknown_method", "error", "no x", "y")
        for line in range(1, MAX_FINDINGS_KEPT + 11)
    ]
    payload = summary(CheckReport(findings=many, calls_checked=3), trigger="turn")
    assert (payload["errors"], payload["findings_omitted"]) == (MAX_FINDINGS_KEPT + 10, 10)
    rebuilt = report_of(payload)
    assert rebuilt.findings == many[:MAX_FINDINGS_KEPT]
    assert rebuilt.calls_checked == 3
    assert "a.py:1:1 (error) no x Use `y` instead." in rebuilt.as_prompt()


def test_written_paths_read_each_harness_spelling() -> None:
    assert written_paths({"file_path": "a.py", "content": "x"}) == ["a.py"]
    assert written_paths({"paths": ["a.py", 3, "b.ts"]}) == ["a.py", "b.ts"]
    assert written_paths("not a mapping") == []


def test_no_changed_source_file_means_no_check(repo: Path) -> None:
    base = head_commit(repo)
    assert base is not None
    (repo / "notes.md").write_text("# not code\n")
    assert ChangeChecker(repo, base).check("edit") is None
