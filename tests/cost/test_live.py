"""``Fleet.costs()`` on real agents: figures folded fresh from the events, fleetnb's
price next to the harness's own, price sources named, unpriced tokens kept."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import fleetnb
from fleetnb import Agent, EventKind, State
from fleetnb.cost.live import COST_COLUMNS
from fleetnb.cost.prices import price_usage
from fleetnb.cost.rates import OVERRIDES_FILE
from tests.conftest import stop_running
from tests.fakes import anthropic as claude_api
from tests.fakes import openai_responses as openai_api
from tests.harnesses.conftest import CODEX_MODEL, MODEL, ClaudeLauncher, CodexLauncher

pytestmark = pytest.mark.timeout(120)

WAIT_S = 60.0
FAST = {"step_delay": 0.02}


def until(check: Callable[[], bool], what: str, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def row_of(fleet: fleetnb.Fleet, agent: Agent) -> dict[str, Any]:
    frame = fleet.costs()
    assert list(frame.columns) == list(COST_COLUMNS)
    rows = frame[frame["id"] == agent.id].to_dict("records")
    assert len(rows) == 1
    return {str(key): value for key, value in rows[0].items()}


# -- the demo harness ------------------------------------------------------------------


def test_costs_follow_the_events_and_demo_usage_says_it_is_synthetic(
    fleet: fleetnb.Fleet, repo: Path
) -> None:
    agent = fleet.launch(
        "take notes", harness="demo", cwd=repo, model="claude-sonnet-4-5", approvals="allow",
        options=FAST,
    )  # fmt: skip
    assert agent.wait(WAIT_S) is State.IDLE
    first = row_of(fleet, agent)
    assert (first["agent"], first["harness"], first["task"]) == (agent.name, "demo", "take notes")
    assert (first["input_tokens"], first["output_tokens"]) == (120 + 240, 80)
    calls = [{"input_tokens": 120 * k, "output_tokens": 40} for k in (1, 2)]
    expected = sum(price_usage(c, "claude-sonnet-4-5", "demo").cost_usd or 0.0 for c in calls)
    assert first["priced_cost_usd"] == pytest.approx(expected)
    assert first["cost_usd"] == first["priced_cost_usd"]
    assert math.isnan(first["reported_cost_usd"])
    assert math.isnan(first["cost_difference_usd"])
    assert first["priced_by"] == "demo (synthetic) at genai-prices 0.2.3 (claude-sonnet-4-5)"
    assert first["unpriced_tokens"] == 0
    assert math.isnan(first["budget_usd"])
    assert agent.usage.total_tokens == first["total_tokens"]
    assert agent.cost_usd == first["cost_usd"]

    agent.send("more notes")
    until(lambda: len(agent.events(kinds=(EventKind.TURN_FINISHED,))) == 2, "the second turn")
    second = row_of(fleet, agent)
    assert second["input_tokens"] == 120 + 240 + 360 + 480
    assert second["priced_cost_usd"] > first["priced_cost_usd"]
    assert agent.usage.total_tokens == second["total_tokens"]


def test_a_demo_without_a_model_costs_nothing_and_is_not_unpriced(
    fleet: fleetnb.Fleet, repo: Path
) -> None:
    agent = fleet.launch("note", harness="demo", cwd=repo, approvals="allow", options=FAST)
    assert agent.wait(WAIT_S) is State.IDLE
    row = row_of(fleet, agent)
    assert row["total_tokens"] > 0
    assert (row["priced_cost_usd"], row["priced_by"], row["unpriced_tokens"]) == (
        0.0, "demo (synthetic)", 0,
    )  # fmt: skip


def test_price_overrides_from_the_fleet_file_or_prices_argument(tmp_path: Path, repo: Path) -> None:
    root = tmp_path / "root"
    (root / OVERRIDES_FILE).parent.mkdir(parents=True)
    (root / OVERRIDES_FILE).write_text('[models."demo-*"]\ninput = 1000\noutput = 2000\n')
    elsewhere = tmp_path / "negotiated.toml"
    elsewhere.write_text('[models."claude-sonnet-4-5"]\ninput = 1\noutput = 1\n')
    fleet = fleetnb.Fleet(root)
    argued = fleetnb.Fleet(root, prices=elsewhere)
    try:
        by_file = fleet.launch("a", harness="demo", cwd=repo, approvals="allow", options=FAST)
        by_arg = argued.launch(
            "b", harness="demo", cwd=repo, model="claude-sonnet-4-5", approvals="allow",
            options=FAST,
        )  # fmt: skip
        assert by_file.wait(WAIT_S) is State.IDLE
        assert by_arg.wait(WAIT_S) is State.IDLE
        file_row, arg_row = row_of(fleet, by_file), row_of(fleet, by_arg)
        assert file_row["priced_by"] == "demo (synthetic) at override prices.toml (demo-*)"
        assert file_row["priced_cost_usd"] == pytest.approx((360 * 1000 + 80 * 2000) / 1e6)
        assert arg_row["priced_by"] == (
            "demo (synthetic) at override negotiated.toml (claude-sonnet-4-5)"
        )
        assert arg_row["priced_cost_usd"] == pytest.approx((360 + 80) / 1e6)
    finally:
        for each in (fleet, argued):
            stop_running(each)
            each.close()


def test_a_malformed_price_file_is_refused_before_anything_is_written(
    tmp_path: Path, repo: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[models."x"]\ninput = "cheap"\noutput = 1\n')
    with pytest.raises(fleetnb.FleetError, match="input must be a number"):
        fleetnb.Fleet(tmp_path / "root", prices=bad)
    assert not (tmp_path / "root").exists()

    root = tmp_path / "other"
    fleet = fleetnb.Fleet(root)
    try:
        (root / OVERRIDES_FILE).write_bytes(bad.read_bytes())  # the fleet's own file
        with pytest.raises(fleetnb.FleetError, match="input must be a number"):
            fleet.launch("a", harness="demo", cwd=repo)
        assert fleet.store.agents() == []
    finally:
        fleet.close()


# -- the real CLIs ---------------------------------------------------------------------


def test_claude_priced_and_reported_cost_side_by_side(
    launch_claude: ClaudeLauncher, anthropic: claude_api.FakeAnthropic, fleet: fleetnb.Fleet
) -> None:
    usage = claude_api.FakeUsage(2_000, 300, 400, 5_000)
    anthropic.add(claude_api.Text("Done.", usage))
    agent = launch_claude("say done")
    assert agent.wait(WAIT_S) is State.IDLE
    row = row_of(fleet, agent)
    tokens = {
        "input_tokens": 2_000, "output_tokens": 300, "cache_write_tokens": 400,
        "cache_read_tokens": 5_000,
    }  # fmt: skip
    priced = price_usage(tokens, MODEL, "claude")
    assert priced.cost_usd is not None
    assert row["priced_cost_usd"] == pytest.approx(priced.cost_usd)
    assert row["priced_by"] == priced.priced_by
    (finished,) = [e.payload for e in agent.events(kinds=(EventKind.TURN_FINISHED,))]
    assert row["reported_cost_usd"] == finished["session_cost_usd"]
    assert row["cost_usd"] == row["reported_cost_usd"]
    assert row["cost_difference_usd"] == pytest.approx(
        row["reported_cost_usd"] - row["priced_cost_usd"]
    )
    assert abs(row["cost_difference_usd"]) < 1e-9  # the CLI's list price is genai-prices' here


def test_claude_with_a_model_nobody_prices_keeps_its_tokens_unpriced(
    launch_claude: ClaudeLauncher, anthropic: claude_api.FakeAnthropic, fleet: fleetnb.Fleet
) -> None:
    anthropic.add(claude_api.Text("Done.", claude_api.FakeUsage(700, 70)))
    agent = launch_claude("say done", model="claude-nonesuch-9")
    assert agent.wait(WAIT_S) is State.IDLE
    row = row_of(fleet, agent)
    assert row["priced_cost_usd"] == 0.0
    assert row["unpriced_tokens"] == 770
    assert row["priced_by"].startswith("unpriced: 'claude-nonesuch-9' is not in genai-prices")


def test_codex_usage_is_priced_by_fleetnb(
    launch_codex: CodexLauncher, fake: openai_api.FakeResponses, fleet: fleetnb.Fleet
) -> None:
    fake.add(openai_api.Text("hello", openai_api.FakeUsage(3_000, 1_000, 250)))
    agent = launch_codex("say hello")
    assert agent.wait(WAIT_S) is State.IDLE
    row = row_of(fleet, agent)
    tokens = {"input_tokens": 2_000, "cache_read_tokens": 1_000, "output_tokens": 250}
    priced = price_usage(tokens, CODEX_MODEL, "codex")
    assert priced.cost_usd is not None
    assert priced.priced_by.startswith("genai-prices")
    assert (row["input_tokens"], row["cache_read_tokens"], row["output_tokens"]) == (
        2_000, 1_000, 250,
    )  # fmt: skip
    assert row["priced_cost_usd"] == pytest.approx(priced.cost_usd)
    assert row["priced_by"] == priced.priced_by
    assert math.isnan(row["reported_cost_usd"])
    assert row["cost_usd"] == row["priced_cost_usd"]
