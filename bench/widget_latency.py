"""Benchmark: the live table inside the kernel process while 16 demo agents stream.

Two runs in one invocation, each on a fresh fleet with 16 demo agents emitting
``chatter`` short messages as fast as they can:

- baseline: no widget, only the fleet's watcher with a raw subscriber;
- widgets: the same plus a live ``FleetTable`` and ``ApprovalQueue`` (what
  displaying ``fleet`` shows).

Measured in this process (the kernel's side; the browser side is measured by
the UI tests): event → delivery to a watcher subscriber, event → the table's
``rows`` trait showing it (from each event's store timestamp to the first push
whose row carries its ``seq``), how many pushes per second went out, and how
long a trivial call on the main thread takes meanwhile (the stand-in for "a
trivial cell answers"), each as median / p95 / max against the baseline.

Run: ``python bench/widget_latency.py [--agents 16] [--chatter 2000]``.
"""

from __future__ import annotations

import argparse
import bisect
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fleetnb
from fleetnb import EventKind
from fleetnb.events import Event
from fleetnb.widgets import ApprovalQueue, FleetTable

Pushes = list[tuple[float, dict[str, int]]]

_NAP_S = 0.005


class Run:
    """One fleet's measurements."""

    def __init__(self) -> None:
        self.delivery: list[float] = []  # event ts → watcher subscriber, seconds
        self.trivial: list[float] = []  # main-thread trivial call, seconds
        self.lateness: list[float] = []  # main thread waking from a 5 ms sleep, seconds late
        self.pushes: Pushes = []  # (time, {agent id: seq shown}) per rows change
        self.waiting = 0
        self.done = threading.Event()
        self.cpu_s = 0.0
        self.wall_s = 0.0
        self.events: dict[str, list[Event]] = {}

    def receive(self, events: list[Event], agents: int) -> None:
        now = time.time()
        self.delivery.extend(now - event.ts for event in events)
        for event in events:
            if event.kind == EventKind.APPROVAL_REQUESTED and event.payload.get("policy") == "ask":
                self.waiting += 1
        if self.waiting >= agents:
            self.done.set()


def _repo(root: Path) -> Path:
    repo = root / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    return repo


def _trivial_calls(run: Run, timeout: float) -> None:
    """Until every agent waits, time the main thread: a trivial call, and waking from a sleep.

    The wake-up lateness is what a person feels: a thread that hogs the GIL delays
    the main thread getting back to work, however small that work is.
    """
    deadline = time.monotonic() + timeout
    while not run.done.is_set() and time.monotonic() < deadline:
        before_sleep = time.perf_counter()
        time.sleep(_NAP_S)
        start = time.perf_counter()
        sum(range(100))  # a trivial cell's worth of work
        end = time.perf_counter()
        run.trivial.append(end - start)
        run.lateness.append(start - before_sleep - _NAP_S)


def run_fleet(agents: int, chatter: int, widgets: bool, timeout: float) -> Run:
    run = Run()
    with tempfile.TemporaryDirectory() as tmp:
        fleet = fleetnb.Fleet(Path(tmp) / "root")
        repo = _repo(Path(tmp))
        fleet.watcher().subscribe(lambda events: run.receive(events, agents))
        shown: list[Any] = []
        if widgets:
            table, queue = FleetTable(fleet), ApprovalQueue(fleet)
            table.observe(lambda change: _record(run.pushes, change["new"]), names="rows")
            shown = [table, queue]
        cpu, wall = time.process_time(), time.perf_counter()
        launched: list[fleetnb.Agent] = []
        # Launch from a helper thread, so the main thread is measured from the first event.
        launcher = threading.Thread(target=_launch, args=(fleet, repo, agents, chatter, launched))
        launcher.start()
        _trivial_calls(run, timeout)
        launcher.join()
        run.cpu_s, run.wall_s = time.process_time() - cpu, time.perf_counter() - wall
        if widgets:
            _until(lambda: all(r["state"] == "waiting" for r in shown[0].rows), timeout=10)
        for widget in shown:
            widget.close()
        run.events = {agent.id: agent.events() for agent in launched}
        for agent in launched:
            agent.stop(timeout=5)
        fleet.close()
    return run


def _launch(
    fleet: fleetnb.Fleet, repo: Path, agents: int, chatter: int, out: list[fleetnb.Agent]
) -> None:
    options = {"chatter": chatter, "step_delay": 0.01}
    for i in range(agents):
        out.append(fleet.launch(f"task {i}", harness="demo", cwd=repo, options=options))


def _record(pushes: Pushes, rows: list[dict[str, Any]]) -> None:
    pushes.append((time.time(), {str(row["id"]): int(row["seq"]) for row in rows}))


def _until(check: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check() and time.monotonic() < deadline:
        time.sleep(0.02)


def trait_latencies(run: Run) -> list[float]:
    """For every event: the first push showing its seq, minus the event's timestamp."""
    latencies = []
    times = [t for t, _ in run.pushes]
    for agent_id, events in run.events.items():
        shown = [seqs.get(agent_id, 0) for _, seqs in run.pushes]
        # `shown` only grows, so the first push at or past a seq is found by bisection.
        for event in events:
            index = bisect.bisect_left(shown, event.seq)
            if index < len(times):
                latencies.append(times[index] - event.ts)
    return latencies


def max_pushes_per_second(run: Run) -> int:
    times = [t for t, _ in run.pushes]
    return max((bisect.bisect_left(times, t + 1.0) - i for i, t in enumerate(times)), default=0)


def _stats(values: list[float]) -> str:
    if not values:
        return "n/a"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return (
        f"median {statistics.median(ordered) * 1000:7.2f} ms  p95 {p95 * 1000:7.2f} ms  "
        f"max {ordered[-1] * 1000:7.2f} ms  (n={len(ordered)})"
    )


def _ratio(value: list[float], base: list[float]) -> str:
    if not value or not base or statistics.median(base) == 0:
        return "n/a"
    return f"{statistics.median(value) / statistics.median(base):.2f}x"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=16)
    parser.add_argument("--chatter", type=int, default=2000)
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()

    base = run_fleet(args.agents, args.chatter, widgets=False, timeout=args.timeout)
    live = run_fleet(args.agents, args.chatter, widgets=True, timeout=args.timeout)
    trait = trait_latencies(live)

    print(f"{args.agents} demo agents x {args.chatter} chatter events, in-kernel measurements")
    print(f"streaming took {base.wall_s:.1f} s (baseline) and {live.wall_s:.1f} s (widgets)")
    print(f"main-thread trivial call  baseline: {_stats(base.trivial)}")
    print(f"main-thread trivial call  widgets:  {_stats(live.trivial)}")
    print(f"  ratio of medians, widgets / baseline: {_ratio(live.trivial, base.trivial)}")
    print(f"main thread late from a 5 ms sleep  baseline: {_stats(base.lateness)}")
    print(f"main thread late from a 5 ms sleep  widgets:  {_stats(live.lateness)}")
    print(f"  ratio of medians, widgets / baseline: {_ratio(live.lateness, base.lateness)}")
    print(f"event -> watcher callback baseline: {_stats(base.delivery)}")
    print(f"event -> watcher callback widgets:  {_stats(live.delivery)}")
    print(f"event -> rows trait       widgets:  {_stats(trait)}")
    print(f"  ratio of medians, rows trait / watcher callback: {_ratio(trait, live.delivery)}")
    print(f"rows pushes: {len(live.pushes)}, at most {max_pushes_per_second(live)} in any 1 s")
    print(
        f"kernel process CPU: baseline {base.cpu_s:.2f} s, widgets {live.cpu_s:.2f} s "
        f"({live.cpu_s / max(base.cpu_s, 1e-9):.2f}x)"
    )


if __name__ == "__main__":
    main()
