"""Claude Code transcripts: ``<config>/projects/<project>/<session>.jsonl``.

What ccusage 20.0.24 does with these files, learnt by running its ``claude daily``
and ``claude session --json --offline`` on small hand-written trees (facts, each
one observed), and what this reader does:

- Every ``*.jsonl`` under ``projects/`` counts, at any depth. The project is the
  first directory under ``projects/``; the session is the file's stem, except that
  subagent files ``<project>/<session>/subagents/agent-*.jsonl`` count for
  ``<session>``. (Deeper layouts: the parent directory is the session, the
  directories between are the project.) The ``sessionId`` field is not used.
- Any line with ``message.usage`` counts, whatever its ``type`` (user, system and
  summary lines too), sidechain (``isSidechain``) and API-error
  (``isApiErrorMessage``) lines too. A line needs a parseable ``timestamp``
  (ISO 8601, offsets allowed) and integer ``input_tokens`` and ``output_tokens``;
  otherwise it is dropped. Missing cache fields are 0. A line whose usage is all
  zero (Claude Code's ``<synthetic>`` usage-limit message) adds nothing.
- ccusage only sees lines whose usage is written compactly (``"usage":{``), as
  Claude Code writes them; this reader uses the same byte test as its pre-filter.
- Deduplication: lines with the same ``message.id`` and ``requestId`` are one API
  response, also across files; the line with the **largest total tokens** wins
  (not the last: of outputs 5, 50, 20 it keeps 50). On a tie ``session`` keeps the
  first line read (files in path order); in the two ties tried, ``daily`` kept the
  costlier line. This reader keeps the first, as ``session`` does.
- Claude Code 2.1.332 (the CLI these tests drive) writes **no** ``requestId`` on
  assistant lines any more (a ``requestRef`` instead). Without it ccusage's
  ``session`` report deduplicates by ``message.id`` alone, but its ``daily`` report
  keys on ``message.id`` plus ``timestamp``, so the content blocks of one response
  (written milliseconds apart) are counted once each there. This reader keys on
  ``message.id`` alone (as ``session`` does), counting each response once.
  Lines with no ``message.id`` are never deduplicated.
- Cache writes: when ``usage.cache_creation`` is present, ccusage takes the sum of
  its ``ephemeral_5m_input_tokens`` and ``ephemeral_1h_input_tokens`` and ignores
  ``cache_creation_input_tokens`` (300 with a split of 50 + 100 counts 150).
  Claude Code 2.1.332 writes that object with zeros when the API sent no split
  (as the fake API of the tests does), and ccusage then counts no cache writes at
  all; this reader follows ccusage except for an all-zero split, where it keeps
  ``cache_creation_input_tokens``. 1-hour writes are priced apart.
- ``costUSD`` on a line replaces ccusage's computed cost for it; it is kept here as
  ``reported_cost_usd``. Models ccusage cannot price (``<synthetic>``, none) cost 0
  there and are left unpriced here.
- Usage-limit messages (``Claude AI usage limit reached|<epoch seconds>`` as the
  text of an assistant line) become limit hits; ccusage does not report them.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from fleetnb.cost.logs import LogChunk, complete_block, find_files, timestamp_seconds
from fleetnb.cost.records import LimitHit, UsageRecord

__all__ = ["ClaudeLogs"]

_USAGE = b'"usage":{'
_LIMIT = b"usage limit reached|"


class _CacheSplit(msgspec.Struct):
    ephemeral_5m_input_tokens: int = 0
    ephemeral_1h_input_tokens: int = 0


class _Details(msgspec.Struct):
    thinking_tokens: int = 0


class _Usage(msgspec.Struct):
    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int | None = 0
    cache_read_input_tokens: int | None = 0
    cache_creation: _CacheSplit | None = None
    output_tokens_details: _Details | None = None


class _Message(msgspec.Struct):
    id: str | None = None
    model: str | None = None
    usage: _Usage | None = None


class _Line(msgspec.Struct):
    timestamp: str | None = None
    message: _Message | None = None
    requestId: str | None = None
    costUSD: float | None = None


class _Text(msgspec.Struct):
    text: str | None = None


class _LimitMessage(msgspec.Struct):
    content: list[_Text] | str | None = None


class _LimitLine(msgspec.Struct):
    timestamp: str | None = None
    message: _LimitMessage | None = None


_decode_line = msgspec.json.Decoder(_Line).decode
_decode_limit = msgspec.json.Decoder(_LimitLine).decode


class ClaudeLogs:
    """Claude Code's transcripts under ``CLAUDE_CONFIG_DIR`` (or ~/.claude, ~/.config/claude)."""

    source = "claude"

    def default_roots(self) -> list[Path]:
        configured = os.environ.get("CLAUDE_CONFIG_DIR", "").strip()
        if configured:
            return [Path(part.strip()) for part in configured.split(",") if part.strip()]
        home = Path.home()
        return [home / ".config" / "claude", home / ".claude"]

    def files(self, root: Path) -> Iterator[Path]:
        yield from find_files(root / "projects", lambda name: name.endswith(".jsonl"))

    def read(self, path: Path, start: int, state: dict[str, Any]) -> LogChunk:
        block, end, skipped = complete_block(path, start)
        project, session = _where(path)
        parser = _Parser(project, session, _tag(path), skipped)
        # The data is touched as few times as possible: one split, one scan of each
        # line for the usage marker, and one C-speed search for the rare limit text.
        lines = block.split(b"\n")
        lines.pop()  # what follows the last newline: nothing, the block ends there
        offset, strays = start, 0
        for line in lines:
            if line[:1] != b"{":
                strays += 1  # not even a JSON object
            elif _USAGE in line:
                parser.line(line, offset)
            offset += len(line) + 1
        if strays:
            parser.skip("not_json", strays)
        for line, _ in _lines_with(block, _LIMIT):
            parser.limit(line)
        return LogChunk(
            records=parser.records(),
            limits=parser.limits,
            end=end,
            skipped=skipped,
            state=state,
            lines=len(lines),
        )


def _lines_with(block: bytes, marker: bytes) -> Iterator[tuple[bytes, int]]:
    """The lines of ``block`` that contain ``marker``, each with its offset in the block."""
    found = block.find(marker)
    while found >= 0:
        begin = block.rfind(b"\n", 0, found) + 1
        stop = block.find(b"\n", found)
        yield block[begin:stop], begin
        found = block.find(marker, stop)


class _Parser:
    """One chunk's lines into records, the chunk's repeats of one response folded."""

    def __init__(self, project: str, session: str, tag: str, skipped: dict[str, int]) -> None:
        self.project = project
        self.session = session
        self.tag = tag
        self.skipped = skipped
        self.best: dict[str, tuple[int, UsageRecord]] = {}
        self.limits: list[LimitHit] = []

    def skip(self, reason: str, count: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + count

    def line(self, line: bytes, offset: int) -> None:
        entry = self._decode(line)
        message = entry.message if entry is not None else None
        if entry is not None and message is not None and message.usage is not None:
            self._usage(entry, message, message.usage, offset)

    def _decode(self, line: bytes) -> _Line | None:
        if line[:1] != b"{":
            return None  # counted with the other lines that are not JSON objects
        try:
            return _decode_line(line)
        except msgspec.ValidationError:
            self.skip("invalid_usage")
        except msgspec.DecodeError:
            self.skip("not_json")
        return None

    def _usage(self, entry: _Line, message: _Message, usage: _Usage, offset: int) -> None:
        split = usage.cache_creation
        split_1h = split.ephemeral_1h_input_tokens if split else 0
        split_sum = split.ephemeral_5m_input_tokens + split_1h if split else 0
        # ccusage's rule, except for the all-zero split Claude Code writes when the API
        # sent none: that one would hide the cache writes the API did bill.
        cache_write = split_sum if split_sum else usage.cache_creation_input_tokens or 0
        cache_read = usage.cache_read_input_tokens or 0
        total = usage.input_tokens + usage.output_tokens + cache_write + cache_read
        if total == 0:
            return
        key = self._key(entry, message, offset)
        held = self.best.get(key)
        if held is not None and held[0] >= total:
            return  # a repeat of a response already counted with as many tokens
        ts = timestamp_seconds(entry.timestamp)
        if ts is None:
            self.skip("bad_timestamp")
            return
        details = usage.output_tokens_details
        self.best[key] = (
            total,
            UsageRecord(
                "claude",
                key,
                ts,
                self.session,
                self.project,
                message.model,
                usage.input_tokens,
                usage.output_tokens,
                cache_write,
                split_1h,
                cache_read,
                details.thinking_tokens if details else 0,
                entry.costUSD,
            ),
        )

    def _key(self, entry: _Line, message: _Message, offset: int) -> str:
        if message.id is None:
            return f"{self.tag}@{offset}"  # never deduplicated
        if entry.requestId:
            return f"{message.id}:{entry.requestId}"
        return message.id

    def limit(self, line: bytes) -> None:
        try:
            entry = _decode_limit(line)
        except msgspec.MsgspecError:
            return  # counted, if it must be, by the usage pass over the same line
        ts = timestamp_seconds(entry.timestamp)
        content = entry.message.content if entry.message and ts is not None else None
        texts = [content] if isinstance(content, str) else [c.text or "" for c in content or []]
        for text in texts:
            head, bar, tail = text.partition("|")
            if not bar or "usage limit reached" not in head:
                continue
            resets = float(tail.strip()) if tail.strip().isdigit() else None
            key = f"{self.session}:{int(resets) if resets is not None else ts}"
            self.limits.append(
                LimitHit("claude", key, ts or 0.0, self.session, head.strip(), resets)
            )

    def records(self) -> list[UsageRecord]:
        return [record for _, record in self.best.values()]


def _where(path: Path) -> tuple[str, str]:
    """(project, session) of a transcript, as ccusage names them."""
    parts = path.parts
    below = parts[len(parts) - parts[::-1].index("projects") :] if "projects" in parts else ()
    if len(below) < 2:
        return (path.parent.name, path.stem)
    if len(below) == 2:
        return (below[0], path.stem)
    if below[-2] == "subagents" and len(below) >= 4:
        return ("/".join(below[:-3]), below[-3])
    return ("/".join(below[:-2]), below[-2])


def _tag(path: Path) -> str:
    """A short stable name for a file, for keys of lines that carry no id."""
    return hashlib.blake2b(os.fsencode(path), digest_size=8).hexdigest()
