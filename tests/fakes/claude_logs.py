"""Large Claude Code log trees, written as Claude Code 2.1 writes them, with their ground truth.

:func:`generate_tree` writes ``<root>/projects/<project dir>/<session uuid>.jsonl``
files (and ``<session uuid>/subagents/agent-<id>.jsonl`` for subagents) and
returns the token sums a correct reader must find. The format follows
transcripts the real CLI (2.1.332) wrote in the harness tests against the fake
Anthropic server; the facts that matter to a reader:

- One compact JSON object a line. ccusage 20.0.24 skips a line whose ``"usage":``
  has a space after the colon, so the separators matter.
- One line per content block of an assistant message, each repeating the
  message's ``id``, the response's ``requestId`` and its usage. The CLI writes the
  lines after the response ends, so every line carries the final output count
  (the provisional one of ``message_start`` never reaches the log), while each
  line's ``timestamp`` is when its block finished: blocks of one message may fall
  on two days. ccusage keeps the first line of a ``message.id`` + ``requestId``
  pair across all files, so the ground truth counts a message on its first line.
- ``cache_creation_input_tokens`` equals the sum of ``cache_creation``'s 5-minute
  and 1-hour counts; ccusage 20.0.24 reads that breakdown when it is present.
- Subagents write their own files with ``isSidechain: true`` and the parent's
  ``sessionId``; API errors and usage limits are ``<synthetic>`` assistant lines
  with zero usage and ``isApiErrorMessage``; a resumed session starts by
  replaying earlier lines of its project (same ids and timestamps, counted once;
  ccusage credits such a message to the file whose path sorts first, neither the
  oldest file nor the newest, and ``GroundTruth.by_session`` follows it).

Sizes stay where genai-prices 0.2.3 and ccusage's offline table agree: every
request's whole input stays under 200k tokens (their long-context tiers differ
for claude-sonnet-4-5). Both price 1-hour cache writes alike, so some sessions
write the 1-hour cache.

Generation streams one session at a time, so memory stays bounded whatever
``lines`` is, and the same ``seed`` writes the same bytes.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import random
import string
import subprocess
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["MODELS", "GroundTruth", "LimitLine", "Tokens", "ccusage_json", "generate_tree"]

#: Models both genai-prices 0.2.3 and ccusage 20.0.24 (offline) price identically.
MODELS = (
    "claude-sonnet-4-5-20250929",
    "claude-sonnet-4-20250514",
    "claude-opus-4-1-20250805",
    "claude-haiku-4-5-20251001",
    "claude-3-5-haiku-20241022",
)
VERSION = "2.1.332"
LIMIT_TEXT = "Claude AI usage limit reached|{}"
_MAX_INPUT = 190_000  # per request, input + cache reads + cache writes
_ENCODER = json.JSONEncoder(separators=(",", ":"))  # compact, as the CLI writes
_escape = _ENCODER.encode  # a str encodes as a JSON string literal
_DEFAULT_START = datetime(2025, 10, 1, tzinfo=UTC)


@dataclasses.dataclass(slots=True)
class Tokens:
    """Token sums by kind; ``cache_write`` includes the 1-hour writes."""

    input: int = 0
    output: int = 0
    cache_write: int = 0
    cache_write_1h: int = 0
    cache_read: int = 0

    @property
    def total(self) -> int:
        return self.input + self.output + self.cache_write + self.cache_read

    def add(self, other: Tokens) -> None:
        self.input += other.input
        self.output += other.output
        self.cache_write += other.cache_write
        self.cache_write_1h += other.cache_write_1h
        self.cache_read += other.cache_read


@dataclasses.dataclass(frozen=True, slots=True)
class LimitLine:
    """A ``Claude AI usage limit reached|<epoch>`` line the tree holds."""

    ts: float
    session: str
    resets_at: int


@dataclasses.dataclass
class GroundTruth:
    """What a correct reader finds in a generated tree."""

    lines: int = 0
    files: int = 0
    #: unique ``message.id`` + ``requestId`` pairs of real (non-synthetic) responses
    messages: int = 0
    #: UTC day (YYYY-MM-DD) -> model -> tokens
    by_day: dict[str, dict[str, Tokens]] = dataclasses.field(default_factory=dict)
    #: session id -> tokens. A message a resumed session replays goes, as ccusage
    #: 20.0.24 does it, to the session whose file path sorts first (not the oldest).
    by_session: dict[str, Tokens] = dataclasses.field(default_factory=dict)
    limit_hits: list[LimitLine] = dataclasses.field(default_factory=list)

    def days(self) -> dict[str, Tokens]:
        """Tokens per UTC day, all models together."""
        return {day: _summed(models.values()) for day, models in sorted(self.by_day.items())}

    def models(self) -> dict[str, Tokens]:
        """Tokens per model, all days together."""
        sums: dict[str, Tokens] = {}
        for models in self.by_day.values():
            for model, tokens in models.items():
                sums.setdefault(model, Tokens()).add(tokens)
        return sums

    def total(self) -> Tokens:
        return _summed(self.days().values())

    def sessions(self) -> dict[str, Tokens]:
        """Tokens per session that has any (a report lists no empty session)."""
        return {session: tokens for session, tokens in self.by_session.items() if tokens.total}

    def _count(self, day: str, model: str, session: str, tokens: Tokens) -> None:
        self.messages += 1
        self.by_day.setdefault(day, {}).setdefault(model, Tokens()).add(tokens)
        self.by_session.setdefault(session, Tokens()).add(tokens)

    def _move(self, tokens: Tokens, old: str, new: str) -> None:
        self.by_session[old].add(Tokens(*(-n for n in dataclasses.astuple(tokens))))
        self.by_session.setdefault(new, Tokens()).add(tokens)


def generate_tree(
    root: Path,
    *,
    lines: int,
    seed: int,
    start: datetime = _DEFAULT_START,
    days: int = 14,
    models: Sequence[str] = MODELS,
) -> GroundTruth:
    """Write a Claude Code log tree of exactly ``lines`` lines under ``root``.

    Sessions start over ``days`` days from ``start`` (some just before
    midnight, so they run into the next day); each project keeps a main model
    and sends subagents and side requests to the others.
    """
    writer = _Writer(root / "projects", random.Random(seed), lines, models)
    span = days * 86_400
    base = start.timestamp()
    while writer.remaining > 0:
        writer.session(base + writer.rng.random() * span)
    return writer.truth


def _summed(parts: Iterable[Tokens]) -> Tokens:
    total = Tokens()
    for part in parts:
        total.add(part)
    return total


def _timestamp(ts: float) -> str:
    whole = int(ts)
    return (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{int((ts - whole) * 1000):03d}Z"
    )


def _day(ts: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(int(ts)))


@dataclasses.dataclass
class _Project:
    directory: Path
    cwd: str
    branch: str
    model: str
    #: the last API lines of its latest session, for a resumed session to replay
    tail: list[tuple[str, _Response]] = dataclasses.field(default_factory=list)
    tail_session: str = ""
    tail_end: float = 0.0  # when that session ended: a resumed one starts later


@dataclasses.dataclass(eq=False)
class _Response:
    """One API response's usage and the session ccusage credits it to."""

    tokens: Tokens
    holder: str


@dataclasses.dataclass
class _Session:
    project: _Project
    id: str
    clock: float
    cache_1h: bool
    out: list[str] = dataclasses.field(default_factory=list)
    responses: list[tuple[str, _Response]] = dataclasses.field(default_factory=list)
    parent: str | None = None  # last uuid, for parentUuid chains
    agent: str | None = None  # set in a subagent's file
    suffix: str = ""  # the members every line of the file ends with, encoded once

    def __post_init__(self) -> None:
        members = {
            "userType": "external",
            "entrypoint": "cli",
            "cwd": self.project.cwd,
            "sessionId": self.id,
            "version": VERSION,
            "gitBranch": self.project.branch,
        }
        if self.agent is not None:
            members["agentId"] = self.agent
        self.suffix = _ENCODER.encode(members)[1:]


class _Writer:
    """Emits sessions line by line, counting the ground truth as lines are written."""

    def __init__(self, projects: Path, rng: random.Random, lines: int, models: Sequence[str]):
        self.rng = rng
        self.remaining = lines
        self.models = list(models)
        self.truth = GroundTruth()
        self.text = _text_pool(rng)
        self.ids = "".join(rng.choices(_ID_CHARS, k=65_536))
        count = max(3, min(40, lines // 4000))
        self.projects = [self._project(projects, i) for i in range(count)]

    def _project(self, projects: Path, index: int) -> _Project:
        name = f"{self.rng.choice(_WORDS)}-{self.rng.choice(_WORDS)}-{index}"
        cwd = f"/home/dev/src/{name}"
        directory = projects / cwd.replace("/", "-")
        directory.mkdir(parents=True, exist_ok=True)
        branch = self.rng.choice(["main", "master", "dev", f"feature/{name}"])
        return _Project(directory, cwd, branch, self.models[index % len(self.models)])

    def _uuid(self) -> str:
        """A version-4 UUID string (formatted by hand: ``uuid.UUID`` is slow per line)."""
        h = f"{self.rng.getrandbits(128):032x}"
        variant = "89ab"[int(h[16], 16) & 3]
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:]}"

    def _unique(self, size: int) -> str:
        """A letters-and-digits id from 132 random bits: unique, unlike a cut from the pool."""
        raw = self.rng.getrandbits(132).to_bytes(17, "big")
        return base64.b64encode(raw, altchars=b"xy").decode()[:size]

    def _token(self, size: int) -> str:
        """Random-looking id characters, cut from a pool (``choices`` per id is slow)."""
        at = self.rng.randrange(len(self.ids) - size)
        return self.ids[at : at + size]

    def _snippet(self, low: int, high: int) -> str:
        size = self.rng.randint(low, high)
        at = self.rng.randrange(len(self.text) - size)
        return self.text[at : at + size]

    # -- sessions -------------------------------------------------------------------

    def session(self, start: float) -> None:
        rng = self.rng
        project = rng.choice(self.projects)
        if rng.random() < 0.1:  # some sessions start late in the evening
            start = start - start % 86_400 + 86_400 - rng.uniform(60, 3_600)
        resumed = bool(project.tail) and rng.random() < 0.2
        if resumed:
            start = project.tail_end + rng.uniform(60, 7_200)
        session = _Session(project, self._uuid(), start, cache_1h=rng.random() < 0.25)
        if resumed:
            self._replay(session)
        turns = rng.randint(2, 60)
        for _ in range(turns):
            if self.remaining <= 0 or not self._turn(session):
                break
        project.tail = session.responses[-12:]
        project.tail_session = session.id
        project.tail_end = session.clock
        self._flush(project.directory / f"{session.id}.jsonl", session.out)

    def _replay(self, session: _Session) -> None:
        old = session.project.tail_session
        moved: set[int] = set()
        for original, response in session.project.tail:
            if self.remaining <= 0:
                return
            line = original.replace(old, session.id)
            self._emit(session, line)
            session.responses.append((line, response))
            if id(response) not in moved and session.id < response.holder:
                self.truth._move(response.tokens, response.holder, session.id)
                response.holder = session.id
            moved.add(id(response))

    def _flush(self, path: Path, out: list[str]) -> None:
        if out:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("w", encoding="utf-8") as f:
                f.write("".join(out))
            self.truth.files += 1

    def _emit(self, session: _Session, line: str) -> None:
        session.out.append(line + "\n")
        self.remaining -= 1
        self.truth.lines += 1

    def _line(self, session: _Session, kind: str, **fields: Any) -> dict[str, Any]:
        me = self._uuid()
        line: dict[str, Any] = {
            "parentUuid": session.parent,
            "isSidechain": session.agent is not None,
            "type": kind,
            "uuid": me,
            "timestamp": _timestamp(session.clock),
            **fields,
            "userType": "external",
            "entrypoint": "cli",
            "cwd": session.project.cwd,
            "sessionId": session.id,
            "version": VERSION,
            "gitBranch": session.project.branch,
        }
        if session.agent is not None:
            line["agentId"] = session.agent
        session.parent = me
        return line

    def _put(self, session: _Session, line: dict[str, Any]) -> None:
        if self.remaining > 0:
            self._emit(session, _ENCODER.encode(line))

    def _encoded(self, session: _Session, kind: str, body: str) -> str:
        """What :meth:`_line` and :meth:`_put` write, built from encoded parts: the hot path."""
        me = self._uuid()
        parent = "null" if session.parent is None else f'"{session.parent}"'
        sidechain = "false" if session.agent is None else "true"
        session.parent = me
        return (
            f'{{"parentUuid":{parent},"isSidechain":{sidechain},"type":"{kind}","uuid":"{me}",'
            f'"timestamp":"{_timestamp(session.clock)}",{body},{session.suffix}'
        )

    # -- one turn: a prompt, then API calls and tool results until the answer ------

    def _turn(self, session: _Session) -> bool:
        """One prompt and its answer; False when the session ends here (a usage limit)."""
        rng = self.rng
        session.clock += rng.uniform(5, 900)
        self._prompt(session, self._snippet(40, 900))
        for call in range(rng.randint(1, 6)):
            roll = rng.random()
            if roll < 0.01:
                return self._usage_limit(session)
            if roll < 0.03:
                self._api_error(session)
            last = call == 5 or rng.random() < 0.3
            self._assistant(session, session.project.model, final=last)
            if last:
                break
            self._tool_result(session)
            if rng.random() < 0.04 and session.agent is None:
                self._subagent(session)
        self._extras(session)
        return True

    def _prompt(self, session: _Session, text: str) -> None:
        if self.remaining > 0:
            body = f'"message":{{"role":"user","content":{_escape(text)}}}'
            self._emit(session, self._encoded(session, "user", body))

    def _extras(self, session: _Session) -> None:
        rng = self.rng
        roll = rng.random()
        if roll < 0.05:
            self._compaction(session)
        elif roll < 0.12:
            self._put(session, self._system(session, "info", "turn_duration"))
        if rng.random() < 0.05:
            leaf = session.parent
            self._put(
                session, {"type": "summary", "summary": self._snippet(30, 90), "leafUuid": leaf}
            )

    def _usage(self, session: _Session) -> tuple[dict[str, Any], Tokens]:
        rng = self.rng
        read = rng.choice([0, rng.randint(1_000, 150_000)])
        write = rng.choice([0, rng.randint(100, 30_000)])
        fresh = rng.randint(1, min(8_000, _MAX_INPUT - read - write))
        output = rng.randint(1, 6_000)
        hour = write if session.cache_1h else 0
        usage = {
            "input_tokens": fresh,
            "cache_creation_input_tokens": write,
            "cache_read_input_tokens": read,
            "output_tokens": output,
            "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0},
            "service_tier": "standard",
            "cache_creation": {
                "ephemeral_1h_input_tokens": hour,
                "ephemeral_5m_input_tokens": write - hour,
            },
            "inference_geo": "",
            "iterations": [],
            "speed": "standard",
        }
        return usage, Tokens(fresh, output, write, hour, read)

    def _assistant(self, session: _Session, model: str, *, final: bool) -> None:
        """One API response: its content blocks on lines of their own, usage on each."""
        rng = self.rng
        usage, tokens = self._usage(session)
        message_id = "msg_01" + self._unique(22)
        request_id = "req_011C" + self._unique(18)
        blocks = self._blocks(final)
        response = _Response(tokens, session.id)
        session.clock += rng.uniform(1, 40)
        first_ts = session.clock
        head = f'"message":{{"id":"{message_id}","type":"message","role":"assistant",'
        head += f'"model":{_ENCODER.encode(model)},"content":['
        stop = "end_turn" if final else "tool_use"
        tail = f'],"stop_reason":"{stop}","stop_sequence":null,"usage":{_ENCODER.encode(usage)}}}'
        tail += f',"requestId":"{request_id}"'
        for index, block in enumerate(blocks):
            if self.remaining <= 0:
                return
            if index == 0:
                self.truth._count(_day(first_ts), model, session.id, tokens)
            line = self._encoded(session, "assistant", head + block + tail)
            self._emit(session, line)
            session.responses.append((line, response))
            session.clock += rng.uniform(0.2, 25)

    def _blocks(self, final: bool) -> list[str]:
        """The response's content blocks, JSON-encoded."""
        rng = self.rng
        blocks: list[str] = []
        if rng.random() < 0.4:
            thinking = _escape(self._snippet(200, 2_500))
            signature = self._token(rng.randint(200, 600))
            blocks.append(f'{{"type":"thinking","thinking":{thinking},"signature":"{signature}"}}')
        if final or rng.random() < 0.6:
            blocks.append(f'{{"type":"text","text":{_escape(self._snippet(80, 2_000))}}}')
        if not final:
            blocks.append(_ENCODER.encode(self._tool_use()))
        return blocks

    def _tool_use(self) -> dict[str, Any]:
        rng = self.rng
        name = rng.choice(["Bash", "Read", "Edit", "Write", "Grep", "Glob"])
        tool_input: dict[str, Any] = {"command": self._snippet(10, 200)} if name == "Bash" else {}
        if name in ("Read", "Edit", "Write"):
            tool_input["file_path"] = f"/home/dev/src/{rng.choice(_WORDS)}/{rng.choice(_WORDS)}.py"
        if name in ("Edit", "Write"):
            tool_input["content"] = self._snippet(50, 2_000)
        if name in ("Grep", "Glob"):
            tool_input["pattern"] = rng.choice(_WORDS)
        tool_id = "toolu_01" + self._token(22)
        return {"type": "tool_use", "id": tool_id, "name": name, "input": tool_input}

    def _tool_result(self, session: _Session) -> None:
        session.clock += self.rng.uniform(0.05, 30)
        tool_id = "toolu_01" + self._token(22)
        if self.remaining <= 0:
            return
        result = _escape(self._snippet(60, 4_000))
        stdout = _escape(self._snippet(0, 400))
        body = (
            f'"message":{{"role":"user","content":[{{"tool_use_id":"{tool_id}",'
            f'"type":"tool_result","content":{result}}}]}},'
            f'"toolUseResult":{{"stdout":{stdout},"stderr":"","interrupted":false}}'
        )
        self._emit(session, self._encoded(session, "user", body))

    def _subagent(self, parent: _Session) -> None:
        """A Task tool's subagent: its own file under the session, on a cheaper model."""
        rng = self.rng
        agent = f"{rng.getrandbits(68):017x}"
        side = _Session(parent.project, parent.id, parent.clock, parent.cache_1h, agent=agent)
        model = rng.choice(self.models)
        self._prompt(side, self._snippet(80, 1_200))
        calls = rng.randint(2, 8)
        for call in range(calls):
            self._assistant(side, model, final=call == calls - 1)
            if call < calls - 1:
                self._tool_result(side)
        parent.clock = side.clock
        path = parent.project.directory / parent.id / "subagents" / f"agent-{agent}.jsonl"
        self._flush(path, side.out)

    # -- lines without billable usage ------------------------------------------------

    def _synthetic(self, session: _Session, text: str, **fields: Any) -> dict[str, Any]:
        usage = {
            "input_tokens": 0,
            "output_tokens": 0,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0},
            "service_tier": None,
            "cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0},
        }
        message = {
            "id": self._uuid(),
            "model": "<synthetic>",
            "role": "assistant",
            "stop_reason": "stop_sequence",
            "stop_sequence": "",
            "type": "message",
            "usage": usage,
            "content": [{"type": "text", "text": text}],
        }
        return self._line(session, "assistant", message=message, isApiErrorMessage=True, **fields)

    def _api_error(self, session: _Session) -> None:
        session.clock += self.rng.uniform(1, 60)
        self._put(session, self._system(session, "error", "api_error"))
        text = "API Error: 529 Overloaded. This is a server-side issue, usually temporary."
        self._put(session, self._synthetic(session, text, error="server_error", apiErrorStatus=529))

    def _usage_limit(self, session: _Session) -> bool:
        session.clock += self.rng.uniform(1, 60)
        hour = int(session.clock) - int(session.clock) % 3_600
        resets_at = hour + 3_600 * self.rng.randint(1, 5)
        line = self._synthetic(session, LIMIT_TEXT.format(resets_at), error="rate_limit")
        if self.remaining > 0:
            self.truth.limit_hits.append(LimitLine(session.clock, session.id, resets_at))
        self._put(session, line)
        return False

    def _system(self, session: _Session, level: str, subtype: str) -> dict[str, Any]:
        return self._line(
            session,
            "system",
            subtype=subtype,
            content=self._snippet(20, 200),
            isMeta=False,
            level=level,
        )

    def _compaction(self, session: _Session) -> None:
        """``/compact``: a boundary, then the summary as a user line."""
        boundary = self._system(session, "info", "compact_boundary")
        boundary["compactMetadata"] = {
            "trigger": "auto",
            "preTokens": self.rng.randint(100_000, 180_000),
        }
        boundary["parentUuid"] = None
        self._put(session, boundary)
        summary = self._line(
            session,
            "user",
            message={"role": "user", "content": self._snippet(1_000, 4_000)},
            isCompactSummary=True,
            isVisibleInTranscriptOnly=True,
        )
        self._put(session, summary)


_ID_CHARS = string.ascii_letters + string.digits
# fmt: off
_WORDS = [
    "alpha", "bravo", "cache", "delta", "engine", "fleet", "graph", "handler", "index", "json",
    "kernel", "ledger", "model", "notebook", "offset", "parser", "query", "runner", "session",
    "token", "usage", "vector", "widget", "yield", "zone", "import", "report", "price",
    "budget", "daily", "monthly", "block", "window", "limit", "reset", "agent", "tool",
]
# fmt: on


def _text_pool(rng: random.Random) -> str:
    """Prose-like text to cut content from (cheap: cut, never generated per line)."""
    words = [*_WORDS, "the", "a", "of", "to", "is", "in", "and", "`x`", "(y)", "\n", "\n\n", '"q"']
    return " ".join(rng.choices(words, k=60_000))


def ccusage_json(ccusage: str, tree: Path, scratch: Path, *args: str) -> dict[str, Any]:
    """ccusage's ``--json --offline`` report over ``tree`` (a ``CLAUDE_CONFIG_DIR``).

    HOME and CODEX_HOME point into ``scratch`` so nothing of the machine's own
    agent logs is read; ``TZ`` is UTC unless ``args`` names a ``--timezone``.
    """
    home = scratch / "ccusage-home"
    home.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "HOME": str(home),
        "CLAUDE_CONFIG_DIR": str(tree),
        "CODEX_HOME": str(home / "codex"),
        "TZ": "UTC",
    }
    argv = [ccusage, *args, "--json", "--offline"]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{argv} exited {done.returncode}: {done.stderr[-2000:]}")
    report: dict[str, Any] = json.loads(done.stdout)
    return report
