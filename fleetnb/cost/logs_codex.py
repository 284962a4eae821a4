"""Codex CLI rollouts: ``<CODEX_HOME>/sessions/YYYY/MM/DD/rollout-*.jsonl``.

Observed in rollouts written by codex-cli 0.171.0 (driven by the harness tests) and
in what ccusage 20.0.24's ``codex daily|session --json --offline`` reports for
hand-written ones:

- Usage lives in ``event_msg`` lines of payload type ``token_count``:
  ``info.total_token_usage`` (cumulative for the thread) and ``info.last_token_usage``
  (the last response), or ``info: null`` before any usage. 0.171.0 also writes
  ``token_usage_record`` lines with per-response usage; ccusage ignores them, and
  so does this reader (counting both would double the usage).
- A ``token_count`` whose cumulative total equals the previous one is a repeat
  (written again after a resume or a rate-limit refresh) and is skipped, even when
  its ``last_token_usage`` differs. Otherwise the last usage counts; without it,
  the growth of the total does. A total that goes down still counts its last usage.
- OpenAI's ``input_tokens`` include cached and cache-write tokens: uncached input is
  ``input - cached_input - cache_write_input`` (ccusage: 1000 in, 400 cached,
  50 written -> 550 input, 400 cache read, 50 cache creation). Reasoning tokens
  are part of ``output_tokens`` and reported beside it.
- The model comes from the latest ``turn_context`` line (ccusage falls back to
  ``gpt-5`` when there is none; this reader leaves the model unknown, unpriced).
- ``archived_sessions/`` is read too. ccusage's session id is the file's path below
  ``sessions/`` (or ``archived_sessions/``) without ``.jsonl``; so is ours. Keys use
  the thread id of ``session_meta``, so a rollout moved to the archive is not
  counted twice.
- Limits: ``rate_limits.primary`` / ``secondary`` windows carry ``used_percent``,
  ``window_minutes`` (300: the 5-hour window, 10080: the weekly one) and
  ``resets_at`` (epoch seconds; older CLIs ``resets_in_seconds``). A window at
  100 % or a non-null ``rate_limit_reached_type`` is a limit hit; so is a
  ``task_complete`` (or ``error``) whose ``codex_error_info`` is
  ``usage_limit_exceeded`` (what 0.171.0 writes after the API's 429).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from fleetnb.cost.logs import LogChunk, complete_lines, find_files, timestamp_seconds
from fleetnb.cost.records import LimitHit, UsageRecord

__all__ = ["CodexLogs"]

# Only these lines are decoded; the rest (messages, tool output) are passed over.
_WANTED = (
    b'"type":"token_count"',
    b'"type":"turn_context"',
    b'"type":"session_meta"',
    b"usage_limit_exceeded",
)
_WINDOWS = {300: "5-hour", 10080: "weekly"}


class _Tokens(msgspec.Struct):
    input_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_output_tokens: int = 0
    total_tokens: int = 0


class _Info(msgspec.Struct):
    total_token_usage: _Tokens | None = None
    last_token_usage: _Tokens | None = None


class _Window(msgspec.Struct):
    used_percent: float = 0.0
    window_minutes: int | None = None
    resets_at: float | None = None
    resets_in_seconds: float | None = None


class _Limits(msgspec.Struct):
    primary: _Window | None = None
    secondary: _Window | None = None
    rate_limit_reached_type: str | None = None


class _Payload(msgspec.Struct):
    type: str | None = None
    id: str | None = None
    model: str | None = None
    cwd: str | None = None
    turn_id: str | None = None
    info: _Info | None = None
    rate_limits: _Limits | None = None
    error: Any = None
    message: Any = None
    codex_error_info: Any = None


class _Line(msgspec.Struct):
    timestamp: str | None = None
    type: str | None = None
    payload: _Payload | None = None


_decode_line = msgspec.json.Decoder(_Line).decode


class CodexLogs:
    """Codex rollouts under ``CODEX_HOME`` (or ~/.codex)."""

    source = "codex"

    def default_roots(self) -> list[Path]:
        configured = os.environ.get("CODEX_HOME", "").strip()
        return [Path(configured) if configured else Path.home() / ".codex"]

    def files(self, root: Path) -> Iterator[Path]:
        for folder in ("sessions", "archived_sessions"):
            yield from find_files(root / folder, _is_rollout)

    def read(self, path: Path, start: int, state: dict[str, Any]) -> LogChunk:
        lines, end, skipped = complete_lines(path, start)
        parser = _Parser(path, dict(state), skipped)
        offset = start
        for line in lines:
            parser.line(line, offset)
            offset += len(line) + 1
        return LogChunk(
            records=parser.records,
            limits=parser.limits,
            end=end,
            skipped=skipped,
            state=parser.state,
            lines=len(lines),
        )


class _Parser:
    def __init__(self, path: Path, state: dict[str, Any], skipped: dict[str, int]) -> None:
        self.session = _session_name(path)
        self.state = state
        self.state.setdefault("thread", path.stem)
        self.skipped = skipped
        self.records: list[UsageRecord] = []
        self.limits: list[LimitHit] = []

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def line(self, line: bytes, offset: int) -> None:
        if not any(marker in line for marker in _WANTED):
            if line[:1] != b"{" and line.strip():
                self.skip("not_json")
            return
        try:
            entry = _decode_line(line)
        except msgspec.ValidationError:
            self.skip("invalid_usage")
            return
        except msgspec.DecodeError:
            self.skip("not_json")
            return
        payload = entry.payload
        if payload is None:
            return
        if entry.type == "session_meta":
            self.state["thread"] = payload.id or self.state["thread"]
            self.state["cwd"] = payload.cwd or self.state.get("cwd")
        elif entry.type == "turn_context":
            self.state["model"] = payload.model or self.state.get("model")
            self.state["cwd"] = payload.cwd or self.state.get("cwd")
        elif entry.type == "event_msg":
            self._event(payload, entry.timestamp, offset)

    def _event(self, payload: _Payload, stamp: str | None, offset: int) -> None:
        ts = timestamp_seconds(stamp)
        if ts is None:
            self.skip("bad_timestamp")
            return
        if payload.type == "token_count":
            if payload.info is not None:
                self._usage(payload.info, ts, stamp or "", offset)
            if payload.rate_limits is not None:
                self._rate_limits(payload.rate_limits, ts)
        elif _is_usage_limit(payload):
            message = _error_message(payload) or "usage limit reached"
            key = f"{self.state['thread']}:{payload.turn_id or stamp}:usage_limit"
            self.limits.append(LimitHit("codex", key, ts, self.session, message))

    def _usage(self, info: _Info, ts: float, stamp: str, offset: int) -> None:
        total = info.total_token_usage
        usage = info.last_token_usage
        if total is not None:
            now = _as_list(total)
            before = self.state.get("total")
            if before == now:
                return  # a repeat of the previous count
            self.state["total"] = now
            if usage is None:
                usage = _growth(total, before)
        if usage is None:
            return
        cached = usage.cached_input_tokens
        written = usage.cache_write_input_tokens
        fresh = max(usage.input_tokens - cached - written, 0)
        if fresh + usage.output_tokens + cached + written == 0:
            return
        tail = total.total_tokens if total is not None else f"@{offset}"
        self.records.append(
            UsageRecord(
                "codex",
                f"{self.state['thread']}:{stamp}:{tail}",
                ts,
                self.session,
                self.state.get("cwd") or "",
                self.state.get("model"),
                fresh,
                usage.output_tokens,
                written,
                0,
                cached,
                usage.reasoning_output_tokens,
            )
        )

    def _rate_limits(self, limits: _Limits, ts: float) -> None:
        windows = [w for w in (limits.primary, limits.secondary) if w is not None]
        full = [w for w in windows if w.used_percent >= 100]
        if not full and limits.rate_limit_reached_type and windows:
            full = [max(windows, key=lambda w: w.used_percent)]
        for window in full:
            resets = window.resets_at
            if resets is None and window.resets_in_seconds is not None:
                resets = ts + window.resets_in_seconds
            minutes = window.window_minutes
            name = _WINDOWS.get(minutes or 0, f"{minutes}-minute" if minutes else "rate")
            reason = limits.rate_limit_reached_type or f"{window.used_percent:g}% used"
            key = f"{self.state['thread']}:{minutes}:{int(resets) if resets else ts}"
            message = f"{name} limit reached ({reason})"
            self.limits.append(LimitHit("codex", key, ts, self.session, message, resets, minutes))


def _as_list(tokens: _Tokens) -> list[int]:
    return [
        tokens.input_tokens,
        tokens.cached_input_tokens,
        tokens.cache_write_input_tokens,
        tokens.output_tokens,
        tokens.reasoning_output_tokens,
    ]


def _growth(total: _Tokens, before: list[int] | None) -> _Tokens:
    """The usage between two cumulative counts (the whole count when it shrank)."""
    now = _as_list(total)
    if before is None or any(b > n for b, n in zip(before, now, strict=True)):
        return total
    fresh, cached, written, output, reasoning = (n - b for n, b in zip(now, before, strict=True))
    return _Tokens(fresh, cached, written, output, reasoning, fresh + output)


def _is_usage_limit(payload: _Payload) -> bool:
    info = payload.codex_error_info
    if isinstance(payload.error, dict):
        info = payload.error.get("codex_error_info", info)
    if isinstance(info, dict):
        return "usage_limit_exceeded" in info
    return bool(info == "usage_limit_exceeded")


def _error_message(payload: _Payload) -> str | None:
    if isinstance(payload.error, dict) and isinstance(payload.error.get("message"), str):
        return str(payload.error["message"])
    return payload.message if isinstance(payload.message, str) else None


def _session_name(path: Path) -> str:
    """The rollout's path below ``sessions/`` (or ``archived_sessions/``), as ccusage names it."""
    parts = path.with_suffix("").parts
    for index in range(len(parts) - 1, -1, -1):
        if parts[index] in ("sessions", "archived_sessions"):
            return "/".join(parts[index + 1 :])
    return path.stem


def _is_rollout(name: str) -> bool:
    return name.startswith("rollout-") and name.endswith(".jsonl")
