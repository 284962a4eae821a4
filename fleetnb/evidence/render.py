"""The ``text/html`` and ``text/plain`` views of an evidence trail.

The HTML renders untrusted (no script, nothing interactive beyond ``<details>``)
and every value from the payload goes through ``html.escape``: a task, an
output or a diff may hold any markup an agent or a repository produced.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["trail_html", "trail_text"]

_CSS = (
    ".fleetnb-evidence{font-family:var(--jp-ui-font-family,sans-serif);font-size:13px}"
    ".fleetnb-evidence details{border-left:3px solid #d1d5db;margin:2px 0;padding-left:6px}"
    ".fleetnb-evidence pre{white-space:pre-wrap;margin:2px 0;max-height:24em;overflow:auto}"
    ".fleetnb-ev-error,.fleetnb-ev-failed{border-left-color:#dc2626!important}"
    ".fleetnb-ev-annotation{border-left-color:#9333ea!important}"
    ".fleetnb-ev-approval{border-left-color:#d97706!important}"
    ".fleetnb-diff-add{color:#15803d}.fleetnb-diff-del{color:#b91c1c}"
    ".fleetnb-diff-hunk{color:#6d28d9}.fleetnb-ev-meta{color:#6b7280}"
)
_TEXT_ENTRIES = 15
_DIFF_COLOURS = {
    "fleetnb-diff-add": "#15803d", "fleetnb-diff-del": "#b91c1c",
    "fleetnb-diff-hunk": "#6d28d9", "fleetnb-ev-meta": "#6b7280",
}  # fmt: skip


def trail_html(payload: Mapping[str, Any]) -> str:
    """A self-contained HTML view: a header, totals, then one ``<details>`` per entry."""
    agent = payload.get("agent") or {}
    esc = _esc
    demo = " [demo]" if agent.get("demo") else ""
    head = (
        f"<div><strong>{esc(agent.get('name'))}{demo}</strong> "
        f'<span class="fleetnb-ev-meta">{esc(agent.get("harness"))} · {esc(agent.get("model"))}'
        f" · {esc(agent.get('state'))} · session {esc(agent.get('session_id'))}</span></div>"
        f"<div>task: {esc(agent.get('task'))}</div>"
        f'<div class="fleetnb-ev-meta">{esc(_totals(payload))}</div>'
    )
    body = "".join(_entry_html(e) for e in payload.get("entries") or ())
    return (
        f'<div class="fleetnb-evidence"><style>{_CSS}</style>{head}{body}'
        f'<div class="fleetnb-ev-meta">{esc(payload.get("schema"))}</div></div>'
    )


def trail_text(payload: Mapping[str, Any]) -> str:
    """A short summary: the agent, totals, counts by kind and the last entries."""
    agent = payload.get("agent") or {}
    entries = list(payload.get("entries") or ())
    counts: dict[str, int] = {}
    for entry in entries:
        counts[str(entry.get("kind"))] = counts.get(str(entry.get("kind")), 0) + 1
    lines = [
        f"evidence: {agent.get('name')} ({agent.get('harness')}, {agent.get('model')}) "
        f"{agent.get('state')}",
        f"task: {_one_line(agent.get('task'))}",
        _totals(payload),
        "entries: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())),
    ]
    shown = entries[-_TEXT_ENTRIES:]
    if len(entries) > len(shown):
        lines.append(f"  … {len(entries) - len(shown)} more above (see the HTML view)")
    lines.extend(f"  {_entry_line(e)}" for e in shown)
    return "\n".join(lines)


def _totals(payload: Mapping[str, Any]) -> str:
    totals = payload.get("totals") or {}
    cost = totals.get("cost_usd")
    cost_text = f"${float(cost):.4f}" if isinstance(cost, int | float) else "?"
    return (
        f"tokens in {totals.get('input_tokens', 0)} / out {totals.get('output_tokens', 0)} / "
        f"cache {totals.get('cache_read_tokens', 0)}+{totals.get('cache_write_tokens', 0)}; "
        f"cost {cost_text}; turns {totals.get('turns', 0)}"
    )


def _entry_line(entry: Mapping[str, Any]) -> str:
    seq = entry.get("seq")
    where = f"#{seq}" if seq is not None else "…"
    return f"{where:>7} {entry.get('kind')!s:<11} {_status(entry)} {_one_line(entry.get('title'))}"


def _status(entry: Mapping[str, Any]) -> str:
    kind = str(entry.get("kind"))
    if kind in ("command", "tool", "file_change"):
        code = entry.get("exit_code")
        return f"[{entry.get('status')}{'' if code is None else f' exit {code}'}]"
    show = _STATUS_OF.get(kind)
    return show(entry) if show is not None else ""


def _check_status(entry: Mapping[str, Any]) -> str:
    if entry.get("status") == "skipped":
        return "[skipped]"
    return f"[{entry.get('errors')} errors, {entry.get('warnings')} warnings]"


_STATUS_OF: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "approval": lambda e: f"[{e.get('decision')} by {e.get('by')}]",
    "annotation": lambda e: f"[{e.get('tag')}]" if e.get("tag") else "",
    "outcome": lambda e: f"[{e.get('status')}]",
    "check": _check_status,
}


def _entry_html(entry: Mapping[str, Any]) -> str:
    kind = str(entry.get("kind"))
    classes = f"fleetnb-ev-entry fleetnb-ev-{_css_word(kind)}"
    if entry.get("is_error") or entry.get("status") == "failed":
        classes += " fleetnb-ev-failed"
    summary = (
        f'<span class="fleetnb-ev-meta">{_esc(_when(entry))}</span> '
        f"<strong>{_esc(kind)}</strong> {_esc(_status(entry))} {_esc(entry.get('title'))}"
    )
    return f'<details class="{classes}"><summary>{summary}</summary>{_detail_html(entry)}</details>'


def _detail_html(entry: Mapping[str, Any]) -> str:
    parts = []
    for key in ("text", "command", "input", "reason", "decision_reason", "message", "error"):
        if entry.get(key):
            parts.append(f"<div><em>{_esc(key)}</em>: <pre>{_esc(entry[key])}</pre></div>")
    if entry.get("diff"):
        parts.append(f"<pre>{_diff_html(str(entry['diff']))}</pre>")
    for key in ("output", "raw", "stderr_tail"):
        if entry.get(key):
            parts.append(f"<div><em>{_esc(key)}</em>:<pre>{_esc(entry[key])}</pre></div>")
    for key in ("trimmed", "diff_trimmed"):
        pointer = entry.get(key)
        if isinstance(pointer, Mapping):
            parts.append(
                f'<div class="fleetnb-ev-meta">trimmed from {_esc(pointer.get("chars"))} '
                f"characters; full text: agent {_esc(pointer.get('agent_id'))} seq "
                f"{_esc(pointer.get('seq'))}</div>"
            )
    return "".join(parts)


def _diff_html(diff: str) -> str:
    out = []
    for line in diff.splitlines():
        if line.startswith(("+++", "---")):
            css = "fleetnb-ev-meta"
        elif line.startswith("+"):
            css = "fleetnb-diff-add"
        elif line.startswith("-"):
            css = "fleetnb-diff-del"
        elif line.startswith("@@"):
            css = "fleetnb-diff-hunk"
        else:
            out.append(_esc(line))
            continue
        # The class for themes; the inline colour survives sanitizers that drop <style>.
        out.append(f'<span class="{css}" style="color:{_DIFF_COLOURS[css]}">{_esc(line)}</span>')
    return "\n".join(out)


def _when(entry: Mapping[str, Any]) -> str:
    ts = entry.get("ts")
    seq = entry.get("seq")
    if not isinstance(ts, int | float):
        return "" if seq is None else f"#{seq}"
    clock = dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%H:%M:%S")
    return f"#{seq} {clock}Z"


def _css_word(kind: str) -> str:
    return "".join(c for c in kind if c.isalnum() or c in "-_") or "entry"


def _esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _one_line(value: Any, limit: int = 100) -> str:
    line = " ".join(str(value or "").split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
