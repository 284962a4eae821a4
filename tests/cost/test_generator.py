"""The Claude Code log-tree generator: its ground truth is what an independent reader finds.

ccusage (pinned, installed by scripts/install-test-deps) reads a generated tree
and must find the generator's token sums to the token, per day, per model and
per session. The tree must also look like what the real CLI writes, and the
same seed must write the same bytes.
"""

from __future__ import annotations

import collections
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.claude_logs import LIMIT_TEXT, GroundTruth, Tokens, ccusage_json, generate_tree

LINES = 4_000


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GroundTruth]:
    root = tmp_path_factory.mktemp("claude-config")
    return root, generate_tree(root, lines=LINES, seed=11, days=6)


def _tokens(row: dict[str, Any]) -> tuple[int, int, int, int]:
    return (
        row["inputTokens"],
        row["outputTokens"],
        row["cacheCreationTokens"],
        row["cacheReadTokens"],
    )


def _expected(tokens: Tokens) -> tuple[int, int, int, int]:
    return (tokens.input, tokens.output, tokens.cache_write, tokens.cache_read)


def _lines(root: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in _raw(root)]


def _raw(root: Path) -> list[str]:
    return [line for path in sorted(root.rglob("*.jsonl")) for line in _file_lines(path)]


def _file_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_ccusage_finds_the_ground_truth_per_day_and_model(
    ccusage: str, tree: tuple[Path, GroundTruth], tmp_path: Path
) -> None:
    root, truth = tree
    report = ccusage_json(ccusage, root, tmp_path, "daily", "--timezone", "UTC")

    days = truth.days()
    assert [row["period"] for row in report["daily"]] == list(days)
    assert len(days) >= 5  # spread over days, not one
    for row in report["daily"]:
        assert _tokens(row) == _expected(days[row["period"]]), row["period"]
        models = {m["modelName"]: m for m in row["modelBreakdowns"]}
        assert set(row["modelsUsed"]) == set(models) == set(truth.by_day[row["period"]])
        for model, tokens in truth.by_day[row["period"]].items():
            assert _tokens(models[model]) == _expected(tokens), (row["period"], model)
    assert _tokens(report["totals"]) == _expected(truth.total())
    assert report["totals"]["totalTokens"] == truth.total().total
    assert len(truth.models()) >= 4


def test_ccusage_finds_the_ground_truth_per_session(
    ccusage: str, tree: tuple[Path, GroundTruth], tmp_path: Path
) -> None:
    root, truth = tree
    report = ccusage_json(ccusage, root, tmp_path, "session", "--timezone", "UTC")

    found = {row["period"]: _tokens(row) for row in report["session"]}
    assert found == {session: _expected(t) for session, t in truth.sessions().items()}


def test_the_tree_is_shaped_as_claude_code_writes_it(tree: tuple[Path, GroundTruth]) -> None:
    root, truth = tree
    raw = _raw(root)
    assert len(raw) == truth.lines == LINES
    assert all('"usage": ' not in line and '", "' not in line for line in raw)  # compact JSON
    lines = _lines(root)
    kinds = collections.Counter(line["type"] for line in lines)
    assert {"user", "assistant", "system", "summary"} <= set(kinds)

    responses = collections.defaultdict(list)
    for line in lines:
        if line["type"] == "assistant" and "requestId" in line:
            responses[(line["message"]["id"], line["requestId"])].append(line)
    assert len(responses) == truth.messages
    split = [group for group in responses.values() if len(group) > 1]
    assert len(split) > len(responses) // 4  # many responses span several lines
    for group in split:
        assert len({json.dumps(line["message"]["usage"]) for line in group}) == 1
        assert all(len(line["message"]["content"]) == 1 for line in group)

    subtypes = {line.get("subtype") for line in lines if line["type"] == "system"}
    assert "compact_boundary" in subtypes
    assert any(line.get("isCompactSummary") for line in lines)
    assert any(line["isSidechain"] for line in lines if "isSidechain" in line)
    assert list(root.rglob("subagents/agent-*.jsonl"))


def test_limit_lines_are_synthetic_and_in_the_ground_truth(tree: tuple[Path, GroundTruth]) -> None:
    root, truth = tree
    synthetic = [
        line
        for line in _lines(root)
        if line["type"] == "assistant" and line["message"]["model"] == "<synthetic>"
    ]
    assert all(line["isApiErrorMessage"] for line in synthetic)
    assert all(not any(_usage_numbers(line)) for line in synthetic)
    limits = [
        int(text.rpartition("|")[2])
        for line in synthetic
        if (text := line["message"]["content"][0]["text"]).startswith(LIMIT_TEXT.format(""))
    ]
    assert limits
    assert sorted(limits) == sorted(hit.resets_at for hit in truth.limit_hits)
    assert len(limits) < len(synthetic)  # API errors too, not only limits


def _usage_numbers(line: dict[str, Any]) -> list[int]:
    usage = line["message"]["usage"]
    return [usage[key] for key in ("input_tokens", "output_tokens", "cache_read_input_tokens")]


def test_some_responses_write_the_one_hour_cache(tree: tuple[Path, GroundTruth]) -> None:
    _, truth = tree
    total = truth.total()
    assert 0 < total.cache_write_1h < total.cache_write


def test_sessions_cross_midnight(tree: tuple[Path, GroundTruth]) -> None:
    root, _ = tree
    crossing = 0
    for path in root.rglob("*.jsonl"):
        days = {
            line["timestamp"][:10]
            for line in map(json.loads, _file_lines(path))
            if "timestamp" in line
        }
        crossing += len(days) > 1
    assert crossing > 0


def _digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.jsonl")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def test_the_same_seed_writes_the_same_tree(tmp_path: Path) -> None:
    first = generate_tree(tmp_path / "a", lines=1_500, seed=5)
    again = generate_tree(tmp_path / "b", lines=1_500, seed=5)
    other = generate_tree(tmp_path / "c", lines=1_500, seed=6)

    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert first == again
    assert _digest(tmp_path / "c") != _digest(tmp_path / "a")
    assert other.total() != first.total()
