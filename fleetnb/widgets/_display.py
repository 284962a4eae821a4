"""How a :class:`~fleetnb.Fleet` shows itself: the live table, then the live queue.

Each fleet keeps one table and one queue (made on first use, made again once
closed), so displaying ``fleet`` in ten cells shows ten views of two widgets
rather than starting twenty threads. Without a kernel (a terminal, a script)
there is nothing to run a widget, so only the static views are shown.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from fleetnb.widgets._requests import request_of_api
from fleetnb.widgets._static import queue_html, queue_text, table_html, table_text
from fleetnb.widgets.approval_queue import ApprovalQueue
from fleetnb.widgets.fleet_table import FleetTable

if TYPE_CHECKING:
    from fleetnb.fleet import Fleet

__all__ = [
    "close_widgets",
    "display_fleet",
    "fleet_html",
    "fleet_mimebundle",
    "fleet_text",
    "live_queue",
    "live_table",
]

_tables: weakref.WeakKeyDictionary[Fleet, FleetTable] = weakref.WeakKeyDictionary()
_queues: weakref.WeakKeyDictionary[Fleet, ApprovalQueue] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


_W = TypeVar("_W", FleetTable, ApprovalQueue)


def live_table(fleet: Fleet) -> FleetTable:
    """The fleet's live table, started on first use (and again after ``close()``)."""
    return _cached(_tables, fleet, FleetTable)


def live_queue(fleet: Fleet) -> ApprovalQueue:
    """The fleet's live approval queue, started on first use (and again after ``close()``)."""
    return _cached(_queues, fleet, ApprovalQueue)


def close_widgets(fleet: Fleet) -> None:
    """Stop the fleet's live widgets and their threads."""
    with _lock:
        widgets = [cache.pop(fleet, None) for cache in (_tables, _queues)]
    for widget in widgets:
        if widget is not None:
            widget.close()


def _cached(cache: weakref.WeakKeyDictionary[Fleet, _W], fleet: Fleet, kind: type[_W]) -> _W:
    with _lock:
        widget = cache.get(fleet)
        if widget is None or widget.comm is None:
            widget = cache[fleet] = kind(fleet)
        return widget


def display_fleet(fleet: Fleet) -> None:
    """Display the live table and queue in a kernel, else their static views."""
    from IPython.display import display as untyped  # noqa: PLC0415 - only when displaying

    # IPython 8 leaves display() unannotated and IPython 9 annotates it: one cast serves both.
    display = cast("Callable[..., object]", untyped)
    if _has_kernel():
        display(live_table(fleet), live_queue(fleet))
    else:
        display(fleet_mimebundle(fleet), raw=True)


def fleet_mimebundle(fleet: Fleet) -> dict[str, str]:
    return {"text/plain": fleet_text(fleet), "text/html": fleet_html(fleet)}


def fleet_text(fleet: Fleet) -> str:
    rows, requests = _snapshot(fleet)
    return f"{table_text(rows)}\n\n{queue_text(requests)}"


def fleet_html(fleet: Fleet) -> str:
    rows, requests = _snapshot(fleet)
    return table_html(rows) + queue_html(requests)


def _snapshot(fleet: Fleet) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows and requests read through the public API, the same shapes the widgets show."""
    rows = []
    for agent in fleet.agents:
        row = agent.row()
        row["task"] = " ".join(str(row["task"]).split())[:80]
        rows.append(row)
    return rows, [request_of_api(request) for request in fleet.approvals]


def _has_kernel() -> bool:
    from IPython.core.getipython import get_ipython  # noqa: PLC0415

    shell = cast("Callable[[], object]", get_ipython)()  # annotated in IPython 9, not 8
    return shell is not None and getattr(shell, "kernel", None) is not None
