"""Gemini CLI's own chat logs, read into usage records.

Where the logs are (checked with the real CLI, 0.20.0 and 0.61.0): the CLI keeps
its state in ``~/.gemini`` (``$GEMINI_CLI_HOME/.gemini`` when that variable is
set) and one chat per session under ``tmp/<project>/chats/``. ``<project>`` is a
short name registered in ``.gemini/projects.json`` (``{"projects": {path:
name}}``, with the path repeated in ``tmp/<project>/.project_root``); older CLIs
used the SHA-256 of the project path, and newer ones move such a directory to
the short name the next time they run there. Subagents get a chat of their own
in ``chats/<parent session id>/<session id>.jsonl``.

Two formats, told apart by suffix:

- ``session-<date>T<hh-mm>-<id8>.jsonl`` (0.61.0): append-only JSON lines. The
  first line is the session's metadata (``sessionId``, ``projectHash``,
  ``startTime``, ``kind``); then one line per message write. A message is
  written again, whole and with the same ``id``, whenever the CLI adds to it
  (its tool calls and their results), so lines are deduplicated by message id.
  ``{"$set": {...}}`` lines update metadata (``$set.messages`` restates the
  whole history) and ``{"$rewindTo": id}`` drops messages from the
  conversation, but not from the bill: rewound responses were paid for, so
  their usage is kept.
- ``session-<date>T<hh-mm>-<id8>.json`` (before 0.61): one JSON document
  ``{sessionId, projectHash, startTime, lastUpdated, messages: [...]}``
  rewritten whole as the chat grows, so each read replaces all of that file's
  earlier records (``rewrite=True``). A resumed legacy chat is continued in a
  ``.jsonl`` beside it that repeats its messages; the keys make that harmless.

A model message is ``{"id", "timestamp", "type": "gemini", "model", "tokens":
{"input", "output", "cached", "thoughts", "tool", "total"}}``: the
``usageMetadata`` of the response's last stream chunk (``promptTokenCount``,
``candidatesTokenCount``, ``cachedContentTokenCount``, ``thoughtsTokenCount``,
``toolUsePromptTokenCount``, ``totalTokenCount``). Mapped onto fleetnb's kinds:

- ``input_tokens`` = input - cached + tool. Google's prompt count includes the
  cached tokens, fleetnb's input excludes them; tool-use prompt tokens are
  counted outside the prompt count and billed as input.
- ``cache_read_tokens`` = cached. Gemini has no cache-write charge per request.
- ``output_tokens`` = output + thoughts, and ``reasoning_tokens`` = thoughts:
  Google bills thinking tokens at the output rate, and fleetnb prices output.

ccusage 20.0.24 (``ccusage gemini daily --json --offline``) on the same real
logs: inputTokens and cacheReadTokens agree (it also subtracts the cached
tokens and adds the tool-use prompt tokens), its one count per message id
agrees, it too counts a subagent's chat as a session of its own, and
totalTokens agrees (it sums the logged ``total``, which includes thoughts).
Its ``outputTokens`` differs: it reports candidates only, without thoughts,
although its cost prices the thoughts as output. So fleetnb's ``output_tokens``
is ccusage's ``outputTokens`` plus the thoughts, and the costs agree.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from fleetnb.cost.logs import LogChunk, complete_lines, timestamp_seconds
from fleetnb.cost.records import UsageRecord

__all__ = ["SOURCE", "GeminiLogs"]

SOURCE = "gemini"
_SUFFIXES = (".json", ".jsonl")


class GeminiLogs:
    """The Gemini CLI's chats under ``<root>/tmp/*/chats/``, as a log format."""

    source = SOURCE

    def default_roots(self) -> list[Path]:
        # The CLI's own override of its home; ~/.gemini otherwise.
        home = os.environ.get("GEMINI_CLI_HOME")
        return [(Path(home) if home else Path.home()) / ".gemini"]

    def files(self, root: Path) -> Iterator[Path]:
        if root.is_file():
            yield root
            return
        # Subagent chats sit one directory deeper; backups the CLI leaves
        # (``.unreadable-<ms>``, ``.tmp-<pid>``) end in neither suffix.
        for chats in sorted(root.glob("tmp/*/chats")):
            for path in sorted(chats.rglob("*")):
                if path.suffix in _SUFFIXES and path.is_file():
                    yield path

    def read(self, path: Path, start: int, state: dict[str, Any]) -> LogChunk:
        state = {**state, "project": state.get("project") or _project(path)}
        if path.suffix == ".json":
            return _read_document(path, start, state)
        return _read_lines(path, start, state)


# -- the legacy whole-document format ----------------------------------------------


def _read_document(path: Path, start: int, state: dict[str, Any]) -> LogChunk:
    """Every model message of a ``.json`` chat; replaces the file's earlier records."""
    data = path.read_bytes()
    try:
        document = json.loads(data)
    except ValueError:
        # Caught mid-write or damaged: keep what an earlier read found.
        return LogChunk([], [], start, {"malformed_document": 1}, state)
    messages = document.get("messages") if isinstance(document, dict) else None
    if not isinstance(messages, list):
        return LogChunk([], [], start, {"not_a_chat": 1}, state)
    session = str(document.get("sessionId") or path.stem)
    batch = _Batch(session, state["project"])
    for message in messages:
        batch.add(message, standalone=True)
    records = batch.records()
    return LogChunk(
        records, [], len(data), dict(batch.skipped), state, rewrite=True, lines=len(messages)
    )


# -- the append-only JSON lines format ----------------------------------------------


def _read_lines(path: Path, start: int, state: dict[str, Any]) -> LogChunk:
    """A bounded run of complete lines of a ``.jsonl`` chat from ``start``."""
    lines, end, skipped = complete_lines(path, start)
    session = state.get("session") or (_first_session(path) if start else None)
    batch = _Batch(session or path.stem, state["project"])
    batch.skipped.update(skipped)
    for line in lines:
        batch.add_line(line)
    state = {**state, "session": batch.session}
    return LogChunk(batch.records(), [], end, dict(batch.skipped), state, lines=len(lines))


def _first_session(path: Path) -> str | None:
    """The session id from a chat's metadata line, for a read that starts later."""
    with path.open("rb") as stream:
        first = stream.readline()
    try:
        metadata = json.loads(first)
    except ValueError:
        return None
    return _session_id(metadata)


def _session_id(record: object) -> str | None:
    if isinstance(record, dict) and isinstance(record.get("sessionId"), str):
        return record["sessionId"] or None
    return None


class _Batch:
    """The records one read finds, last write of each message id winning."""

    def __init__(self, session: str, project: str) -> None:
        self.session = session
        self.project = project
        self.skipped: dict[str, int] = collections.Counter()
        self._found: dict[str, UsageRecord] = {}
        self._untallied: set[str] = set()  # model messages seen without tokens

    def add_line(self, line: bytes) -> None:
        if not line.strip():
            return
        try:
            record = json.loads(line)
        except ValueError:
            self.skipped["malformed_line"] += 1
            return
        if not isinstance(record, dict):
            self.skipped["unknown_line"] += 1
        elif "$rewindTo" in record:
            pass  # rewound responses were still paid for
        elif isinstance(record.get("$set"), dict):
            for message in _list(record["$set"].get("messages")):
                self.add(message, standalone=False)
        elif "id" in record:
            self.add(record, standalone=True)
        elif (session := _session_id(record)) is not None:
            self.session = session
            for message in _list(record.get("messages")):
                self.add(message, standalone=True)
        else:
            self.skipped["unknown_line"] += 1

    def add(self, message: object, *, standalone: bool) -> None:
        """One message; ``standalone`` is False where a history restates it."""
        if not isinstance(message, dict) or message.get("type") != "gemini":
            return  # user turns, info and error notes carry no usage
        message_id = message.get("id")
        tokens = message.get("tokens")
        if not isinstance(message_id, str) or not message_id:
            self.skipped["message_without_id"] += 1
        elif not isinstance(tokens, dict):
            if standalone:
                self._untallied.add(message_id)
        elif (record := self._record(message_id, message, tokens)) is not None:
            self._found[message_id] = record
        else:
            self.skipped["bad_usage"] += 1

    def records(self) -> list[UsageRecord]:
        missing = self._untallied - self._found.keys()
        if missing:
            self.skipped["message_without_tokens"] += len(missing)
        return list(self._found.values())

    def _record(
        self, message_id: str, message: Mapping[str, Any], tokens: Mapping[str, Any]
    ) -> UsageRecord | None:
        stamp = message.get("timestamp")
        ts = timestamp_seconds(stamp) if isinstance(stamp, str) else None
        counts = {name: tokens.get(name, 0) for name in ("input", "output", "cached", "thoughts")}
        counts["tool"] = tokens.get("tool") or 0  # absent before the CLI counted it
        if ts is None or not all(_is_count(value) for value in counts.values()):
            return None
        model = message.get("model")
        return UsageRecord(
            source=SOURCE,
            key=f"{self.session}:{message_id}",  # the ledger prefixes the source
            ts=ts,
            session=self.session,
            project=self.project,
            model=model if isinstance(model, str) and model else None,
            input_tokens=max(counts["input"] - counts["cached"], 0) + counts["tool"],
            output_tokens=counts["output"] + counts["thoughts"],
            cache_read_tokens=counts["cached"],
            reasoning_tokens=counts["thoughts"],
        )


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


# -- which project a chat belongs to ----------------------------------------------


def _project(path: Path) -> str:
    """The project path a chat was recorded in, or its directory's name if unknown."""
    chats = next((parent for parent in path.parents if parent.name == "chats"), None)
    if chats is None:
        return path.parent.name
    project_dir = chats.parent
    try:
        recorded = (project_dir / ".project_root").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        recorded = ""
    if recorded:
        return recorded
    # An older CLI named the directory by the SHA-256 of the project path.
    registry = project_dir.parent.parent / "projects.json"
    for known in _registered_paths(registry):
        if hashlib.sha256(known.encode()).hexdigest() == project_dir.name:
            return known
    return project_dir.name


def _registered_paths(registry: Path) -> list[str]:
    try:
        projects = json.loads(registry.read_text(encoding="utf-8")).get("projects")
    except (OSError, ValueError, AttributeError):
        return []
    return [str(path) for path in projects] if isinstance(projects, dict) else []
