"""`fleetnb check` as a shell user runs it, and how mypy fares on the same code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from fleetnb.truth import check_source

BAD = (
    "from stripe import StripeClient\n"
    "client = StripeClient('sk_test_123')\n"
    "client.v1.customers.fetch('cus_123')\n"
    "client.v1.customerz.list()\n"
    "client.v1.customers.create(params={'emial': 'a@b.c'})\n"
)


def check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fleetnb.cli", "check", *args],
        capture_output=True, text=True, timeout=100, check=False,
    )  # fmt: skip


def test_errors_exit_1_with_json(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(BAD)
    done = check(str(tmp_path), "--json")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert {"findings", "calls_checked", "calls_unresolved"} <= set(report)
    assert [(f["line"], f["kind"], f["suggestion"]) for f in report["findings"]] == [
        (3, "unknown_method", "retrieve"),
        (4, "unknown_method", "customers"),
        (5, "unknown_param", "email"),
    ]
    assert report["calls_checked"] == 3


def test_clean_code_and_warnings_exit_0(tmp_path: Path, billing_spec: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text("import httpx\nhttpx.get('https://api.billing.test/v1/refunds/create')\n")
    done = check(str(app), "--spec", str(billing_spec))
    assert done.returncode == 0, done.stderr
    assert "warning: unknown_endpoint" in done.stdout
    assert "1 finding(s), 1 call(s) checked, 0 unresolved" in done.stdout


def test_bad_usage_exits_2(tmp_path: Path) -> None:
    assert check().returncode == 2
    assert check(str(tmp_path), "--no-such-flag").returncode == 2


def test_unreadable_inputs_are_reported_on_stderr(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("def f(:\n")
    done = check(str(tmp_path), "--spec", str(tmp_path / "missing.yaml"))
    assert done.returncode == 0
    assert "does not parse" in done.stderr
    assert "cannot read the spec" in done.stderr


def test_mypy_misses_invented_service_methods_that_the_check_catches(tmp_path: Path) -> None:
    """StripeClient services answer unknown attributes through an untyped __getattr__."""
    app = tmp_path / "app.py"
    app.write_text(BAD)
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary",
         "--cache-dir", str(tmp_path / ".mypy_cache"), str(app)],
        capture_output=True, text=True, timeout=110, check=False,
    )  # fmt: skip
    flagged_by_mypy = {int(line.split(":")[1]) for line in done.stdout.splitlines() if ":" in line}
    assert flagged_by_mypy == {5}  # the TypedDict catches the key; fetch and customerz pass
    assert {f.line for f in check_source(BAD).findings} == {3, 4, 5}
