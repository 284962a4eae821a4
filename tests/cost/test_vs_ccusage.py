"""fleetnb's cost reports against ccusage's on the same generated Claude Code log tree.

Both read one tree of a few thousand lines over several days and models; the
``fleetnb cost`` command runs as a user runs it (a process, a fresh fleet root,
the log directory given with ``--path``). Per period every token count must be
identical, the cost within 0.1 % (the two price tables round differently), the
models the same; and the totals must equal the generator's ground truth.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.claude_logs import GroundTruth, ccusage_json, generate_tree

TOKEN_FIELDS = ("inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens")
COST_TOLERANCE = 0.001


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GroundTruth]:
    root = tmp_path_factory.mktemp("claude-config")
    return root, generate_tree(root, lines=5_000, seed=2024, days=8)


@pytest.fixture(scope="module")
def fleet_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One fleet root for the module: the first report imports, later ones find nothing new."""
    return tmp_path_factory.mktemp("fleet")


def fleetnb_json(root: Path, tree: Path, command: str, *args: str) -> dict[str, Any]:
    """``fleetnb cost <command> --json`` over ``tree``, as a separate process."""
    argv = [sys.executable, "-m", "fleetnb.cli", "--root", str(root), "cost", command, "--json"]
    argv += ["--source", "claude", "--path", str(tree), *args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _tokens(row: dict[str, Any]) -> dict[str, int]:
    return {field: row[field] for field in TOKEN_FIELDS}


def _breakdown(row: dict[str, Any]) -> dict[str, dict[str, int]]:
    return {model["modelName"]: _tokens(model) for model in row["modelBreakdowns"]}


def assert_same_rows(ours: list[dict[str, Any]], theirs: list[dict[str, Any]]) -> None:
    """Per period: tokens identical (also per model), cost within 0.1 %, same models."""
    assert [row["period"] for row in ours] == [row["period"] for row in theirs]
    for mine, other in zip(ours, theirs, strict=True):
        period = mine["period"]
        assert _tokens(mine) == _tokens(other), period
        assert mine["totalTokens"] == other["totalTokens"], period
        assert sorted(mine["modelsUsed"]) == sorted(other["modelsUsed"]), period
        assert _breakdown(mine) == _breakdown(other), period
        assert mine["totalCost"] == pytest.approx(other["totalCost"], rel=COST_TOLERANCE), period


def assert_totals(report: dict[str, Any], truth: GroundTruth) -> None:
    total = truth.total()
    expected = [total.input, total.output, total.cache_write, total.cache_read]
    assert [report["totals"][field] for field in TOKEN_FIELDS] == expected
    assert report["totals"]["totalTokens"] == total.total


def test_daily_matches_ccusage_and_the_ground_truth(
    ccusage: str, tree: tuple[Path, GroundTruth], fleet_root: Path, tmp_path: Path
) -> None:
    logs, truth = tree
    theirs = ccusage_json(ccusage, logs, tmp_path, "daily", "--timezone", "UTC")
    ours = fleetnb_json(fleet_root, logs, "daily", "--timezone", "UTC")

    assert len(theirs["daily"]) >= 6
    assert_same_rows(ours["daily"], theirs["daily"])
    assert_totals(ours, truth)
    assert_totals(theirs, truth)
    cost = theirs["totals"]["totalCost"]
    assert ours["totals"]["totalCost"] == pytest.approx(cost, rel=COST_TOLERANCE)


def test_daily_in_another_timezone_matches_ccusage(
    ccusage: str, tree: tuple[Path, GroundTruth], fleet_root: Path, tmp_path: Path
) -> None:
    """Days are local days: Tokyo's midnight is 15:00 UTC, so every day shifts."""
    logs, truth = tree
    theirs = ccusage_json(ccusage, logs, tmp_path, "daily", "--timezone", "Asia/Tokyo")
    ours = fleetnb_json(fleet_root, logs, "daily", "--timezone", "Asia/Tokyo")

    assert_same_rows(ours["daily"], theirs["daily"])
    assert_totals(ours, truth)


def test_monthly_matches_ccusage(
    ccusage: str, tree: tuple[Path, GroundTruth], fleet_root: Path, tmp_path: Path
) -> None:
    logs, truth = tree
    theirs = ccusage_json(ccusage, logs, tmp_path, "monthly", "--timezone", "UTC")
    ours = fleetnb_json(fleet_root, logs, "monthly", "--timezone", "UTC")

    assert_same_rows(ours["monthly"], theirs["monthly"])
    assert_totals(ours, truth)


def test_sessions_match_ccusage(
    ccusage: str, tree: tuple[Path, GroundTruth], fleet_root: Path, tmp_path: Path
) -> None:
    """Per session too, subagents and resumed sessions' replayed lines included."""
    logs, truth = tree
    theirs = ccusage_json(ccusage, logs, tmp_path, "session", "--timezone", "UTC")
    ours = fleetnb_json(fleet_root, logs, "session", "--timezone", "UTC")

    by_period = {row["period"]: row for row in theirs["session"]}
    assert {row["period"] for row in ours["session"]} == set(by_period)
    ordered = [by_period[row["period"]] for row in ours["session"]]
    assert_same_rows(ours["session"], ordered)
    expected = {session: tokens.total for session, tokens in truth.sessions().items()}
    assert {row["period"]: row["totalTokens"] for row in ours["session"]} == expected
    assert_totals(ours, truth)


def test_a_fresh_root_and_a_warm_one_report_the_same(
    tree: tuple[Path, GroundTruth], fleet_root: Path, tmp_path: Path
) -> None:
    """The incremental import adds nothing the second time: the same report, fresh or warm."""
    logs, truth = tree
    fresh = fleetnb_json(tmp_path / "fresh", logs, "daily", "--timezone", "UTC")
    warm = fleetnb_json(tmp_path / "fresh", logs, "daily", "--timezone", "UTC")

    assert warm == fresh
    assert_totals(warm, truth)


def _import(root: Path, tree: Path) -> dict[str, Any]:
    return fleetnb_json(root, tree, "import")


def test_the_import_reads_every_line_once_and_finds_every_limit_hit(
    tree: tuple[Path, GroundTruth], tmp_path: Path
) -> None:
    logs, truth = tree
    first = _import(tmp_path, logs)
    again = _import(tmp_path, logs)

    assert (first["files_seen"], first["files_read"]) == (truth.files, truth.files)
    assert first["lines_read"] == truth.lines
    assert first["skipped"] == {}
    assert first["limits"] == len(truth.limit_hits)
    assert (again["files_unchanged"], again["lines_read"], again["records"]) == (truth.files, 0, 0)
    with sqlite3.connect(tmp_path / ".fleetnb" / "fleet.db") as db:
        resets = sorted(row[0] for row in db.execute("SELECT resets_at FROM limit_hits"))
    assert resets == sorted(hit.resets_at for hit in truth.limit_hits)
