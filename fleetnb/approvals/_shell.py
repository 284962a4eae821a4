"""Shell syntax for the risk classifier: simple commands and their redirections.

``parse`` turns a command line into the simple commands a POSIX shell (bash in
particular) would run, each with its words, its redirections and its place in
pipelines and subshells. It reads what decides *what runs*, and no more:

- quoting and escaping: ``'…'``, ``"…"``, ``\\x`` and ``$'…'`` (decoded, so
  ``$'\\x72m'`` is ``rm``);
- command substitutions ``$(…)`` and backquotes, and process substitutions
  ``<(…)`` / ``>(…)``: the source of each is kept on its word (``Word.subs``) to
  be read as a script of its own, but only where the shell would run it, so the
  word ``'$(x)'`` has none and ``"$(x)"`` has one;
- operators ``; & && || | |&``, newlines, subshells ``( … )``, groups
  ``{ …; }``, function definitions and ``[[ … ]]``; the keywords of ``if``,
  ``while`` and ``for`` are skipped, leaving the commands inside them;
- redirections with their targets (``2>`` is a redirection, not the word ``2``),
  and here-documents with their bodies.

Nothing is expanded (see ``_paths``). ``case … esac`` is not understood: its
patterns read as a stray ``)``.

Why not :mod:`shlex`: quote removal forgets which quotes a word had, the whole
difference between ``echo '$(rm -rf /)'`` and ``echo "$(rm -rf /)"``; it also
reads ``2>`` as a word ``2`` and knows neither here-documents nor ``$'…'``.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Mapping

__all__ = ["Command", "Redirect", "Script", "ShellSyntaxError", "TooDeepError", "Word", "parse"]


class ShellSyntaxError(ValueError):
    """The text cannot be read as a shell command: unbalanced quotes, a stray ``)`` …"""


class TooDeepError(ValueError):
    """Substitutions or subshells nest deeper than the budget allows."""


@dataclasses.dataclass(frozen=True, slots=True)
class Word:
    """A word after quote removal; ``$VAR``, ``${…}`` and ``$(…)`` stay as written."""

    text: str
    subs: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class Redirect:
    """``>``, ``2>>``, ``<`` …; for ``<<`` and ``<<<`` the target is the text fed to stdin."""

    op: str
    target: Word


@dataclasses.dataclass(frozen=True, slots=True)
class Command:
    """One simple command: what runs, and where it sits in the script."""

    words: tuple[Word, ...]
    redirects: tuple[Redirect, ...] = ()
    stages: tuple[tuple[int, int], ...] = ()  # (pipeline id, stage), outermost first
    scope: tuple[int, ...] = ()  # the subshells it runs in: a `cd` does not leak out of one
    function: str | None = None  # the function whose body holds it


@dataclasses.dataclass(frozen=True, slots=True)
class Script:
    commands: tuple[Command, ...]
    pipe_sizes: Mapping[int, int]
    background: frozenset[int]  # pipelines followed by `&`


def parse(text: str, budget: int) -> Script:
    """The simple commands of ``text``; nesting deeper than ``budget`` raises TooDeepError."""
    lexer = _Lexer(text, budget=budget)
    lexer.run()
    return _Parser(lexer.tokens, budget).parse()


# ---------------------------------------------------------------------------- lexer

_OPERATORS = sorted(
    ["&&", "||", ";;&", ";;", ";&", "|&", "&>>", "&>", ">>", ">|", ">&", "<<<", "<<-", "<<",
     "<&", "<>", ";", "&", "|", "(", ")", "<", ">", "\n"],
    key=len, reverse=True,
)  # fmt: skip  # longest first, so `&&` is not read as `&` `&`
_OP_CHARS = frozenset("&|;()<>\n")
_BLANKS = frozenset(" \t\r")
_PLAIN = re.compile(r"[^\s\\'\"$`<>&|;()]+")
_PLAIN_QUOTED = re.compile(r'[^"\\$`]+')
_ANSI_ESCAPE = re.compile(
    r"\\(x[0-9A-Fa-f]{1,2}|u[0-9A-Fa-f]{1,4}|U[0-9A-Fa-f]{1,8}|[0-7]{1,3}|c.|.)", re.DOTALL
)
_ANSI_SIMPLE = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b"}


class _Lexer:
    """Words (``Word``) and operators (``str``); one pass, substitutions lexed in place."""

    def __init__(self, text: str, pos: int = 0, *, budget: int, nested: bool = False) -> None:
        if budget < 0:
            raise TooDeepError("substitutions nest too deeply")
        self.text, self.pos, self.budget, self.nested = text, pos, budget, nested
        self.tokens: list[Word | str] = []
        # token index of the delimiter, delimiter, strip leading tabs, body is expanded
        self.heredocs: list[tuple[int, str, bool, bool]] = []

    def run(self) -> int:
        """Read to the end, or to the ``)`` that closes a substitution; return where it stopped."""
        text, depth = self.text, 0
        while self.pos < len(text):
            ch = text[self.pos]
            if ch in _BLANKS:
                self.pos += 1
            elif text.startswith("\\\n", self.pos):
                self.pos += 2
            elif ch == "#":
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end
            elif ch in "<>" and text.startswith("(", self.pos + 1):
                self._word()
            elif ch in _OP_CHARS:
                op = self._operator()
                if op == ")" and self.nested and depth == 0:
                    return self.pos - 1
                depth += {"(": 1, ")": -1}.get(op, 0)
                self.tokens.append(";" if op == "\n" else op)
                if op in ("<<", "<<-"):
                    self._heredoc_delimiter(op)
                elif op == "\n":
                    self._heredoc_bodies()
            else:
                self._word()
        if self.nested:
            raise ShellSyntaxError("unterminated $( … )")
        self._heredoc_bodies()
        return self.pos

    def _operator(self) -> str:
        op = next(op for op in _OPERATORS if self.text.startswith(op, self.pos))
        self.pos += len(op)
        return ";" if op in (";;", ";&", ";;&") else op

    def _word(self) -> None:
        text, start = self.text, self.pos
        out: list[str] = []
        subs: list[str] = []
        while self.pos < len(text):
            ch = text[self.pos]
            if ch in "<>" and text.startswith("(", self.pos + 1):
                self._substitution(out, subs)
            elif ch in _BLANKS or ch in _OP_CHARS:
                break
            elif ch == "\\":
                nxt = text[self.pos + 1 : self.pos + 2]
                if nxt != "\n":  # backslash-newline joins lines
                    out.append(nxt or "\\")
                self.pos += 2
            elif ch == "'":
                end = text.find("'", self.pos + 1)
                if end < 0:
                    raise ShellSyntaxError("unbalanced single quote")
                out.append(text[self.pos + 1 : end])
                self.pos = end + 1
            elif ch == '"':
                self.pos += 1
                self._double(out, subs, '"')
            elif ch == "$":
                self._dollar(out, subs, quoted=False)
            elif ch == "`":
                self._backquote(out, subs)
            else:
                self._plain(out, _PLAIN)
        if self.pos < len(text) and text[self.pos] in "<>" and text[start : self.pos].isdigit():
            return  # "2>file": the digits name a file descriptor, they are not a word
        self.tokens.append(Word("".join(out), tuple(subs)))

    def _double(self, out: list[str], subs: list[str], stop: str | None) -> None:
        """Double-quoted text up to ``stop`` (a here-document body has none)."""
        text = self.text
        while self.pos < len(text):
            ch = text[self.pos]
            if ch == stop:
                self.pos += 1
                return
            if ch == "\\":
                nxt = text[self.pos + 1 : self.pos + 2]
                if nxt and nxt in '$`"\\\n':
                    out.append("" if nxt == "\n" else nxt)
                    self.pos += 2
                else:
                    out.append("\\")
                    self.pos += 1
            elif ch == "$":
                self._dollar(out, subs, quoted=True)
            elif ch == "`":
                self._backquote(out, subs)
            else:
                self._plain(out, _PLAIN_QUOTED)
        if stop:
            raise ShellSyntaxError("unbalanced double quote")

    def _plain(self, out: list[str], plain: re.Pattern[str]) -> None:
        """A run of characters with no meaning to the shell (at least one character)."""
        match = plain.match(self.text, self.pos)
        chunk = match.group() if match else self.text[self.pos]
        out.append(chunk)
        self.pos += len(chunk)

    def _dollar(self, out: list[str], subs: list[str], *, quoted: bool) -> None:
        text, pos = self.text, self.pos
        nxt = text[pos + 1 : pos + 2]
        if text.startswith("$((", pos):
            self._arithmetic(out)
        elif nxt == "(":
            self._substitution(out, subs)
        elif nxt == "{":
            self._parameter(out, subs)
        elif nxt == "'" and not quoted:
            self._ansi_c(out)
        elif nxt == '"' and not quoted:  # $"…" is a translatable "…"
            self.pos += 2
            self._double(out, subs, '"')
        else:
            out.append("$")
            self.pos += 1

    def _substitution(self, out: list[str], subs: list[str]) -> None:
        """``$(…)``, ``<(…)`` or ``>(…)`` at ``pos``: lex the inside to find its end."""
        start = self.pos + 2
        end = _Lexer(self.text, start, budget=self.budget - 1, nested=True).run()
        subs.append(self.text[start:end])
        out.append(self.text[self.pos : end + 1])
        self.pos = end + 1

    def _backquote(self, out: list[str], subs: list[str]) -> None:
        text, i = self.text, self.pos + 1
        body: list[str] = []
        while i < len(text) and text[i] != "`":
            if text[i] == "\\" and text[i + 1 : i + 2] in ("`", "\\", "$"):
                i += 1
            body.append(text[i])
            i += 1
        if i >= len(text):
            raise ShellSyntaxError("unbalanced backquote")
        subs.append("".join(body))
        out.append(text[self.pos : i + 1])
        self.pos = i + 1

    def _arithmetic(self, out: list[str]) -> None:
        text, depth, i = self.text, 0, self.pos + 1
        while i < len(text):
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            if depth == 0:
                out.append(text[self.pos : i + 1])
                self.pos = i + 1
                return
            i += 1
        raise ShellSyntaxError("unterminated $(( … ))")

    def _parameter(self, out: list[str], subs: list[str]) -> None:
        """``${…}``, kept as written; a ``$(…)`` inside (``${X:-$(cmd)}``) still runs."""
        text, depth, i = self.text, 0, self.pos + 1
        while i < len(text):
            if text[i] == "\\":
                i += 2
                continue
            if text.startswith("$(", i) and not text.startswith("$((", i):
                end = _Lexer(text, i + 2, budget=self.budget - 1, nested=True).run()
                subs.append(text[i + 2 : end])
                i = end
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            if depth == 0:
                out.append(text[self.pos : i + 1])
                self.pos = i + 1
                return
            i += 1
        raise ShellSyntaxError("unterminated ${ … }")

    def _ansi_c(self, out: list[str]) -> None:
        text, i = self.text, self.pos + 2
        while i < len(text) and text[i] != "'":
            i += 2 if text[i] == "\\" else 1
        if i >= len(text):
            raise ShellSyntaxError("unbalanced $'…' quote")
        out.append(_ANSI_ESCAPE.sub(_ansi_char, text[self.pos + 2 : i]))
        self.pos = i + 1

    def _heredoc_delimiter(self, op: str) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in _BLANKS:
            self.pos += 1
        start, count = self.pos, len(self.tokens)
        if start < len(self.text) and self.text[start] not in _OP_CHARS:
            self._word()
        if len(self.tokens) == count:
            raise ShellSyntaxError(f"{op} without a delimiter")
        raw, word = self.text[start : self.pos], self.tokens[-1]
        assert isinstance(word, Word)  # _word appends only words
        quoted = any(ch in raw for ch in "'\"\\")  # a quoted delimiter means a literal body
        self.heredocs.append((len(self.tokens) - 1, word.text, op == "<<-", not quoted))

    def _heredoc_bodies(self) -> None:
        """Bodies start on the line after their operator; each replaces its delimiter token."""
        for index, delimiter, strip_tabs, expands in self.heredocs:
            lines: list[str] = []
            while self.pos < len(self.text):
                end = self.text.find("\n", self.pos)
                end = len(self.text) if end < 0 else end
                line, self.pos = self.text[self.pos : end], min(end + 1, len(self.text))
                if (line.lstrip("\t") if strip_tabs else line) == delimiter:
                    break
                lines.append(line)
            body = "\n".join(lines)
            subs: list[str] = []
            if expands:
                _Lexer(body, budget=self.budget)._double([], subs, None)
            self.tokens[index] = Word(body, tuple(subs))
        self.heredocs.clear()


def _ansi_char(match: re.Match[str]) -> str:
    code = match.group(1)
    if code[0] in "xuU" and len(code) > 1:
        return chr(min(int(code[1:], 16), 0x10FFFF))
    if code[0] in "01234567":
        return chr(int(code, 8))
    if code[0] == "c" and len(code) > 1:
        return chr(ord(code[1]) & 0x1F)
    return _ANSI_SIMPLE.get(code, code)


# --------------------------------------------------------------------------- parser

_SEPARATORS = frozenset({";", "&", "&&", "||"})
_REDIRECTS = frozenset({">", ">>", ">|", "&>", "&>>", ">&", "<", "<&", "<>", "<<", "<<-", "<<<"})
_KEYWORDS = frozenset({"if", "then", "elif", "else", "fi", "do", "done", "while", "until", "!"})


class _Parser:
    """Recursive descent over the tokens; nesting is bounded by ``budget``."""

    def __init__(self, tokens: list[Word | str], budget: int) -> None:
        self.tokens, self.pos, self.budget, self.depth = tokens, 0, budget, 0
        self.commands: list[Command] = []
        self.sizes: dict[int, int] = {}
        self.background: set[int] = set()
        self.stages: list[tuple[int, int]] = []
        self.scope: list[int] = []
        self.functions: list[str] = []
        self.ids = itertools.count()

    def parse(self) -> Script:
        self._list(None)
        if self.pos < len(self.tokens):
            raise ShellSyntaxError(f"unexpected {self._describe()}")
        return Script(tuple(self.commands), self.sizes, frozenset(self.background))

    def _peek(self, offset: int = 0) -> Word | str | None:
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def _word_is(self, text: str, offset: int = 0) -> bool:
        token = self._peek(offset)
        return isinstance(token, Word) and token.text == text

    def _describe(self) -> str:
        token = self._peek()
        return repr(token.text if isinstance(token, Word) else token)

    def _closes(self, end: str | None) -> bool:
        if end == "}":
            return self._word_is("}")
        return self._peek() == end if end else self._peek() is None

    def _list(self, end: str | None) -> None:
        while True:
            while self._peek() in (";", "&"):
                self.pos += 1
            if self._closes(end) or self._peek() is None:
                return
            pipeline = self._pipeline()
            token = self._peek()
            if isinstance(token, str) and token in _SEPARATORS:
                self.pos += 1
                if token == "&":
                    self.background.add(pipeline)
            elif not (self._closes(end) or token is None):
                raise ShellSyntaxError(f"unexpected {self._describe()}")

    def _pipeline(self) -> int:
        pipeline, stage = next(self.ids), 0
        while True:
            self.stages.append((pipeline, stage))
            self._command()
            self.stages.pop()
            if self._peek() not in ("|", "|&"):
                break
            self.pos += 1
            stage += 1
        self.sizes[pipeline] = stage + 1
        return pipeline

    def _command(self) -> None:
        while isinstance(token := self._peek(), Word) and token.text in _KEYWORDS:
            self.pos += 1
        if self._peek() == "(":
            self._group(")")
        elif self._word_is("{"):
            self._group("}")
        elif self._word_is("[["):
            self._test()
        elif self._word_is("function") and isinstance(self._peek(1), Word):
            self.pos += 1
            self._function()
        elif isinstance(self._peek(), Word) and self._peek(1) == "(" and self._peek(2) == ")":
            self._function()
        else:
            self._simple()

    def _group(self, end: str) -> None:
        self.depth += 1
        if self.depth > self.budget:
            raise TooDeepError("subshells nest too deeply")
        self.pos += 1
        if end == ")":
            self.scope.append(next(self.ids))
        self._list(end)
        if not self._closes(end):
            raise ShellSyntaxError("unterminated ( … )" if end == ")" else "unterminated { …; }")
        self.pos += 1
        if end == ")":
            self.scope.pop()
        self.depth -= 1
        self._simple()  # redirections after the group: `( … ) > log`

    def _function(self) -> None:
        name = self._peek()
        assert isinstance(name, Word)  # checked by the caller
        self.pos += 1
        if self._peek() == "(" and self._peek(1) == ")":
            self.pos += 2
        while self._peek() == ";":
            self.pos += 1
        self.functions.append(name.text)
        self._command()
        self.functions.pop()

    def _test(self) -> None:
        """``[[ … ]]``: its ``&&``, ``<`` and ``(`` are operands, not shell operators."""
        words: list[Word] = []
        while (token := self._peek()) is not None:
            self.pos += 1
            words.append(token if isinstance(token, Word) else Word(token))
            if isinstance(token, Word) and token.text == "]]":
                break
        self._add(words, [])

    def _simple(self) -> None:
        words: list[Word] = []
        redirects: list[Redirect] = []
        while (token := self._peek()) is not None:
            if isinstance(token, Word):
                words.append(token)
                self.pos += 1
            elif token in _REDIRECTS:
                target = self._peek(1)
                if not isinstance(target, Word):
                    raise ShellSyntaxError(f"{token} without a target")
                redirects.append(Redirect(token, target))
                self.pos += 2
            else:
                break
        self._add(words, redirects)

    def _add(self, words: list[Word], redirects: list[Redirect]) -> None:
        if words or redirects:
            function = self.functions[-1] if self.functions else None
            command = Command(
                tuple(words), tuple(redirects), tuple(self.stages), tuple(self.scope), function
            )
            self.commands.append(command)
