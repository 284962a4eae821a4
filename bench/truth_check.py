"""Benchmark: `fleetnb check` on a 1,000-line file of Stripe and httpx calls.

Generates a Python file of ``N_LINES`` lines mixing StripeClient calls (valid and
invented methods, params with nested and misspelt keys), legacy
``stripe.Customer`` calls, raw httpx calls to api.stripe.com and a few standard
library calls, then times, in one run and against one baseline (``ast.parse`` of
the same file, the least any checker must do):

- the Stripe index built cold (a child interpreter importing stripe and reading
  every service, as `fleetnb check` does on first use) and
  loaded from its on-disk JSON cache;
- the check of the file with warm caches, in this process (median of REPEAT) and
  as a fresh ``fleetnb check`` process (what a shell user or a fleet hook pays).

Goal: the warm check under 1 s. Asserts nothing.
Run: ``python bench/truth_check.py [N_LINES]``.
"""

from __future__ import annotations

import ast
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

N_LINES = 1_000
REPEAT = 5

HEADER = [
    "import os",
    "import httpx",
    "import stripe",
    "from stripe import StripeClient",
    "API = 'https://api.stripe.com'",
    "client = StripeClient('sk_test_123')",
    "customers = client.v1.customers",
]
TEMPLATES = [
    "customers.create(params={{'email': 'u{i}@example.com', 'address': {{'city': 'Paris'}}}})",
    "customers.create(params={{'emial': 'u{i}@example.com'}})",
    "client.v1.customers.fetch('cus_{i}')",
    "client.v1.customers.retrieve('cus_{i}', params={{'expand': ['default_source']}})",
    "client.v1.payment_intents.create(params={{'amount': {i}, 'currency': 'eur'}})",
    "client.v1.payment_intents.create(params={{'amount': {i}}})",
    "client.v1.checkout.sessions.create(params={{'mode': 'payment', "
    "'line_items': [{{'price': 'price_{i}', 'quantity': 1}}]}})",
    "client.v2.core.events.list(params={{'object_id': 'obj_{i}'}})",
    "stripe.Customer.create(email='u{i}@example.com')",
    "stripe.Customer.modify('cus_{i}', nmae='x')",
    "httpx.post(f'{{API}}/v1/customers/{{cid}}/fetch')",
    "httpx.get(API + '/v1/customers?limit={i}')",
    "httpx.post(API + '/v1/refunds/create', data={{'charge': 'ch_{i}'}})",
    "os.path.join('a', '{i}')",
]


def generate(n_lines: int) -> str:
    rng = random.Random(7)
    body = [rng.choice(TEMPLATES).format(i=i) for i in range(n_lines - len(HEADER))]
    return "\n".join([*HEADER, *body]) + "\n"


def median_seconds(action: Callable[[], object], repeat: int = REPEAT) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _reload_stripe_index(load: Callable[[], object]) -> object:
    """Forget the in-process copy, so the load reads the JSON cache on disk."""
    load.cache_clear()  # type: ignore[attr-defined]
    return load()


def main(n_lines: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["FLEETNB_CACHE_DIR"] = str(Path(scratch) / "cache")
        source = Path(scratch) / "generated.py"
        code = generate(n_lines)
        source.write_text(code)
        baseline = median_seconds(lambda: ast.parse(code))

        from fleetnb.truth import Checker, check_source, load_stripe_index  # noqa: PLC0415

        start = time.perf_counter()
        index = load_stripe_index()
        cold = time.perf_counter() - start
        if index is None:
            sys.exit("stripe is not installed: pip install 'fleetnb[truth]'")
        load_stripe_index.cache_clear()
        cached = median_seconds(lambda: _reload_stripe_index(load_stripe_index))

        first = check_source(code)  # warms the package index of `os` too
        warm = median_seconds(lambda: Checker().check_source(code))
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "fleetnb.cli", "check", str(source)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        process = time.perf_counter() - start

    print(f"file: {n_lines} lines, {first.calls_checked} calls checked, "
          f"{first.calls_unresolved} unresolved, {len(first.findings)} findings "
          f"(fleetnb check exit {done.returncode})")  # fmt: skip
    print(f"baseline ast.parse:            {baseline * 1000:8.1f} ms")
    print(f"stripe {index.version} index, cold build: {cold * 1000:8.1f} ms  "
          f"({cold / baseline:7.0f}x baseline; {index.build_seconds * 1000:.0f} ms of it "
          "reading stripe in the child)")  # fmt: skip
    print(f"stripe index from JSON cache:   {cached * 1000:8.1f} ms  "
          f"({cached / baseline:7.0f}x baseline, {cold / cached:.0f}x less than cold)")  # fmt: skip
    print(
        f"check, warm caches, in process: {warm * 1000:8.1f} ms  ({warm / baseline:7.1f}x baseline)"
    )
    print(f"fleetnb check, fresh process:   {process * 1000:8.1f} ms  "
          f"({process / baseline:7.0f}x baseline; goal < 1000 ms warm)")  # fmt: skip


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else N_LINES)
