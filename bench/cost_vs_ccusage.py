"""Benchmark: ``fleetnb cost daily`` against ``ccusage daily`` on the same Claude Code logs.

For each size a generated log tree (tests/fakes/claude_logs.py: the CLI's own
format, several projects, models and days) is read by:

- ccusage 20.0.24, ``daily --json --offline``, twice: it keeps no cache, so its
  second run is its "warm" one (the files are in the page cache both times);
- fleetnb cold: a fresh fleet root, ``fleetnb cost daily --json`` (imports every
  line into the ledger, then reports);
- fleetnb warm: the same command again (the incremental import finds nothing
  new, then reports).

Each is a child process measured by ``os.wait4``: wall time, CPU (user + sys,
children it waited for included: ccusage's launcher runs a native binary) and
peak RSS. Ratios are against ccusage measured in the same run. The issue's
goals: cold CPU <= 1.0x ccusage's, warm >= 20x faster than ccusage's wall time.
The token totals of both reports must agree with each other and with the
generator's ground truth; the script exits 1 if they do not.

Run: ``python bench/cost_vs_ccusage.py [--lines 100000 1000000] [--ccusage PATH]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.fakes.claude_logs import GroundTruth, generate_tree

TOKEN_FIELDS = ("inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens")
SIZES = (100_000, 1_000_000)


@dataclasses.dataclass(frozen=True)
class Run:
    """One child process's cost and what it printed."""

    label: str
    wall: float
    cpu: float
    rss_mb: float
    output: dict[str, Any]


def measure(label: str, argv: list[str], env: dict[str, str]) -> Run:
    """Run ``argv`` to its end; wall, CPU and peak RSS of it and the children it waited for."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        child = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        stderr = child.stderr.read().decode() if child.stderr else ""
        if child.returncode != 0:
            raise SystemExit(f"{label}: {argv} exited {child.returncode}\n{stderr[-2000:]}")
        out.seek(0)
        output = json.loads(out.read())
    # ru_maxrss is in KiB on Linux.
    return Run(label, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, output)


def environment(scratch: Path, tree: Path) -> dict[str, str]:
    """Both tools see the generated tree and nothing of this machine's own logs."""
    home = scratch / "home"
    home.mkdir(exist_ok=True)
    return {
        **os.environ,
        "HOME": str(home),
        "CLAUDE_CONFIG_DIR": str(tree),
        "CODEX_HOME": str(home / "codex"),
        "TZ": "UTC",
    }


def bench_size(lines: int, ccusage: str, scratch: Path) -> tuple[list[Run], GroundTruth]:
    tree = scratch / "claude"
    start = time.perf_counter()
    truth = generate_tree(tree, lines=lines, seed=lines, days=30)
    took = time.perf_counter() - start
    size = sum(path.stat().st_size for path in tree.rglob("*.jsonl")) / 2**20
    print(f"\n{lines:,} lines, {truth.files:,} files, {size:,.0f} MiB generated in {took:.1f} s")
    env = environment(scratch, tree)
    theirs = [ccusage, "daily", "--json", "--offline", "--timezone", "UTC"]
    ours = [sys.executable, "-m", "fleetnb.cli", "--root", str(scratch / "fleet"), "cost"]
    ours += ["daily", "--json", "--timezone", "UTC", "--source", "claude", "--path", str(tree)]
    runs = [
        measure("ccusage", theirs, env),
        measure("ccusage again", theirs, env),
        measure("fleetnb cold", ours, env),
        measure("fleetnb warm", ours, env),
    ]
    return runs, truth


def table(runs: list[Run]) -> str:
    cold, again = runs[0], runs[1]
    rows = [
        f"{'':16}{'wall s':>9}{'CPU s':>9}{'peak MiB':>10}{'CPU / ccusage':>15}{'speed-up':>10}"
    ]
    for run in runs:
        rows.append(
            f"{run.label:16}{run.wall:9.2f}{run.cpu:9.2f}{run.rss_mb:10.0f}"
            f"{run.cpu / cold.cpu:14.2f}x{again.wall / run.wall:9.1f}x"
        )
    return "\n".join(rows)


def verdict(runs: list[Run]) -> str:
    ccusage_cold, ccusage_again, ours_cold, ours_warm = runs
    cpu_ratio = ours_cold.cpu / ccusage_cold.cpu
    speed_up = ccusage_again.wall / ours_warm.wall
    cold_goal = "met" if cpu_ratio <= 1 else "not met"
    warm_goal = "met" if speed_up >= 20 else "not met"
    return (
        f"cold CPU {cpu_ratio:.2f}x ccusage's (goal <= 1.0x: {cold_goal});"
        f" warm {speed_up:.1f}x faster than ccusage (goal >= 20x: {warm_goal})"
    )


def disagreements(runs: list[Run], truth: GroundTruth) -> list[str]:
    """Token totals that differ between the reports or from the ground truth."""
    total = truth.total()
    expected = dict(
        zip(
            TOKEN_FIELDS,
            (total.input, total.output, total.cache_write, total.cache_read),
            strict=True,
        )
    )
    found = []
    for run in runs:
        got = {field: run.output["totals"][field] for field in TOKEN_FIELDS}
        if got != expected:
            found.append(f"{run.label}: {got} != ground truth {expected}")
    return found


def cost_line(runs: list[Run]) -> str:
    theirs, ours = runs[0].output["totals"]["totalCost"], runs[2].output["totals"]["totalCost"]
    return f"total cost: ccusage ${theirs:,.2f}, fleetnb ${ours:,.2f} ({ours / theirs - 1:+.4%})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--lines", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--ccusage", default=shutil.which("ccusage"))
    args = parser.parse_args(argv)
    if args.ccusage is None:
        raise SystemExit("ccusage is not on PATH; scripts/install-test-deps installs it")
    failed = False
    for lines in args.lines:
        with tempfile.TemporaryDirectory(prefix="fleetnb-bench-") as scratch:
            runs, truth = bench_size(lines, args.ccusage, Path(scratch))
        print(table(runs))
        print(verdict(runs))
        problems = disagreements(runs, truth)
        print(
            "\n".join(problems)
            if problems
            else "token totals: all four agree with the ground truth"
        )
        print(cost_line(runs))
        failed |= bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
