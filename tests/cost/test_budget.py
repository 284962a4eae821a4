"""Budgets stop real agents: the demo harness (synthetic usage, priced through the
same path as real usage), and the real Claude Code and Codex CLIs against fake APIs."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import pytest

import fleetnb
from fleetnb import Agent, BudgetError, EventKind, FleetError, State
from fleetnb.cli import main as cli_main
from fleetnb.cost.prices import price_event, price_usage
from fleetnb.store import EventStore, store_path
from tests.conftest import stop_running, until
from tests.fakes.anthropic import FakeAnthropic, FakeUsage, Text, ToolUse
from tests.fakes.openai_responses import FakeResponses, Shell
from tests.fakes.openai_responses import FakeUsage as ResponsesUsage
from tests.fakes.openai_responses import Text as ResponsesText
from tests.harnesses.conftest import CODEX_MODEL, MODEL, ClaudeLauncher, CodexLauncher

pytestmark = pytest.mark.timeout(120)

WAIT_S = 60.0
# The demo's synthetic tokens are priced at this model's rates.
PRICED_AS = "claude-sonnet-4-5"
FAST = {"step_delay": 0.02}


def demo_call_costs(calls: int) -> list[float]:
    """What the demo's k-th model call costs: it sends 120*k input and 40 output tokens."""
    costs = []
    for k in range(1, calls + 1):
        usage = {"input_tokens": 120 * k, "output_tokens": 40, "synthetic": True}
        price = price_event(usage, "demo-scripted", "demo", demo_model=PRICED_AS)
        assert price.cost_usd is not None
        assert price.cost_usd > 0
        costs.append(price.cost_usd)
    return costs


def launch_demo(fleet: fleetnb.Fleet, repo: Path, **kwargs: Any) -> Agent:
    return fleet.launch(
        "take notes", harness="demo", cwd=repo, model=PRICED_AS, approvals="allow",
        options=FAST, **kwargs,
    )  # fmt: skip


def final(agent: Agent) -> State:
    until(lambda: agent.state.is_final, f"{agent.name} to end", timeout=WAIT_S)
    return agent.state


def budget_seen_by_a_new_fleet(root: Path) -> float | None:
    later = fleetnb.Fleet(root)
    try:
        return later.budget_usd
    finally:
        later.close()


def payloads(agent: Agent, kind: str) -> list[dict[str, Any]]:
    return [dict(event.payload) for event in agent.events(kinds=(kind,))]


# -- bad values ------------------------------------------------------------------

BAD_BUDGETS = [0, 0.0, -1, -0.01, math.nan, math.inf, -math.inf, True, False, "5", [5]]


@pytest.mark.parametrize("value", BAD_BUDGETS, ids=repr)
def test_a_bad_fleet_budget_is_refused_before_the_store_exists(
    tmp_path: Path, value: object
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    with pytest.raises(BudgetError, match=r"budget_usd") as caught:
        fleetnb.Fleet(root, budget_usd=value)  # type: ignore[arg-type]
    assert isinstance(caught.value, FleetError)
    assert isinstance(caught.value, ValueError)
    assert not store_path(root).exists()


@pytest.mark.parametrize("value", BAD_BUDGETS, ids=repr)
def test_a_bad_agent_budget_is_refused_and_nothing_is_written(
    fleet: fleetnb.Fleet, repo: Path, value: object
) -> None:
    with pytest.raises(BudgetError, match=r"launch\(budget_usd=\.\.\.\)"):
        launch_demo(fleet, repo, budget_usd=value)
    assert fleet.store.agents() == []


def test_the_cli_takes_a_budget_and_refuses_a_bad_one(
    tmp_path: Path, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "cli-root"
    root.mkdir()
    base = ["--root", str(root), "launch", "note things", "--harness", "demo", "--cwd", str(repo),
            "--approvals", "allow"]  # fmt: skip
    assert cli_main([*base, "--budget", "-2"]) == 1
    assert "positive, finite number of dollars" in capsys.readouterr().err
    assert cli_main([*base, "--budget", "0.25", "--wait"]) == 0
    fleet = fleetnb.Fleet(root)
    try:
        (agent,) = fleet.agents
        assert agent.status().budget_usd == 0.25
        assert fleet.status().loc[0, "budget_usd"] == 0.25
    finally:
        stop_running(fleet)
        fleet.close()


# -- an agent's budget -------------------------------------------------------------


def test_a_demo_agent_warns_at_80_percent_then_stops_at_its_budget(
    fleet: fleetnb.Fleet, repo: Path
) -> None:
    costs = demo_call_costs(4)
    budget = sum(costs[:3]) / 0.9  # the third call reaches 90 %, the fourth passes 100 %
    assert sum(costs[:2]) < 0.8 * budget < sum(costs[:3]) < budget < sum(costs)
    agent = launch_demo(fleet, repo, budget_usd=budget)
    assert agent.wait(WAIT_S) is State.IDLE  # first turn: two calls, 52 %
    assert payloads(agent, EventKind.BUDGET_WARNING) == []

    agent.send("and some more")
    assert final(agent) is State.STOPPED
    status = agent.status()
    assert status.reason == "budget"
    assert status.finished is not None
    assert status.finished["status"] == "stopped"
    (warning,) = payloads(agent, EventKind.BUDGET_WARNING)
    assert warning["scope"] == "agent"
    assert warning["budget_usd"] == pytest.approx(budget)
    assert warning["spent_usd"] == pytest.approx(sum(costs[:3]))
    (stop,) = payloads(agent, EventKind.STOP_REQUESTED)
    assert (stop["by"], stop["reason"], stop["scope"]) == ("budget", "budget", "agent")
    assert stop["spent_usd"] == pytest.approx(sum(costs))
    # Stopped right after the model call that crossed the budget: no call after it.
    kinds = [event.kind for event in agent.events()]
    assert kinds.count(EventKind.USAGE) == 4
    assert kinds.index(EventKind.BUDGET_WARNING) > _nth(kinds, EventKind.USAGE, 3)
    assert kinds.index(EventKind.STOP_REQUESTED) > _nth(kinds, EventKind.USAGE, 4)
    assert status.spent_usd == pytest.approx(sum(costs))
    row = fleet.status().set_index("name").loc[agent.name]
    assert (row["budget_usd"], row["spent_usd"]) == (pytest.approx(budget), status.spent_usd)
    assert f"${status.spent_usd:.4f} / ${budget:.4f}" in str(fleet)  # the table's cost cell
    with pytest.raises(BudgetError, match=r"agent budget .* is spent"):
        agent.resume("go on")


def _nth(kinds: list[str], kind: str, n: int) -> int:
    return [i for i, k in enumerate(kinds) if k == kind][n - 1]


# -- the fleet's budget --------------------------------------------------------------


def test_a_fleet_budget_covers_its_agents_and_stops_each_at_its_next_usage(
    tmp_path: Path, repo: Path
) -> None:
    root = tmp_path / "budgeted"
    root.mkdir()
    bystander_fleet = fleetnb.Fleet(root)
    before = launch_demo(bystander_fleet, repo, name="before")  # launched with no fleet budget
    assert before.wait(WAIT_S) is State.IDLE

    costs = demo_call_costs(2)
    budget = (sum(costs) + costs[0]) / 0.9  # a's turn, then b's first call reaches 90 %
    assert 2 * sum(costs) > budget
    fleet = fleetnb.Fleet(root, budget_usd=budget)
    try:
        assert budget_seen_by_a_new_fleet(root) == budget
        a = launch_demo(fleet, repo, name="a")
        assert a.wait(WAIT_S) is State.IDLE
        assert fleet.spent_usd == pytest.approx(sum(costs))  # "before" is not covered

        b = launch_demo(fleet, repo, name="b")
        assert final(b) is State.STOPPED
        assert b.status().reason == "budget"
        (warning,) = payloads(b, EventKind.BUDGET_WARNING)
        assert (warning["scope"], warning["spent_usd"]) == ("fleet", pytest.approx(budget * 0.9))
        (stop,) = payloads(b, EventKind.STOP_REQUESTED)
        assert (stop["by"], stop["scope"]) == ("budget", "fleet")
        assert a.state is State.IDLE  # a has made no model call since

        with pytest.raises(BudgetError, match=r"fleet budget .* is spent") as refused:
            launch_demo(fleet, repo, name="c")
        assert refused.value.scope == "fleet"
        assert [r.name for r in fleet.store.agents()] == ["before", "a", "b"]

        a.send("one more thing")  # a's runner finds the fleet budget spent: no more calls
        assert final(a) is State.STOPPED
        assert a.status().reason == "budget"
        assert len(payloads(a, EventKind.USAGE)) == 2
        assert payloads(a, EventKind.BUDGET_WARNING) == []  # the fleet warned once, on b
        assert [p["scope"] for p in payloads(a, EventKind.STOP_REQUESTED)] == ["fleet"]

        before.send("an agent outside the budget keeps working")
        until(
            lambda: len(payloads(before, EventKind.TURN_FINISHED)) == 2,
            "before's turn",
            timeout=WAIT_S,
        )
        assert not before.state.is_final

        fleet.set_budget(budget * 10)  # raising the amount keeps the agents it covers
        assert fleet.spent_usd == pytest.approx(sum(costs) * 2)
        fleet.set_budget(None)
        assert budget_seen_by_a_new_fleet(root) is None
        assert launch_demo(fleet, repo, name="d").wait(WAIT_S) is State.IDLE
    finally:
        stop_running(fleet)
        fleet.close()
        bystander_fleet.close()


def test_a_fleet_budget_lives_in_the_store_not_in_the_object(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    fleetnb.Fleet(root, budget_usd=2).close()
    store = EventStore(store_path(root))
    try:
        assert store.setting("fleet_budget") is not None
    finally:
        store.close()
    again = fleetnb.Fleet(root, budget_usd=2)
    assert again.budget_usd == 2.0
    again.close()


# -- the real Claude Code CLI -----------------------------------------------------------


def test_a_budget_stops_claude_between_model_calls(
    launch_claude: ClaudeLauncher, anthropic: FakeAnthropic, repo: Path
) -> None:
    # claude-sonnet-4-5: $3 in, $15 out per million tokens. Each call: $0.30 + $0.015.
    big = FakeUsage(input_tokens=100_000, output_tokens=1_000)
    per_call = (100_000 * 3 + 1_000 * 15) / 1e6
    budget = per_call / 0.9  # the first call reaches 90 %, the second passes 100 %
    never = repo / "never.txt"
    anthropic.add(
        ToolUse("Read", {"file_path": str(repo / "README.md")}, usage=big),
        # The response that spends the budget asks for a tool that needs permission:
        # the runner holds that request, so the CLI cannot go on even before it dies.
        ToolUse("Write", {"file_path": str(never), "content": "x"}, usage=big),
        Text("Done.", big),
    )
    agent = launch_claude("read the readme, then write a file", budget_usd=budget)
    assert final(agent) is State.STOPPED
    asked = len(anthropic.requests)
    time.sleep(3)  # long enough for a third model call to arrive, were the CLI alive

    status = agent.status()
    assert status.reason == "budget"
    sent = [(r.method, r.path, r.turn) for r in anthropic.requests]
    assert len(anthropic.turn_requests) == 2, sent
    assert len(anthropic.requests) == asked, sent
    assert not never.exists()
    assert payloads(agent, EventKind.APPROVAL_DECIDED) == []
    usage = payloads(agent, EventKind.USAGE)
    assert [u["cost_usd"] for u in usage] == [pytest.approx(per_call)] * 2
    # The dated id the CLI reports resolves to genai-prices' own id for the model.
    assert {u["model"] for u in usage} == {MODEL}
    assert {u["priced_by"] for u in usage} == {"genai-prices 0.2.3 (claude-sonnet-4-5)"}
    (warning,) = payloads(agent, EventKind.BUDGET_WARNING)
    assert warning["spent_usd"] == pytest.approx(per_call)
    (stop,) = payloads(agent, EventKind.STOP_REQUESTED)
    assert (stop["by"], stop["reason"], stop["spent_usd"]) == (
        "budget", "budget", pytest.approx(2 * per_call),
    )  # fmt: skip
    assert payloads(agent, EventKind.TURN_FINISHED) == []  # stopped inside the turn


# -- the real Codex CLI -------------------------------------------------------------------


def test_a_budget_stops_codex_at_most_one_model_call_late(
    launch_codex: CodexLauncher, fake: FakeResponses, repo: Path
) -> None:
    """Codex reports a response's token usage late: in runs here the notification came
    after codex had run the response's tool and sent its next request. So the stop
    lands at that usage event, and one more call may already be under way."""
    big = ResponsesUsage(input_tokens=100_000, output_tokens=1_000)
    tokens = {"input_tokens": 100_000, "output_tokens": 1_000}
    per_call = price_usage(tokens, CODEX_MODEL, "codex").cost_usd
    assert per_call is not None
    fake.add(
        Shell("echo one > one.txt", escalate=True, usage=big),
        Shell("echo two > two.txt", escalate=True, usage=big),
        Shell("echo three > three.txt", escalate=True, usage=big),
        ResponsesText("done", big),
    )
    agent = launch_codex("write three files", budget_usd=per_call / 2)  # one call spends it
    assert final(agent) is State.STOPPED
    time.sleep(3)  # long enough for further model calls to arrive, were codex alive

    assert agent.status().reason == "budget"
    assert len(fake.responses_requests) <= 2
    assert not (repo / "three.txt").exists()
    usage = payloads(agent, EventKind.USAGE)
    assert usage[0]["cost_usd"] == pytest.approx(per_call)
    assert usage[0]["priced_by"].startswith("genai-prices")
    (stop,) = payloads(agent, EventKind.STOP_REQUESTED)
    assert (stop["by"], stop["scope"], stop["spent_usd"]) == (
        "budget", "agent", pytest.approx(per_call),
    )  # fmt: skip
    assert payloads(agent, EventKind.BUDGET_WARNING) == []  # from 0 straight past 100 %
