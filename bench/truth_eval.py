"""Benchmark: the API checker on the labelled evaluation set, beside mypy.

Runs ``fleetnb.truth`` over every row of ``tests/truth/eval/*.yaml`` (Stripe,
Supabase and an OpenAPI spec, in Python and TypeScript; real calls and invented
ones, labelled by oracles independent of the checker) and prints, per API and
language and overall: rows, precision, recall (over all rows and over the
statically resolvable ones) and coverage (calls resolved over calls made). For the
Python rows it prints the same precision and recall for mypy (default options, run
once over all their snippets with the SDKs' type information installed): a row is
flagged by mypy when it reports an error on the call's line.

Then recall by stratum, the hard negatives, and every miss and false alarm by
row id. Goals: precision >= 0.95, recall >= 0.90, coverage >= 80 %. Asserts nothing.
Run: ``python bench/truth_eval.py [--no-mypy]``.
"""

from __future__ import annotations

import collections
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests package holds the set

from tests.truth.eval.rows import Row, load_rows
from tests.truth.eval.runner import Outcome, Score, check_rows, mypy_rows, score

GOALS = {"precision": 0.95, "recall": 0.90, "coverage": 0.80}
LANGS = {"python": "py", "typescript": "ts", "javascript": "js"}


def _ratio(value: float | None, percent: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:.0%}" if percent else f"{value:.2f}"


def _pr(outcomes: Sequence[Outcome], *, mypy: bool = False) -> str:
    every = score(outcomes, mypy=mypy)
    static = score([o for o in outcomes if o.row.static], mypy=mypy)
    return (
        f"{_ratio(every.precision):>5} {_ratio(every.recall):>5}  "
        f"{_ratio(static.precision):>5} {_ratio(static.recall):>5}"
    )


def _line(name: str, outcomes: Sequence[Outcome], mypy: Sequence[Outcome] | None) -> str:
    total = score(outcomes)
    mine = f"{name:<14} {total.rows:>4} {total.invented:>4}  {_pr(outcomes)}  "
    mine += f"{_ratio(total.coverage, percent=True):>5}"
    if mypy:
        mine += f"   {_pr(mypy, mypy=True)}"
    return mine


def _groups(outcomes: Iterable[Outcome]) -> dict[str, list[Outcome]]:
    groups: dict[str, list[Outcome]] = collections.defaultdict(list)
    for outcome in outcomes:
        groups[f"{outcome.row.api}/{LANGS.get(outcome.row.lang, outcome.row.lang)}"].append(outcome)
    return dict(sorted(groups.items()))


def print_table(outcomes: list[Outcome], mypy: list[Outcome] | None) -> None:
    by_id = {o.row.id: o for o in mypy or []}
    print(f"{'':14} {'':4} {'':4}  {'checker':^24}  {'':5}   {'mypy (Python rows)':^24}")
    print(f"{'':14} {'':4} {'':4}  {'all rows':^11}  {'static':^11}  {'':5}   ", end="")
    print(f"{'all rows':^11}  {'static':^11}")
    print(
        f"{'group':<14} {'rows':>4} {'inv':>4}  {'prec':>5} {'rec':>5}  {'prec':>5} {'rec':>5}  ",
        end="",
    )
    print(f"{'cov':>5}   {'prec':>5} {'rec':>5}  {'prec':>5} {'rec':>5}")

    def with_mypy(group: Sequence[Outcome]) -> list[Outcome]:
        return [by_id[o.row.id] for o in group if o.row.id in by_id]

    for name, group in _groups(outcomes).items():
        print(_line(name, group, with_mypy(group)))
    for lang, short in LANGS.items():
        group = [o for o in outcomes if o.row.lang == lang]
        if group:
            print(_line(f"all/{short}", group, with_mypy(group)))
    print(_line("overall", outcomes, with_mypy(outcomes)))


def print_strata(outcomes: list[Outcome]) -> None:
    print("\nRecall by stratum (checker; caught/invented, static rows in brackets):")
    strata: dict[str, list[Outcome]] = collections.defaultdict(list)
    for outcome in outcomes:
        if outcome.row.invented:
            strata[outcome.row.kind].append(outcome)
    for kind, group in sorted(strata.items()):
        static = [o for o in group if o.row.static]
        caught, caught_static = sum(o.caught for o in group), sum(o.caught for o in static)
        print(f"  {kind:<24} {caught:>3}/{len(group):<3} ({caught_static}/{len(static)})")
    negatives: dict[str, list[Outcome]] = collections.defaultdict(list)
    for outcome in outcomes:
        if outcome.row.negative:
            negatives[outcome.row.negative].append(outcome)
    print("Hard negatives (real calls) flagged:")
    for family, group in sorted(negatives.items()):
        print(f"  {family:<24} {sum(o.flagged for o in group):>3}/{len(group)}")


def _listing(title: str, outcomes: Iterable[Outcome], describe: Callable[[Outcome], str]) -> None:
    chosen = list(outcomes)
    print(f"\n{title}: {len(chosen)}")
    for outcome in chosen:
        print(f"  {outcome.row.id:<16} {outcome.row.kind:<24} {describe(outcome)}")


def print_errors(outcomes: list[Outcome]) -> None:
    _listing(
        "Misses (invented, no finding of an expected kind on the call)",
        (o for o in outcomes if o.row.invented and not o.caught),
        lambda o: (
            f"expect {list(o.row.expect)}, got {o.kinds_on_call or 'nothing'}"
            + ("" if o.row.static else " [not static]")
        ),
    )
    _listing(
        "False alarms (flagged without an expected kind)",
        (o for o in outcomes if o.flagged and not o.caught),
        lambda o: f"got {o.kinds_on_call}, expect {list(o.row.expect) or 'nothing'}",
    )
    _listing(
        "Findings off the call's lines", (o for o in outcomes if o.stray), lambda o: str(o.stray)
    )
    _listing("Crashes", (o for o in outcomes if o.crash), lambda o: str(o.crash))


def print_goals(total: Score) -> None:
    print("\nGoals (overall, all rows):")
    for name, goal in GOALS.items():
        value = getattr(total, name)
        verdict = "met" if value is not None and value >= goal else "NOT met"
        shown = _ratio(value, percent=name == "coverage")
        print(f"  {name:<10} {shown:>5}  goal >= {goal:.2f}: {verdict}")


def main(argv: Sequence[str]) -> None:
    # The set scores API calls; package-existence lookups would only make it depend on a network.
    os.environ.setdefault("FLEETNB_OFFLINE", "1")
    rows: list[Row] = load_rows()
    start = time.perf_counter()
    outcomes = check_rows(rows)
    checked_in = time.perf_counter() - start
    mypy = None if "--no-mypy" in argv else mypy_rows(rows)
    invented = sum(row.invented for row in rows)
    print(
        f"API truth check on {len(rows)} labelled rows ({invented} invented), in {checked_in:.1f} s"
    )
    print_table(outcomes, mypy)
    print_strata(outcomes)
    print_errors(outcomes)
    print_goals(score(outcomes))


if __name__ == "__main__":
    main(sys.argv[1:])
