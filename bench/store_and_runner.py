"""Benchmark: store append throughput and an idle runner's CPU.

Prints figures and ratios against baselines measured in the same run; asserts
nothing (timing belongs here, not in tests). Run: ``python bench/store_and_runner.py``.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

import psutil

import fleetnb
from fleetnb.events import EventKind
from fleetnb.store import AgentRecord, EventStore

N_EVENTS = 200_000
BATCH = 1_000
SINGLE = 5_000
IDLE_SECONDS = 10.0


def _payload(i: int) -> dict[str, object]:
    return {"text": f"assistant says something useful, number {i}", "i": i}


def raw_sqlite_baseline(path: Path) -> float:
    """The same rows through bare sqlite3 executemany: the floor for our overhead."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE e (a TEXT, s INTEGER, t REAL, k TEXT, p TEXT, UNIQUE (a, s))")
    start = time.perf_counter()
    for base in range(0, N_EVENTS, BATCH):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO e VALUES (?, ?, ?, ?, ?)",
            [("a", i, time.time(), "assistant_text", json.dumps(_payload(i)))
             for i in range(base, base + BATCH)],
        )  # fmt: skip
        conn.execute("COMMIT")
    return N_EVENTS / (time.perf_counter() - start)


def store_rates(path: Path) -> tuple[float, float]:
    store = EventStore(path)
    store.create_agent(AgentRecord("a", "a", "demo", None, "t", "/", time.time()), {})
    start = time.perf_counter()
    for base in range(0, N_EVENTS, BATCH):
        store.append_many(
            "a", [(EventKind.ASSISTANT_TEXT, _payload(i)) for i in range(base, base + BATCH)]
        )
    batched = N_EVENTS / (time.perf_counter() - start)
    start = time.perf_counter()
    for i in range(SINGLE):
        store.append("a", EventKind.ASSISTANT_TEXT, _payload(i))
    single = SINGLE / (time.perf_counter() - start)
    return batched, single


def idle_cpu(root: Path) -> tuple[float, float]:
    """CPU share of one core: an idle demo runner vs a bare sleeping Python."""
    repo = root / "repo"
    repo.mkdir()
    agent = fleetnb.Fleet(root).launch(
        "idle", harness="demo", cwd=repo, approvals="allow", idle_timeout=600,
        options={"step_delay": 0},
    )  # fmt: skip
    agent.wait(60)
    pid = int(agent.events(kinds=[EventKind.RUNNER_STARTED])[0].payload["pid"])
    runner = _cpu_share(psutil.Process(pid))
    agent.stop()
    sleeper = subprocess.Popen(["python", "-c", "import time; time.sleep(60)"])
    time.sleep(1)
    baseline = _cpu_share(psutil.Process(sleeper.pid))
    sleeper.kill()
    sleeper.wait()
    return runner, baseline


def _cpu_share(process: psutil.Process) -> float:
    before = sum(process.cpu_times()[:2])
    time.sleep(IDLE_SECONDS)
    return (sum(process.cpu_times()[:2]) - before) / IDLE_SECONDS


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        baseline = raw_sqlite_baseline(root / "raw.db")
        batched, single = store_rates(root / "store.db")
        runner, sleeper = idle_cpu(root)
    print(f"raw sqlite3 executemany (baseline): {baseline:>10,.0f} events/s")
    print(
        f"EventStore.append_many, {BATCH}/batch:  {batched:>10,.0f} events/s "
        f"({batched / baseline:.2f}x baseline; goal >= 50,000/s)"
    )
    print(
        f"EventStore.append, one at a time:  {single:>10,.0f} events/s "
        f"({single / baseline:.3f}x baseline)"
    )
    print(
        f"idle runner CPU: {runner * 100:.2f} % of a core (goal <= 1 %); "
        f"sleeping python: {sleeper * 100:.2f} %"
    )


if __name__ == "__main__":
    main()
