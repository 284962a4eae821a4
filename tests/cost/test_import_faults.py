"""Bad input and faults: truncated, broken and odd lines, files that change, vanish or
rotate under the import, very long lines, and memory that stays flat on a large file."""

from __future__ import annotations

import json
import os
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from fleetnb.cost import import_logs
from fleetnb.cost.ledger import Ledger
from fleetnb.cost.logs import (
    CHUNK_BYTES,
    LogPathError,
    UnknownLogSourceError,
    complete_lines,
    log_format,
)
from fleetnb.store import store_path

MODEL = "claude-sonnet-4-5-20250929"


def _line(mid: str, out: int, *, text: str = "ok", usage: Any = None) -> bytes:
    message = {
        "id": mid,
        "model": MODEL,
        "content": [{"type": "text", "text": text}],
        "usage": usage if usage is not None else {"input_tokens": 10, "output_tokens": out},
    }
    line = {
        "type": "assistant",
        "message": message,
        "requestId": f"req-{mid}",
        "timestamp": "2026-11-20T10:00:00.000Z",
    }
    return json.dumps(line, separators=(",", ":")).encode() + b"\n"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    (tmp_path / "claude" / "projects" / "-p").mkdir(parents=True)
    return tmp_path / "claude"


@pytest.fixture
def log(config: Path) -> Path:
    return config / "projects" / "-p" / "s1.jsonl"


def _import(config: Path, tmp_path: Path) -> Any:
    return import_logs("claude", config, root=tmp_path / "fleet")


def _outputs(tmp_path: Path) -> dict[str, int]:
    with Ledger(store_path(tmp_path / "fleet")) as ledger:
        return {r.key: r.output_tokens for r in ledger.usage()}


def test_a_truncated_last_line_waits_for_the_rest(config: Path, log: Path, tmp_path: Path) -> None:
    whole = _line("m2", 7)
    log.write_bytes(_line("m1", 5) + whole[:40])

    first = _import(config, tmp_path)

    assert first.skipped == {"incomplete_last_line": 1}
    assert _outputs(tmp_path) == {"m1:req-m1": 5}
    with log.open("ab") as handle:
        handle.write(whole[40:])
    second = _import(config, tmp_path)
    assert second.skipped == {}
    assert second.bytes_read == len(whole)
    assert _outputs(tmp_path) == {"m1:req-m1": 5, "m2:req-m2": 7}


def test_bad_lines_are_counted_and_the_good_ones_imported(
    config: Path, log: Path, tmp_path: Path
) -> None:
    good = _line("m1", 5)
    log.write_bytes(
        good
        + b"not json at all\n"
        + b'{"type":"assistant","message":{"usage":{"input_tokens":1,\n'  # broken JSON
        + b'{"type":"a-kind-from-a-future-version","payload":{"x":1}}\n'  # no usage: passed over
        + _line("m2", 0, usage={"input_tokens": 1})  # no output_tokens
        + _line("m3", 0, usage={"input_tokens": "1", "output_tokens": 2})  # not an integer
        + _line("m4", 9).replace(b"2026-11-20T10:00:00.000Z", b"last tuesday")
        + b"\n"  # an empty line
        + _line("m5", 6)
    )

    result = _import(config, tmp_path)

    assert result.skipped == {"not_json": 3, "invalid_usage": 2, "bad_timestamp": 1}
    assert result.lines_read == 9
    assert result.problems == []
    assert _outputs(tmp_path) == {"m1:req-m1": 5, "m5:req-m5": 6}


def test_a_file_gone_before_it_is_read_is_a_problem_and_the_rest_imports(
    config: Path, log: Path, tmp_path: Path
) -> None:
    log.write_bytes(_line("m1", 5))
    # Listed, then gone: a link whose file was deleted between the listing and the read.
    (config / "projects" / "-p" / "s0.jsonl").symlink_to(config / "deleted.jsonl")

    result = _import(config, tmp_path)

    assert len(result.problems) == 1
    assert "s0.jsonl" in result.problems[0]
    assert "left for the next import" in result.problems[0]
    assert _outputs(tmp_path) == {"m1:req-m1": 5}


def test_a_vanished_file_keeps_its_records(config: Path, log: Path, tmp_path: Path) -> None:
    log.write_bytes(_line("m1", 5))
    _import(config, tmp_path)
    log.unlink()

    result = _import(config, tmp_path)

    assert (result.files_gone, result.files_seen) == (1, 0)
    assert _outputs(tmp_path) == {"m1:req-m1": 5}


def test_a_grown_file_is_read_from_its_offset_only(config: Path, log: Path, tmp_path: Path) -> None:
    log.write_bytes(_line("m1", 5) + _line("m2", 6))
    _import(config, tmp_path)
    added = _line("m3", 7) + _line("m4", 8)
    with log.open("ab") as handle:
        handle.write(added)

    result = _import(config, tmp_path)

    assert (result.bytes_read, result.lines_read, result.records) == (len(added), 2, 2)
    assert sorted(_outputs(tmp_path).values()) == [5, 6, 7, 8]


def test_an_unchanged_file_is_not_opened(config: Path, log: Path, tmp_path: Path) -> None:
    log.write_bytes(_line("m1", 5))
    _import(config, tmp_path)
    stat = log.stat()
    # Same size, same mtime, other bytes: only a read could notice.
    log.write_bytes(_line("m9", 5))
    os.utime(log, ns=(stat.st_atime_ns, stat.st_mtime_ns))

    result = _import(config, tmp_path)

    assert (result.files_unchanged, result.files_read, result.bytes_read) == (1, 0, 0)
    assert _outputs(tmp_path) == {"m1:req-m1": 5}


def test_a_replaced_file_drops_its_records_and_is_read_again(
    config: Path, log: Path, tmp_path: Path
) -> None:
    log.write_bytes(_line("m1", 5) + _line("m2", 6))
    _import(config, tmp_path)
    fresh = log.with_suffix(".new")
    fresh.write_bytes(_line("m3", 7) + _line("m4", 8) + _line("m5", 9))
    fresh.replace(log)  # another inode under the same name

    result = _import(config, tmp_path)

    assert result.bytes_read == log.stat().st_size
    assert _outputs(tmp_path) == {"m3:req-m3": 7, "m4:req-m4": 8, "m5:req-m5": 9}


def test_a_shrunk_file_is_read_again_from_the_start(
    config: Path, log: Path, tmp_path: Path
) -> None:
    log.write_bytes(_line("m1", 5) + _line("m2", 6))
    _import(config, tmp_path)
    with log.open("r+b") as handle:  # the same inode, truncated and rewritten
        handle.truncate(0)
        handle.write(_line("m3", 7))

    _import(config, tmp_path)

    assert _outputs(tmp_path) == {"m3:req-m3": 7}


def test_a_file_rewritten_in_place_with_another_head_is_read_again(
    config: Path, log: Path, tmp_path: Path
) -> None:
    log.write_bytes(_line("m1", 5))
    _import(config, tmp_path)
    with log.open("r+b") as handle:  # same inode, longer: only the head tells
        handle.write(_line("m7", 7) + _line("m8", 8))

    _import(config, tmp_path)

    assert _outputs(tmp_path) == {"m7:req-m7": 7, "m8:req-m8": 8}


def test_a_line_longer_than_a_read_chunk_is_read_whole(
    config: Path, log: Path, tmp_path: Path
) -> None:
    huge = _line("m2", 6, text="x" * (CHUNK_BYTES + 1_000_000))
    log.write_bytes(_line("m1", 5) + huge + _line("m3", 7))

    result = _import(config, tmp_path)

    assert result.skipped == {}
    assert result.lines_read == 3
    assert _outputs(tmp_path) == {"m1:req-m1": 5, "m2:req-m2": 6, "m3:req-m3": 7}


def test_lines_are_read_in_bounded_chunks_and_overlong_ones_passed_over(
    tmp_path: Path,
) -> None:
    path = tmp_path / "lines.jsonl"
    lines = [b"a" * n for n in (3, 50, 7, 500, 9, 1, 0, 40)]
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    seen: list[bytes] = []
    skipped: dict[str, int] = {}
    start = 0
    while start < path.stat().st_size:
        chunk, start, skips = complete_lines(path, start, budget=16, max_line=100)
        seen += chunk
        for reason, count in skips.items():
            skipped[reason] = skipped.get(reason, 0) + count
    assert seen == [line for line in lines if len(line) < 100]
    assert skipped == {"line_too_long": 1}


def test_memory_stays_flat_on_a_file_many_times_the_read_chunk(
    config: Path, log: Path, tmp_path: Path
) -> None:
    # Transcript-like: big lines without usage (tool results), a usage line now and then.
    filler = (
        json.dumps({"type": "user", "message": {"content": "y" * 20_000}}).encode() + b"\n"
    ) * 20
    with log.open("wb") as handle:
        for n in range(300):  # about 120 MB
            handle.write(filler + _line(f"m{n}", n + 1))
    size = log.stat().st_size
    assert size > 12 * CHUNK_BYTES

    tracemalloc.start()
    try:
        result = _import(config, tmp_path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert result.bytes_read == size
    assert result.records == 300
    assert peak < 4 * CHUNK_BYTES, f"peak {peak / 1e6:.0f} MB for a {size / 1e6:.0f} MB file"


def test_an_unknown_source_or_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UnknownLogSourceError, match="claude, codex, gemini"):
        log_format("cursor")
    with pytest.raises(LogPathError, match="does not exist"):
        import_logs("claude", tmp_path / "nowhere", root=tmp_path)
