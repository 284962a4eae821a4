"""Plain-text and static HTML views of the table and the queue.

These are what a notebook keeps when no kernel is there to run the widgets:
papermill and nbconvert outputs, GitHub previews, ``print(fleet)``. Every value
is data an agent may have written, so every value goes through ``html.escape``;
the static HTML uses its own classes so it never matches the live widgets' DOM.
"""

from __future__ import annotations

import html
import time
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "STATE_ICONS",
    "format_api_check",
    "format_cost",
    "format_elapsed",
    "format_tokens",
    "queue_html",
    "queue_text",
    "table_html",
    "table_text",
]

# Mirrored in fleet_table.js; an icon as well as a colour, so the state reads without colour.
STATE_ICONS = {
    "starting": "◌",
    "running": "▶",
    "waiting": "⚑",
    "idle": "○",
    "done": "✔",
    "failed": "✖",
    "stopped": "■",
    "limited": "◔",
    "stalled": "⚠",
}
_STATE_COLOURS = {
    "starting": "#6b7280", "running": "#2563eb", "waiting": "#d97706", "idle": "#0891b2",
    "done": "#16a34a", "failed": "#dc2626", "stopped": "#4b5563", "limited": "#9333ea",
    "stalled": "#ea580c",
}  # fmt: skip
_RISK_COLOURS = {"low": "#16a34a", "medium": "#d97706", "high": "#ea580c", "critical": "#dc2626"}

Row = Mapping[str, Any]


def format_elapsed(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"


def format_tokens(count: int) -> str:
    if count < 1000:
        return str(count)
    if count < 1_000_000:
        return f"{count / 1000:.1f}k"
    return f"{count / 1_000_000:.2f}M"


def format_cost(cost: float, demo: bool = False, budget: float | None = None) -> str:
    """The cost cell; with a budget, the spend that counts against it out of the budget."""
    if budget is not None:
        return f"${cost:.4f} / ${budget:.4f}"
    return "demo" if demo and not cost else f"${cost:.4f}"


def format_api_check(errors: int | None, warnings: int | None) -> str:
    """Errors and warnings on an agent's changed lines at its latest API check (as the
    live table shows them); empty before the first check."""
    if errors is None:
        return ""
    parts = [f"{errors} ✖"] if errors else []
    parts += [f"{warnings} ⚠"] if warnings else []
    return " ".join(parts) or "✔"


def _cells(row: Row) -> list[str]:
    name = f"{row['name']} [demo]" if row.get("demo") else str(row["name"])
    state = str(row["state"])
    return [
        name,
        str(row.get("harness") or ""),
        str(row.get("model") or ""),
        f"{STATE_ICONS.get(state, '?')} {state}",
        format_elapsed(float(row.get("elapsed_s") or 0)),
        format_tokens(int(row.get("total_tokens") or 0)),
        _cost_cell(row),
        str(row.get("pending_approvals") or 0),
        format_api_check(row.get("api_errors"), row.get("api_warnings")),
        str(row.get("task") or ""),
        str(row.get("last_action") or ""),
        str(row.get("notes") or ""),
    ]


def _cost_cell(row: Row) -> str:
    budget = row.get("budget_usd")
    if budget is None:
        return format_cost(float(row.get("cost_usd") or 0.0), bool(row.get("demo")))
    return format_cost(float(row.get("spent_usd") or 0.0), budget=float(budget))


_TABLE_HEAD = [
    "agent", "harness", "model", "state", "elapsed", "tokens", "cost", "approvals",
    "api check", "task", "last action", "notes",
]  # fmt: skip


def table_text(rows: Sequence[Row]) -> str:
    """A fixed-width table; long tasks and actions are cut to keep one line per agent."""
    if not rows:
        return "fleetnb: no agents yet"
    limits = [40, 10, 16, 12, 8, 7, 19, 9, 9, 32, 48, 40]
    lines = [
        [_clip(str(c), limit) for c, limit in zip(_cells(r), limits, strict=True)] for r in rows
    ]
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(_TABLE_HEAD)]
    out = [_join(_TABLE_HEAD, widths)] + [_join(line, widths) for line in lines]
    return "\n".join(out)


def table_html(rows: Sequence[Row], error: str = "") -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in _TABLE_HEAD)
    body = "".join(_row_html(row) for row in rows) or (
        f'<tr><td colspan="{len(_TABLE_HEAD)}">no agents yet</td></tr>'
    )
    return (
        '<div class="fleetnb-static">' + _banner(error) + '<table class="fleetnb-static-table">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def _row_html(row: Row) -> str:
    cells = [html.escape(c) for c in _cells(row)]
    colour = _STATE_COLOURS.get(str(row["state"]), "inherit")
    cells[3] = f'<span style="color:{colour};font-weight:600">{cells[3]}</span>'
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def queue_text(requests: Sequence[Row]) -> str:
    if not requests:
        return "fleetnb: no pending approvals"
    now = time.time()
    lines = [f"{len(requests)} pending approval(s):"]
    for r in requests:
        what = r.get("command") or r.get("path") or r.get("body") or ""
        age = format_elapsed(max(0.0, now - float(r["requested_ts"])))
        lines.append(
            f"  {r['id']}  {r['agent']}  {r['tool']}  risk={r['risk']}  {age} ago  "
            f"{_clip(' '.join(str(what).split()), 60)}"
        )
        if r.get("error"):
            lines.append(f"    error: {r['error']}")
    return "\n".join(lines)


def queue_html(requests: Sequence[Row], error: str = "") -> str:
    now = time.time()
    head = "".join(
        f"<th>{h}</th>" for h in ("request", "agent", "tool", "risk", "wants", "why", "age")
    )
    body = "".join(_request_html(r, now) for r in requests) or (
        '<tr><td colspan="7">no pending approvals</td></tr>'
    )
    return (
        '<div class="fleetnb-static">' + _banner(error) + '<table class="fleetnb-static-queue">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def _request_html(r: Row, now: float) -> str:
    esc = html.escape
    what = "\n".join(str(r[k]) for k in ("command", "path", "body") if r.get(k))
    why = "; ".join(str(x) for x in (r.get("reason"), r.get("rule")) if x)
    if r.get("error"):
        why += f" (error: {r['error']})"
    colour = _RISK_COLOURS.get(str(r["risk"]), "inherit")
    cells = [
        esc(str(r["id"])),
        esc(str(r["agent"])),
        esc(str(r["tool"])),
        f'<span style="color:{colour};font-weight:600">{esc(str(r["risk"]))}</span>',
        f"<pre>{esc(what)}</pre>",
        esc(why),
        esc(format_elapsed(max(0.0, now - float(r["requested_ts"])))),
    ]
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def _banner(error: str) -> str:
    return (
        f'<p class="fleetnb-static-error"><strong>{html.escape(error)}</strong></p>'
        if error
        else ""
    )


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _join(cells: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()
