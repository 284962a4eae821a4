"""``fleetnb cost …`` on a hand-written Claude Code log tree, checked against ccusage.

The tree holds lines in Claude Code's own format (compact JSON, one line per
content block repeating the message id). fleetnb imports it and reports; the
real ``ccusage`` binary reads the same tree; both must agree.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fleetnb.cli import main
from tests.conftest import require_binary

SONNET, OPUS = "claude-sonnet-4-20250514", "claude-opus-4-20250514"


def _line(when: str, session: str, message: str, model: str, usage: tuple[int, ...]) -> str:
    tokens = dict(zip(["input_tokens", "output_tokens", "cache_creation_input_tokens",
                       "cache_read_input_tokens"], usage, strict=True))  # fmt: skip
    entry = {
        "parentUuid": None, "isSidechain": False, "userType": "external",
        "cwd": "/home/u/proj", "sessionId": session, "version": "2.1.0", "type": "assistant",
        "message": {"id": message, "type": "message", "role": "assistant", "model": model,
                    "content": [{"type": "text", "text": "ok"}], "usage": tokens},
        "requestId": f"req_{message}", "uuid": f"u-{message}-{when}", "timestamp": when,
    }  # fmt: skip
    # Claude Code writes compact JSON; ccusage's fast path only finds lines written so.
    return json.dumps(entry, separators=(",", ":"))


def write_tree(base: Path) -> Path:
    """A ``CLAUDE_CONFIG_DIR`` with two projects, three sessions, a split message, and an
    unknown model."""
    one = base / "projects" / "-home-u-proj"
    two = base / "projects" / "-home-u-other"
    one.mkdir(parents=True)
    two.mkdir(parents=True)
    (one / "s1.jsonl").write_text("".join(line + "\n" for line in [
        json.dumps({"type": "user", "sessionId": "s1", "timestamp": "2025-03-09T06:29:00.000Z",
                    "message": {"role": "user", "content": "hi"}}, separators=(",", ":")),
        _line("2025-03-09T06:30:00.000Z", "s1", "m1", SONNET, (100, 200, 300, 400)),
        _line("2025-03-09T06:30:01.000Z", "s1", "m1", SONNET, (100, 200, 300, 400)),  # 2nd block
        _line("2025-03-09T07:45:00.000Z", "s1", "m2", OPUS, (10, 20, 30, 40)),
        _line("2025-03-09T13:10:00.000Z", "s1", "m3", SONNET, (1, 2, 3, 4)),
        _line("2025-03-10T02:59:00.000Z", "s1", "m4", "claude-3-5-haiku-20241022", (5, 6, 7, 8)),
    ]))  # fmt: skip
    # the most expensive session is the oldest: ccusage lists sessions by cost
    (one / "s0.jsonl").write_text(_line("2025-02-01T10:00:00.000Z", "s0", "m0", OPUS,
                                        (5000, 10000, 0, 0)) + "\n")  # fmt: skip
    (two / "s2.jsonl").write_text("".join(line + "\n" for line in [
        _line("2025-04-01T23:30:00.000Z", "s2", "m5", OPUS, (1000, 2000, 0, 0)),
        _line("2025-04-02T00:30:00.000Z", "s2", "m6", SONNET, (7, 8, 9, 10)),
        _line("2025-04-02T01:00:00.000Z", "s2", "m7", "some-unknown-model", (7, 8, 9, 10)),
    ]))  # fmt: skip
    return base


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "claude")


def fleetnb_json(root: Path, *argv: str) -> dict[str, Any]:
    """``fleetnb --root ROOT cost ARGV --json`` in its own process."""
    done = subprocess.run(
        [sys.executable, "-m", "fleetnb.cli", "--root", str(root), "cost", *argv, "--json"],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def ccusage_json(tree: Path, home: Path, *argv: str) -> dict[str, Any]:
    home.mkdir(exist_ok=True)
    env = {**os.environ, "CLAUDE_CONFIG_DIR": str(tree), "HOME": str(home)}
    done = subprocess.run(
        [require_binary("ccusage"), *argv, "--json", "--offline"],
        capture_output=True, text=True, check=True, env=env, timeout=60,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def assert_same(ours: Any, theirs: Any, where: str = "") -> None:
    """Equal, costs within 0.1 %; fleetnb-only fields are allowed on our side."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), where
        assert set(theirs) <= set(ours), f"{where}: missing {set(theirs) - set(ours)}"
        for key, value in theirs.items():
            assert_same(ours[key], value, f"{where}.{key}")
    elif isinstance(theirs, list):
        assert isinstance(ours, list), where
        assert len(ours) == len(theirs), f"{where}: {ours} != {theirs}"
        for number, (mine, other) in enumerate(zip(ours, theirs, strict=True)):
            assert_same(mine, other, f"{where}[{number}]")
    elif isinstance(theirs, float) or isinstance(ours, float):
        assert ours == pytest.approx(theirs, rel=1e-3, abs=1e-12), where
    else:
        assert ours == theirs, where


@pytest.mark.parametrize(
    ("report", "zone"),
    [("daily", "UTC"), ("daily", "America/New_York"), ("monthly", "Asia/Tokyo"),
     ("session", "UTC"), ("blocks", "UTC")],
)  # fmt: skip
def test_reports_match_ccusage_on_the_same_logs(
    tree: Path, tmp_path: Path, report: str, zone: str
) -> None:
    options = [report, "--timezone", zone]
    theirs = ccusage_json(tree, tmp_path / "home", *options)
    ours = fleetnb_json(tmp_path / "fleet", *options, "--path", str(tree), "--source", "claude")

    assert_same(ours, theirs)
    assert theirs[report], "ccusage found no usage: the tree is not in Claude Code's format"


def test_since_until_match_ccusage(tree: Path, tmp_path: Path) -> None:
    options = ["daily", "--timezone", "UTC", "--since", "20250310", "--until", "2025-04-01"]
    theirs = ccusage_json(tree, tmp_path / "home", *options)
    ours = fleetnb_json(tmp_path / "fleet", *options, "--path", str(tree), "--source", "claude")
    assert_same(ours, theirs)
    assert [row["period"] for row in ours["daily"]] == ["2025-03-10", "2025-04-01"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_tables_are_aligned_with_totals_and_an_unpriced_note(
    tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(tmp_path / "fleet")
    code, out, _ = run(capsys, "--root", root, "cost", "daily", "--timezone", "UTC",
                       "--path", str(tree), "--source", "claude", "--breakdown")  # fmt: skip
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["Date", "Models"]
    assert any(line.startswith("2025-03-09") and "1,110" in line for line in lines)
    assert any(line.strip().startswith("└ " + OPUS) for line in lines)
    total = next(line for line in lines if line.startswith("Total"))
    assert "19,204" in total
    assert "$1.00" in total
    assert "unpriced" in lines[-1]
    assert "some-unknown-model" in lines[-1]
    widths = {len(line) for line in lines[:2]}
    assert len(widths) == 1, "header and rule line up"

    code, out, _ = run(capsys, "--root", root, "cost", "blocks", "--timezone", "UTC", "--no-import")
    assert code == 0
    assert "2025-03-09 06:00 UTC" in out
    assert "gap" in out


def test_import_then_nothing_new(
    tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(tmp_path / "fleet")
    code, out, _ = run(capsys, "--root", root, "cost", "import", "--source", "claude",
                       "--path", str(tree), "--json")  # fmt: skip
    assert code == 0
    first = json.loads(out)
    assert first["records"] == 8

    code, out, _ = run(capsys, "--root", root, "cost", "import", "--source", "claude",
                       "--path", str(tree))  # fmt: skip
    assert code == 0
    assert "Imported 0 usage records" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["--since", "2025-02-30"], "YYYYMMDD"), (["--timezone", "Moon/Base"], "IANA"),
     (["--since", "20250502", "--until", "20250501"], "later than"),
     (["--source", "copilot"], "unknown source")],
)  # fmt: skip
def test_bad_input_exits_2_and_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, "--root", str(tmp_path), "cost", "daily", "--no-import", *argv)
    assert code == 2
    assert message in err
    assert out == ""


def test_an_empty_ledger_is_an_empty_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--root", str(tmp_path), "cost", "session", "--json", "--no-import")
    assert code == 0
    assert json.loads(out)["session"] == []
    code, out, _ = run(capsys, "--root", str(tmp_path), "cost", "daily", "--no-import")
    assert code == 0
    assert "no usage" in out


def test_a_warm_report_loads_no_dataframe_plotting_or_price_package(
    tree: Path, tmp_path: Path
) -> None:
    root = tmp_path / "fleet"
    fleetnb_json(root, "daily", "--path", str(tree), "--source", "claude")  # the cold import
    probe = (
        "import sys\nfrom fleetnb.cli import main\n"
        f"main(['--root', {str(root)!r}, 'cost', 'daily', '--json', '--path', {str(tree)!r}, "
        "'--source', 'claude'])\n"
        "print(sorted(m for m in ('pandas', 'plotly', 'genai_prices', 'pydantic', 'numpy') "
        "if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True, timeout=60)  # fmt: skip
    assert done.stdout.splitlines()[-1] == "[]"
