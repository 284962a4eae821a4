"""Benchmark: what pricing and budget checks add to each usage event a runner records.

The baseline is what a runner did anyway: append one ``usage`` event to the
store. Measured in the same run: pricing the event from its rate card, and the
runner's budget check (:class:`fleetnb.cost.budget.BudgetKeeper`) with an agent
budget and a fleet budget covering N agents that each already hold events.
Prints the median microseconds per event and the ratio to the baseline.

Run: ``python bench/budget_check.py [--agents 1 10 50] [--events 200]``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from fleetnb.cost.budget import BudgetKeeper, write_fleet_budget
from fleetnb.cost.prices import price_event
from fleetnb.events import EventKind
from fleetnb.store import AgentRecord, EventStore

MODEL = "claude-sonnet-4-5-20250929"
USAGE = {"input_tokens": 1200, "output_tokens": 300, "cache_read_tokens": 8000, "model": MODEL}


def _agents(store: EventStore, count: int, budget_id: str) -> list[str]:
    ids = []
    for index in range(count):
        record = AgentRecord(
            id=f"agent{index:04d}", name=f"a{index}", harness="claude", model=MODEL,
            task="bench", cwd=".", created_at=time.time(),
            config={"budget_usd": 1e9, "fleet_budget": budget_id},
        )  # fmt: skip
        launched = {"task": "bench", "budget_usd": 1e9, "fleet_budget": budget_id}
        store.create_agent(record, launched)
        ids.append(record.id)
    return ids


def _median_us(step: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def run(agents: int, events: int) -> tuple[float, float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        store = EventStore(Path(tmp) / "fleet.db")
        budget = write_fleet_budget(store, 1e9)
        assert budget is not None
        ids = _agents(store, agents, budget.id)
        for agent_id in ids[1:]:  # the others' history, folded on the first check
            store.append_many(agent_id, [(EventKind.USAGE, {**USAGE, "cost_usd": 0.01})] * 50)
        keeper = BudgetKeeper(store, ids[0])
        keeper.check()

        def append() -> None:
            store.append(ids[0], EventKind.USAGE, {**USAGE, "cost_usd": 0.01})

        def price() -> None:
            price_event(USAGE, MODEL, "claude")

        append_us = _median_us(append, events)
        price_us = _median_us(price, events)
        check_us = _median_us(keeper.check, events)
        store.close()
    return append_us, price_us, check_us


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--events", type=int, default=200)
    args = parser.parse_args()
    print(f"{'agents':>6}  {'append µs':>9}  {'price µs':>8}  {'check µs':>8}  overhead/append")
    for count in args.agents:
        append_us, price_us, check_us = run(count, args.events)
        ratio = (price_us + check_us) / append_us
        print(f"{count:>6}  {append_us:>9.0f}  {price_us:>8.1f}  {check_us:>8.0f}  {ratio:>6.2f}x")


if __name__ == "__main__":
    main()
