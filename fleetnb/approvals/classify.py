"""How risky a shell command is, seen through the usual disguises.

A person may approve every low-risk request at once, and a policy may allow
read-only commands and deny destructive ones, only if "low" can be trusted. So
the classifier reads a command the way the shell will, not the way it looks:

1. ``_shell`` parses it into simple commands (argv, redirections, place in
   pipelines), keeping the source of every ``$(…)``, backquote and ``<(…)``
   the shell would run; each of those is classified as a script of its own.
2. ``_wrappers`` peels off ``sudo``, ``env``, ``timeout``, ``xargs`` … and
   reads the scripts in ``bash -c``, ``eval``, ``ssh host …``, ``su -c``.
3. ``_files`` and ``_programs`` judge what is left by the program and the paths
   it writes or deletes, resolved (``_paths``) against the working and home
   directories, following ``cd`` and ``VAR=…`` within the command.
4. The whole is as risky as its riskiest part, raised by patterns across parts:
   a download piped into a shell, destructive SQL piped into a database, a fork
   bomb. Nesting is followed ``MAX_DEPTH`` levels deep; beyond that, high.

Unknown programs are medium, never low; whatever cannot be read (unbalanced
quotes, a program name computed at run time, inline ``python -c`` code, a shell
fed output it cannot see, as in ``… | base64 -d | sh``) is high. It is a guard
for approvals, not a sandbox: where it has to guess, it guesses towards asking.

Borderline calls:

- An empty command is low: nothing runs.
- ``rm -r`` (or ``find -delete``, ``rsync --delete``) is critical for ``/``, a
  top-level directory, the home directory, its parents and the directories in
  it, the working directory itself (``rm -rf .``, ``rm -rf *``) and its parents
  (``..``); any deletion in a system directory (``/etc``, ``/usr`` …) is
  critical. Deleting ``.git`` is high; other deletions are high outside the
  working directory and medium inside it, or high when the path is only known
  at run time (``rm -rf "$DIR/"``).
- Writes outside the working directory are high, ``/tmp`` included; writing
  to a block device (``> /dev/sda``, ``dd of=/dev/…``) is critical.
- ``chmod`` inside the working directory is medium, ``chown`` high, and
  ``chmod -R``/``chown -R`` of what ``rm -r`` protects critical.
- ``git push --force-with-lease`` (like ``+ref`` and ``--mirror``) is critical as
  ``--force`` is: the lease guards against a race, not against rewriting
  published history. Deleting ``main``/``master`` on a remote is critical,
  another branch high; ``git filter-branch``/``filter-repo`` are critical;
  ``git branch -D`` is high (the reflog keeps its commits), as are ``git reset
  --hard``, ``git clean -f`` and ``git checkout .``. ``git log --force`` is low.
- ``git fetch``/``pull`` are medium (the repository's own remotes); ``git
  clone``, ``curl``, ``ssh`` … are high however harmless the URL.
- Destructive SQL (``DROP TABLE``, ``TRUNCATE``, ``DELETE FROM`` without
  ``WHERE``, ``FLUSHALL`` …) is critical when it reaches a database client,
  inline code, a shell's arguments or an unknown program; in ``grep``,
  ``echo`` or a commit message it is text.
- ``export FOO=1`` is low (it ends with the shell); setting ``PATH``,
  ``LD_PRELOAD`` … is high, as is editing a shell profile.
- ``npx``/``uvx``/``pipx run`` are high (they may download a package and run
  it); ``uv run``/``poetry run`` … are medium, and their command is unwrapped.
- ``case … esac`` is not parsed: it reads as a stray ``)``, so it is high.
"""

from __future__ import annotations

import dataclasses
import enum
import os
import posixpath
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from fleetnb.approvals._paths import base_name, expand, is_dynamic, program, resolve, within
from fleetnb.approvals._shell import (
    Command,
    Redirect,
    Script,
    ShellSyntaxError,
    TooDeepError,
    parse,
)

__all__ = ["MAX_DEPTH", "Classification", "Risk", "classify_command"]

MAX_DEPTH = 20
"""Levels of shells, substitutions and wrappers followed; anything deeper is high."""

_PathLike = str | os.PathLike[str]
_MAX_CHARS = 256 * 1024
_MAX_REASONS = 20
_NUL_REASON = "contains NUL bytes, which programs read differently"


class Risk(enum.IntEnum):
    """How much harm a command can do; ordered, so ``risk <= Risk.LOW`` works."""

    LOW = 0  # read-only: ls, cat, grep, git status/diff/log …
    MEDIUM = 1  # changes the working directory, or an unknown program: make, pytest, git commit
    HIGH = 2  # reaches outside: network, installs, writes outside cwd, sudo, git push
    CRITICAL = 3  # destructive or irreversible: rm -rf ~, git push --force, curl … | sh

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, name: str) -> Risk:
        """``"low"``, ``"Medium"`` … as a Risk; a ValueError names the valid ones."""
        try:
            return cls[name.strip().upper()]
        except KeyError:
            valid = ", ".join(risk.label for risk in cls)
            raise ValueError(f"risk {name!r} is not one of {valid}") from None


@dataclasses.dataclass(frozen=True)
class Classification:
    """The risk of a command, why, and every simple command found in it."""

    risk: Risk
    reasons: tuple[str, ...]  # most serious first, each naming the part it is about
    commands: tuple[tuple[str, ...], ...]  # unwrapped argv: no sudo/env/bash -c, quotes removed


def classify_command(
    command: str | Sequence[str],
    *,
    cwd: str | os.PathLike[str] | None = None,
    home: str | os.PathLike[str] | None = None,
) -> Classification:
    """Classify a shell command line, or an argv list (run as is, without a shell).

    Paths are judged against ``cwd`` (default: the current directory) and
    ``home`` (default: ``~``). Never raises on odd input: what cannot be read,
    or a command longer than 256 KiB, is high.
    """
    report = _Report()
    ctx = _start(report, cwd, home)
    if isinstance(command, str):
        _classify_text(command, ctx)
    else:
        argv = [str(part) for part in command]
        if any("\0" in part for part in argv):
            report.add(Risk.HIGH, _NUL_REASON)
            argv = [part.split("\0", 1)[0] for part in argv]  # what execve passes on
        if argv:
            _classify_argv(argv, ctx)
    return report.result()


# ---------------------------------------------------------------- reading scripts


class _Trait(enum.Flag):
    """What a command does to its neighbours in a pipeline."""

    NONE = 0
    FETCH = enum.auto()  # prints what it downloads
    SHELL_STDIN = enum.auto()  # runs its input as shell commands
    CODE_STDIN = enum.auto()  # runs its input as code in another language
    RUNS_CODE = enum.auto()  # runs code its arguments name or hold
    SQL_CLIENT = enum.auto()  # sends its input to a database


class _Part(NamedTuple):
    traits: _Trait
    printed: str | None  # what it prints, when the command line says (echo, cat <<EOF)
    shown: str


class _Report:
    """Findings and commands, shared by every level of one classification."""

    def __init__(self) -> None:
        self.findings: dict[str, Risk] = {}
        self.commands: dict[tuple[str, ...], None] = {}  # an ordered set
        self.memo: dict[tuple[object, ...], tuple[int, _Trait]] = {}

    def add(self, risk: Risk, reason: str) -> None:
        self.findings[reason] = max(risk, self.findings.get(reason, Risk.LOW))

    def record(self, argv: Sequence[str]) -> None:
        self.commands.setdefault(tuple(argv), None)

    def result(self) -> Classification:
        risk = max(self.findings.values(), default=Risk.LOW)
        ranked = sorted(self.findings.items(), key=lambda item: -item[1])
        reasons = [reason for reason, level in ranked if level > Risk.LOW]
        if len(reasons) > _MAX_REASONS:
            reasons[_MAX_REASONS:] = [f"… and {len(reasons) - _MAX_REASONS} more"]
        if not reasons:
            names = list(dict.fromkeys(program(argv[0]) for argv in self.commands if argv))
            reasons = [f"read-only: {', '.join(names[:8])}" if names else "no program runs"]
        return Classification(risk, tuple(reasons), tuple(self.commands))


@dataclasses.dataclass
class _Shell:
    """What one script remembers between commands: ``cd`` per subshell, variables."""

    cwds: dict[tuple[int, ...], str | None]
    variables: dict[str, str]

    def cwd(self, scope: tuple[int, ...]) -> str | None:
        while scope not in self.cwds:
            scope = scope[:-1]
        return self.cwds[scope]


@dataclasses.dataclass(frozen=True)
class _Ctx:
    """Where one command runs, and what the classification knows there."""

    report: _Report
    shell: _Shell
    roots: tuple[str, ...]  # the working directory, as given and with symlinks resolved
    homes: tuple[str, ...]
    cwd: str | None  # where relative paths resolve now: None after `cd "$X"`
    env: Mapping[str, str] = dataclasses.field(default_factory=dict)
    depth: int = 0
    scope: tuple[int, ...] = ()
    stdin: tuple[str, ...] = ()  # bodies of here-documents and here-strings
    from_input: bool = False  # xargs adds arguments it reads
    placeholders: Mapping[str, tuple[str | None, ...]] = dataclasses.field(default_factory=dict)

    @property
    def home(self) -> str:
        return self.env.get("HOME", self.homes[0])

    def deeper(self, **changes: Any) -> _Ctx:
        return dataclasses.replace(self, depth=self.depth + 1, **changes)

    def resolve(self, word: str) -> str | None:
        return resolve(word, self.cwd, self.home)

    def inside(self, path: str) -> bool:
        return any(within(path, root) for root in self.roots)


def _start(report: _Report, cwd: _PathLike | None, home: _PathLike | None) -> _Ctx:
    given = os.path.abspath(os.fspath(cwd) if cwd is not None else os.getcwd())
    home_dir = os.path.abspath(os.path.expanduser(os.fspath(home) if home is not None else "~"))
    return _Ctx(report, _Shell({(): given}, {}), _spellings(given), _spellings(home_dir), given)


def _spellings(path: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys((path, os.path.realpath(path))))


def _classify_text(text: str, ctx: _Ctx) -> None:
    if len(text) > _MAX_CHARS:
        ctx.report.add(Risk.HIGH, f"too long to classify ({len(text)} characters)")
        return
    if "\0" in text:
        ctx.report.add(Risk.HIGH, _NUL_REASON)
        _classify_script(text.split("\0", 1)[0], ctx)  # what `bash -c` gets through execve
        text = text.replace("\0", "")  # what bash reading it from a file runs
    _classify_script(text, ctx)


def _classify_script(text: str, ctx: _Ctx) -> _Trait:
    if ctx.depth > MAX_DEPTH:
        return _too_deep(ctx)
    key = (text, ctx.cwd, tuple(sorted(ctx.env.items())))
    known = ctx.report.memo.get(key)
    if known is not None and known[0] <= ctx.depth:
        return known[1]  # `bash -c "$(x)"` reads x twice; without this, nesting is exponential
    try:
        script = parse(text, MAX_DEPTH - ctx.depth)
    except TooDeepError:
        return _too_deep(ctx)
    except ShellSyntaxError as error:
        ctx.report.add(Risk.HIGH, f"could not parse {_clip(text)!r}: {error}")
        return _Trait.NONE
    shell = _Shell({(): ctx.cwd}, dict(ctx.env))
    parts = []
    for command in script.commands:
        here = dataclasses.replace(
            ctx, shell=shell, scope=command.scope, cwd=shell.cwd(command.scope),
            env=shell.variables, stdin=(), from_input=False, placeholders={},
        )  # fmt: skip
        parts.append(_classify_simple(command, here))
    _check_pipelines(script, parts, ctx)
    _check_fork_bombs(script, ctx)
    traits = _Trait.NONE
    for part in parts:
        traits |= part.traits
    ctx.report.memo[key] = (ctx.depth, traits)
    return traits


def _too_deep(ctx: _Ctx) -> _Trait:
    reason = f"too deeply nested: more than {MAX_DEPTH} levels of shells, substitutions, wrappers"
    ctx.report.add(Risk.HIGH, reason)
    return _Trait.NONE


def _classify_simple(command: Command, ctx: _Ctx) -> _Part:
    fetched = _Trait.NONE
    for word in (*command.words, *(redirect.target for redirect in command.redirects)):
        for sub in word.subs:
            fetched |= _classify_script(sub, ctx.deeper()) & _Trait.FETCH
    known = {"HOME": ctx.home, **({"PWD": ctx.cwd} if ctx.cwd else {}), **ctx.env}
    texts = [expand(word.text, known) for word in command.words]
    if texts and _BRACES.fullmatch(texts[0]):  # {rm,-rf,/} is `rm -rf /`
        texts[0:1] = texts[0][1:-1].split(",")
    count = next((i for i, text in enumerate(texts) if not _ASSIGNMENT.match(text)), len(texts))
    assigned = dict(_assignment(text) for text in texts[:count])
    argv = texts[count:]
    _check_variables(assigned, ctx)
    for redirect in command.redirects:
        _check_redirect(redirect, expand(redirect.target.text, known), ctx)
    shown = _show(texts)
    if not argv:
        ctx.shell.variables.update(assigned)  # a bare assignment lasts for the rest of the script
        return _Part(fetched, None, shown)
    stdin = tuple(r.target.text for r in command.redirects if r.op in ("<<", "<<-", "<<<"))
    here = dataclasses.replace(ctx, env={**ctx.env, **assigned}, stdin=stdin)
    traits = _classify_argv(argv, here)
    if fetched and traits & _Trait.RUNS_CODE:
        ctx.report.add(Risk.CRITICAL, f"{shown}: runs code it downloads")
    return _Part(traits | fetched, _printed(argv, stdin), shown)


def _classify_argv(argv: list[str], ctx: _Ctx) -> _Trait:
    if ctx.depth > MAX_DEPTH:
        return _too_deep(ctx)
    handler, unwraps = _handler(program(argv[0]))
    if not unwraps:
        ctx.report.record(argv)
    if is_dynamic(argv[0]):
        ctx.report.add(Risk.HIGH, f"{_show(argv)}: the program is chosen at run time")
        return _Trait.RUNS_CODE
    if argv[1:] in (["--version"], ["--help"]):
        return _Trait.NONE
    return handler(argv, ctx)


def _check_pipelines(script: Script, parts: list[_Part], ctx: _Ctx) -> None:
    """Patterns across the stages of a pipeline: ``curl … | sh``, ``echo 'DROP …' | psql``."""
    pipelines: dict[int, dict[int, list[_Part]]] = {}
    for command, part in zip(script.commands, parts, strict=True):
        for pipeline, stage in command.stages:
            if script.pipe_sizes[pipeline] > 1:
                pipelines.setdefault(pipeline, {}).setdefault(stage, []).append(part)
    for stages in pipelines.values():
        feed = _Feed()
        for stage in sorted(stages):
            for part in stages[stage]:
                feed.into(part, ctx)
            feed.add(stages[stage])


@dataclasses.dataclass
class _Feed:
    """What flows down a pipeline, as far as the command line tells."""

    fetcher: _Part | None = None  # the first stage that downloads: it taints what follows
    printer: _Part | None = None  # the nearest stage whose output the command line spells
    previous: list[_Part] = dataclasses.field(default_factory=list)

    def add(self, stage: list[_Part]) -> None:
        for part in stage:
            self.fetcher = self.fetcher or (part if part.traits & _Trait.FETCH else None)
            self.printer = part if part.printed is not None else self.printer
        self.previous = stage

    def into(self, sink: _Part, ctx: _Ctx) -> None:
        runs = sink.traits & (_Trait.SHELL_STDIN | _Trait.CODE_STDIN)
        if runs and self.fetcher:
            reason = f"{self.fetcher.shown} | {sink.shown}: runs what it downloads"
            ctx.report.add(Risk.CRITICAL, reason)
        elif runs and all(part.printed is None for part in self.previous):
            source = " ".join(part.shown for part in self.previous)
            ctx.report.add(Risk.HIGH, f"{source} | {sink.shown}: runs code that is not analysed")
        if self.printer and self.printer.printed is not None:
            self._spelled_out(self.printer, self.printer.printed, sink, ctx)

    @staticmethod
    def _spelled_out(printer: _Part, text: str, sink: _Part, ctx: _Ctx) -> None:
        """``echo 'rm -rf /' | sh``: the text the sink reads is on the command line."""
        if sink.traits & _Trait.SHELL_STDIN:
            _classify_script(text, ctx.deeper())
        sql = _destructive_sql([text])
        if sql and sink.traits & (_Trait.SQL_CLIENT | _Trait.CODE_STDIN):
            reason = f"{printer.shown} | {sink.shown}: runs destructive SQL ({sql})"
            ctx.report.add(Risk.CRITICAL, reason)
        elif sink.traits & _Trait.CODE_STDIN:
            reason = f"{printer.shown} | {sink.shown}: runs code that is not analysed"
            ctx.report.add(Risk.HIGH, reason)


def _check_fork_bombs(script: Script, ctx: _Ctx) -> None:
    for command in script.commands:
        if command.function and command.words and command.words[0].text == command.function:
            pipeline = command.stages[-1][0]
            if script.pipe_sizes[pipeline] > 1 or pipeline in script.background:
                reason = f"fork bomb: function {command.function!r} starts copies of itself"
                ctx.report.add(Risk.CRITICAL, reason)


# --------------------------------------------------------------- helpers for handlers

_Handler = Callable[[list[str], _Ctx], _Trait]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_BRACES = re.compile(r"\{[^{}]*,[^{}]*\}")
_ASSIGNMENT = re.compile(r"[A-Za-z_]\w*(?:\[[^\]]*\])?\+?=")
_SENSITIVE_VARIABLES = _words(
    "PATH LD_PRELOAD LD_LIBRARY_PATH LD_AUDIT DYLD_INSERT_LIBRARIES DYLD_LIBRARY_PATH BASH_ENV"
    " ENV PROMPT_COMMAND IFS HOME SHELLOPTS PS4 GIT_SSH_COMMAND GIT_EXEC_PATH NODE_OPTIONS"
)
_HARMLESS_DEVICES = re.compile(r"/dev/(null|zero|full|u?random|tty|std(in|out|err)|fd/\d+|pts/\d+)")
_BLOCK_DEVICES = re.compile(r"/dev/(sd|hd|vd|xvd|nvme|mmcblk|r?disk|md|dm-|loop|mapper/|k?mem$)")
_PROFILES = _words(
    ".bashrc .bash_profile .bash_login .profile .zshrc .zshenv .zprofile .zlogin .kshrc .cshrc"
    " .tcshrc config.fish environment"
)
_DESTRUCTIVE_SQL = re.compile(
    r"\b(?:drop\s+(?:table|database|schema|owned|collection|keyspace|user|role)\b"
    r"|truncate\s+(?:table\s+)?[\w\"`.\[\]]+\s*(?:;|,|$|cascade|restart)"
    r"|delete\s+from\s+[\w\"`.\[\]]+\s*(?:;|$)"
    r"|alter\s+table\s+\S+\s+drop\b|flushall\b|flushdb\b|dropdatabase\s*\()",
    re.IGNORECASE,
)


def _handler(name: str) -> tuple[_Handler, bool]:
    """The handler for a program name, and whether it is a wrapper (``sudo``, ``bash -c`` …)."""
    # Imported here, not at the top: the handlers are written against this module's helpers.
    from fleetnb.approvals._programs import HANDLERS, UNWRAPPING  # noqa: PLC0415

    handler = HANDLERS.get(base_name(name), HANDLERS[""])
    return handler, handler in UNWRAPPING


def _show(argv: Sequence[str]) -> str:
    """argv for a reason: readable rather than exact (``shlex.join`` buries quotes in quotes)."""
    return _clip(" ".join(_quote(arg) for arg in argv))


def _quote(arg: str) -> str:
    if arg and not any(ch.isspace() for ch in arg):
        return arg
    return f"'{arg}'" if "'" not in arg else f'"{arg}"'


def _clip(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _assignment(text: str) -> tuple[str, str]:
    name, _, value = text.partition("=")
    return name.rstrip("+"), value


def _check_variables(assigned: Mapping[str, str], ctx: _Ctx) -> None:
    for name in sorted(_SENSITIVE_VARIABLES.intersection(assigned)):
        ctx.report.add(Risk.HIGH, f"sets {name}, which changes how later programs are found or run")


def _check_redirect(redirect: Redirect, target: str, ctx: _Ctx) -> None:
    if target.startswith(("/dev/tcp/", "/dev/udp/")):  # bash opens a socket for these
        ctx.report.add(Risk.HIGH, f"redirection {redirect.op} {target}: reaches the network")
    elif redirect.op in ("<", "<&", "<<", "<<-", "<<<"):
        return
    if redirect.op in (">&", "<&") and (target.isdigit() or target == "-"):
        return  # 2>&1: copies a file descriptor, writes nothing
    _write(f"redirection {redirect.op}", target, ctx.resolve(target), ctx)


def _printed(argv: list[str], stdin: tuple[str, ...]) -> str | None:
    name = program(argv[0])
    if name in ("echo", "printf"):
        return " ".join(arg for arg in argv[1:] if arg not in ("-n", "-e", "-E"))
    return "\n".join(stdin) if name == "cat" and len(argv) == 1 and stdin else None


def _destructive_sql(texts: Sequence[str]) -> str | None:
    for text in texts:
        match = _DESTRUCTIVE_SQL.search(text)
        if match:
            return _clip(match.group(), 40)
    return None


# ------------------------------------------------------------------------ paths


def _write(actor: str, word: str, path: str | None, ctx: _Ctx) -> None:
    add = ctx.report.add
    if path is None:
        if not word.startswith(("<(", ">(")):  # a process substitution is a pipe
            add(Risk.MEDIUM, f"{actor} writes {word!r}, known only at run time")
    elif _HARMLESS_DEVICES.fullmatch(path):
        return
    elif _BLOCK_DEVICES.match(path):
        add(Risk.CRITICAL, f"{actor} writes to the device {word!r}, destroying what is on it")
    elif ctx.inside(path):
        add(Risk.MEDIUM, f"{actor} writes {word!r} inside the working directory")
    elif posixpath.basename(path) in _PROFILES:
        add(Risk.HIGH, f"{actor} edits {word!r}, which every new shell reads")
    else:
        add(Risk.HIGH, f"{actor} writes {word!r}, outside the working directory")
