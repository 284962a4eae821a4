"""Turning an agent's events into evidence entries.

A ``tool_call`` and its ``tool_result`` (paired by ``call_id``) become one
command, file change or tool entry; an ``approval_requested`` and its
``approval_decided`` (paired by ``request_id``) become one approval entry.
Entries keep their raw texts until :func:`finish` readies the few that are
shown: long texts trimmed to a head and a tail with a pointer ``{agent_id, seq}``
back to the full event in the store, and everything redacted.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from fleetnb.events import FILE_TOOLS, Event, EventKind
from fleetnb.evidence.redact import redact, redact_value

__all__ = ["ENTRY_KINDS", "EVENT_KINDS_FOR", "WORKTREE_DIFF", "EntryBuilder", "finish", "trim"]

# A worktree agent's recorded diff; a plain string so this module does not depend on it.
WORKTREE_DIFF = "diff"
ENTRY_KINDS = (
    "message", "command", "file_change", "tool", "approval", "annotation", "check", "error",
    "outcome",
)  # fmt: skip
# Which stored event kinds feed each entry kind: a kinds filter reads only these.
EVENT_KINDS_FOR: dict[str, tuple[str, ...]] = {
    "message": (EventKind.ASSISTANT_TEXT, EventKind.USER_MESSAGE),
    "command": (EventKind.TOOL_CALL, EventKind.TOOL_RESULT),
    "file_change": (EventKind.TOOL_CALL, EventKind.TOOL_RESULT, WORKTREE_DIFF),
    "tool": (EventKind.TOOL_CALL, EventKind.TOOL_RESULT),
    "approval": (EventKind.APPROVAL_REQUESTED, EventKind.APPROVAL_DECIDED),
    "annotation": (EventKind.ANNOTATION,),
    "check": (EventKind.TRUTH_CHECKED,),
    "error": (EventKind.PARSE_ERROR, EventKind.LIMIT_HIT, EventKind.TURN_FINISHED),
    "outcome": (EventKind.AGENT_FINISHED,),
}
_COMMAND_TOOLS = frozenset({"Bash", "shell", "exec_command", "run_shell_command", "bash"})
DEFAULT_TRIM = 2000
# The long text fields, and where each one's pointer to the full text goes.
_POINTERS = {
    "text": "trimmed", "output": "trimmed", "raw": "trimmed", "message": "trimmed",
    "stderr_tail": "trimmed", "diff": "diff_trimmed", "command": "command_trimmed",
    "input": "input_trimmed",
}  # fmt: skip
# A result's output lives in the result event, not in the call the entry starts at.
_SEQ_OF = {"output": "output_seq"}
# Longer than any secret but a private key, whose END line the redactor also catches.
_MARGIN = 4096

Entry = dict[str, Any]


def trim(text: str, agent_id: str, seq: int, limit: int = DEFAULT_TRIM) -> tuple[str, Any]:
    """``text`` redacted and cut to a head and a tail, and a pointer to the full text (or None).

    Each part is redacted before it is cut, with a margin, so a cut through the
    middle of a secret cannot leave a piece of it that no detector recognises.
    """
    if len(text) <= limit:
        return redact(text), None
    head_len = limit * 2 // 3
    tail_len = limit - head_len
    head = redact(text[: head_len + _MARGIN])[:head_len]
    tail = redact(text[-(tail_len + _MARGIN) :])[-tail_len:]
    omitted = len(text) - head_len - tail_len
    cut = f"{head}\n[… {omitted} characters trimmed; full text at seq {seq} …]\n"
    pointer = {"agent_id": agent_id, "seq": seq, "chars": len(text)}
    return cut + tail, pointer


def finish(entry: Entry, agent_id: str, trim_chars: int = DEFAULT_TRIM) -> Entry:
    """A built entry ready to show: long texts trimmed, everything redacted."""
    done: Entry = {}
    for key, value in entry.items():
        pointer_key = _POINTERS.get(key)
        if pointer_key and isinstance(value, str):
            seq = entry.get(_SEQ_OF.get(key, "seq")) or entry["seq"]
            done[key], pointer = trim(value, agent_id, seq, trim_chars)
            if pointer is not None or pointer_key not in done:
                done[pointer_key] = pointer
        elif key == "title":
            done[key] = _line(redact(str(value)[:_MARGIN]))
        elif key not in done:  # a pointer a longer text already set stays
            done[key] = redact_value(value)
    return done


class EntryBuilder:
    """Folds events, oldest first, into entries; pairs calls and requests as it goes."""

    def __init__(self, agent_id: str) -> None:
        self.agent_id = agent_id
        self.entries: list[Entry] = []
        self._calls: dict[str, Entry] = {}
        self._requests: dict[str, Entry] = {}
        self._handlers: dict[str, Callable[[Event], None]] = {
            EventKind.ASSISTANT_TEXT: self._message,
            EventKind.USER_MESSAGE: self._message,
            EventKind.TOOL_CALL: self._tool_call,
            EventKind.TOOL_RESULT: self._tool_result,
            EventKind.APPROVAL_REQUESTED: self._approval_requested,
            EventKind.APPROVAL_DECIDED: self._approval_decided,
            EventKind.ANNOTATION: self._annotation,
            EventKind.TRUTH_CHECKED: self._check,
            EventKind.PARSE_ERROR: self._error,
            EventKind.LIMIT_HIT: self._error,
            EventKind.TURN_FINISHED: self._turn_finished,
            EventKind.AGENT_FINISHED: self._outcome,
            WORKTREE_DIFF: self._worktree_diff,
        }

    def feed(self, events: Iterable[Event]) -> None:
        for event in events:
            handler = self._handlers.get(event.kind)
            if handler is not None:
                handler(event)

    # -- helpers -----------------------------------------------------------------

    def _add(self, event: Event, kind: str, title: str, **fields: Any) -> Entry:
        entry: Entry = {"kind": kind, "seq": event.seq, "ts": event.ts, "title": title}
        entry.update(fields)
        self.entries.append(entry)
        return entry

    def _trim(self, text: Any, seq: int) -> tuple[str, Any]:
        """The raw text for now: :func:`finish` trims and redacts only the entries kept."""
        return ("" if text is None else str(text)), None

    # -- handlers ------------------------------------------------------------------

    def _message(self, event: Event) -> None:
        text, pointer = self._trim(event.payload.get("text"), event.seq)
        role = "user" if event.kind == EventKind.USER_MESSAGE else "assistant"
        self._add(event, "message", text, role=role, text=text, trimmed=pointer)

    def _tool_call(self, event: Event) -> None:
        payload = event.payload
        tool = str(payload.get("tool") or "")
        tool_input = payload.get("input")
        tool_input = tool_input if isinstance(tool_input, Mapping) else {"input": tool_input}
        call_id = str(payload.get("call_id") or "")
        if tool in FILE_TOOLS:
            entry = self._file_change(event, tool, tool_input)
        elif tool in _COMMAND_TOOLS or "command" in tool_input:
            command = str(tool_input.get("command") or "")
            entry = self._add(event, "command", command, tool=tool, command=command)
        else:
            summary = _summary(tool_input)
            entry = self._add(event, "tool", f"{tool}: {summary}", tool=tool, input=summary)
        entry.update(call_id=call_id, status="pending", exit_code=None, is_error=None,
                     output="", output_seq=None, trimmed=None)  # fmt: skip
        self._calls[call_id] = entry

    def _file_change(self, event: Event, tool: str, tool_input: Mapping[str, Any]) -> Entry:
        paths, diff = _paths_and_diff(tool, tool_input)
        text, pointer = self._trim(diff, event.seq)
        return self._add(event, "file_change", f"{tool} {', '.join(paths)}", tool=tool,
                         paths=paths, diff=text, diff_trimmed=pointer)  # fmt: skip

    def _worktree_diff(self, event: Event) -> None:
        payload = event.payload
        diff = str(payload.get("diff") or "")
        paths = sorted({line[6:] for line in diff.splitlines() if line.startswith("+++ b/")})
        text, pointer = self._trim(diff, event.seq)
        action = str(payload.get("action") or "diff")
        self._add(event, "file_change", f"worktree {action}: {', '.join(paths) or 'no changes'}",
                  tool=f"worktree {action}", paths=paths, diff=text, diff_trimmed=pointer,
                  branch=payload.get("branch"), base=payload.get("base"),
                  commit=payload.get("commit"), status="ok")  # fmt: skip

    def _tool_result(self, event: Event) -> None:
        payload = event.payload
        entry = self._calls.pop(str(payload.get("call_id") or ""), None)
        if entry is None:  # its call fell before the window that was read
            entry = self._add(event, "tool", "result of an earlier call", tool="",
                              call_id=str(payload.get("call_id") or ""))  # fmt: skip
        output, pointer = self._trim(payload.get("output"), event.seq)
        is_error = bool(payload.get("is_error"))
        entry.update(
            output=output,
            output_seq=event.seq,
            trimmed=pointer,
            is_error=is_error,
            exit_code=payload.get("exit_code"),
            status="error" if is_error else "ok",
        )

    def _approval_requested(self, event: Event) -> None:
        payload = event.payload
        tool_input = payload.get("input")
        summary = _summary(tool_input if isinstance(tool_input, Mapping) else {"input": tool_input})
        request_id = str(payload.get("request_id") or "")
        self._requests[request_id] = self._add(
            event, "approval", f"{payload.get('tool')}: {summary}", request_id=request_id,
            tool=str(payload.get("tool") or ""), input=summary,
            reason=str(payload.get("reason") or ""), decision="pending", by=None,
            decision_reason="", decided_seq=None,
        )  # fmt: skip

    def _approval_decided(self, event: Event) -> None:
        payload = event.payload
        request_id = str(payload.get("request_id") or "")
        entry = self._requests.pop(request_id, None)
        if entry is None:
            entry = self._add(event, "approval", f"decision on {request_id}",
                              request_id=request_id, tool="", input="", reason="")  # fmt: skip
        entry.update(
            decision=str(payload.get("decision") or ""),
            by=payload.get("by"),
            decision_reason=str(payload.get("reason") or ""),
            decided_seq=event.seq,
        )

    def _annotation(self, event: Event) -> None:
        payload = event.payload
        text = str(payload.get("text") or "")
        tag = payload.get("tag")
        self._add(event, "annotation", text, text=text, tag=tag,
                  event_seq=payload.get("event_seq"))  # fmt: skip

    def _check(self, event: Event) -> None:
        """An API truth check of the agent's changed lines: what it found, one per line."""
        payload = event.payload
        if "skipped" in payload:
            self._add(event, "check", f"API check skipped: {payload['skipped']}", status="skipped")
            return
        errors, warnings = int(payload.get("errors") or 0), int(payload.get("warnings") or 0)
        files = [str(f) for f in payload.get("files") or ()]
        findings = [f for f in payload.get("findings") or () if isinstance(f, Mapping)]
        title = (
            f"API check ({payload.get('trigger') or 'manual'}): {errors} error(s), "
            f"{warnings} warning(s) on the changed lines of {len(files)} file(s)"
        )
        text, pointer = self._trim("\n".join(map(_finding_line, findings)), event.seq)
        self._add(event, "check", title, errors=errors, warnings=warnings, files=files,
                  calls_checked=payload.get("calls_checked"), text=text, trimmed=pointer,
                  problems=[str(p) for p in payload.get("problems") or ()],
                  status="failed" if errors else "ok")  # fmt: skip

    def _error(self, event: Event) -> None:
        payload = event.payload
        if event.kind == EventKind.PARSE_ERROR:
            raw, pointer = self._trim(payload.get("raw"), event.seq)
            message = str(payload.get("error") or "parse error")
            self._add(event, "error", f"parse error: {message}", error_kind="parse_error",
                      message=message, raw=raw, trimmed=pointer)  # fmt: skip
        else:
            message = str(payload.get("message") or "limit reached")
            self._add(event, "error", f"limit: {message}", error_kind="limit_hit",
                      message=message, resets_at=payload.get("resets_at"))  # fmt: skip

    def _turn_finished(self, event: Event) -> None:
        if not event.payload.get("is_error"):
            return
        message, pointer = self._trim(event.payload.get("result"), event.seq)
        self._add(event, "error", f"turn failed: {message}", error_kind="turn_failed",
                  message=message, trimmed=pointer)  # fmt: skip

    def _outcome(self, event: Event) -> None:
        payload = event.payload
        status = str(payload.get("status") or "")
        tail, pointer = self._trim(payload.get("stderr_tail"), event.seq)
        reason = str(payload.get("reason") or "")
        self._add(event, "outcome", f"{status}: {reason}" if reason else status, status=status,
                  reason=reason, error=str(payload.get("error") or ""),
                  exit_code=payload.get("exit_code"), stderr_tail=tail,
                  trimmed=pointer)  # fmt: skip


def _finding_line(finding: Mapping[str, Any]) -> str:
    where = f"{finding.get('path')}:{finding.get('line')}:{finding.get('column')}"
    fix = f" (did you mean `{finding['suggestion']}`?)" if finding.get("suggestion") else ""
    return f"{where} {finding.get('severity')} {finding.get('kind')}: {finding.get('message')}{fix}"


def _paths_and_diff(tool: str, tool_input: Mapping[str, Any]) -> tuple[list[str], str]:
    """The files a file tool touches and, when the input allows, a unified diff."""
    if tool == "apply_patch" or "changes" in tool_input:
        changes = [c for c in tool_input.get("changes") or () if isinstance(c, Mapping)]
        paths = [str(c.get("path")) for c in changes] or [
            str(p) for p in tool_input.get("paths") or ()
        ]
        diff = "\n".join(f"{c.get('kind') or 'update'} {c.get('path')}\n{c.get('diff') or ''}"
                         for c in changes)  # fmt: skip
        return paths, diff
    path = str(
        tool_input.get("file_path")
        or tool_input.get("path")
        or tool_input.get("notebook_path")
        or ""
    )
    if "content" in tool_input:
        return [path], _diff("", str(tool_input["content"]), path)
    edits = tool_input.get("edits")
    pairs = edits if isinstance(edits, list) else [tool_input]
    diff = "".join(
        _diff(str(e.get("old_string") or ""), str(e.get("new_string") or ""), path)
        for e in pairs
        if isinstance(e, Mapping)
    )
    return [path], diff


def _diff(old: str, new: str, path: str) -> str:
    name = path.lstrip("/")
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{name}", f"b/{name}"
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _summary(tool_input: Mapping[str, Any]) -> str:
    for key in ("command", "file_path", "path", "pattern", "url", "query"):
        if tool_input.get(key):
            return str(tool_input[key])
    return json.dumps(tool_input, ensure_ascii=False, default=str)[:500]


def _line(text: str, limit: int = 160) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
