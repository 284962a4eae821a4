"""The notebook surface: the live fleet table and the approval queue (anywidget).

Both widgets are kept current by a daemon thread in the kernel (see DESIGN.md,
"Notebook surface") and show static ``text/plain`` and ``text/html`` views of
their last state wherever no kernel runs them.
"""

from __future__ import annotations

from fleetnb.widgets._display import (
    close_widgets,
    display_fleet,
    fleet_html,
    fleet_mimebundle,
    fleet_text,
    live_queue,
    live_table,
)
from fleetnb.widgets.approval_queue import ApprovalQueue
from fleetnb.widgets.fleet_table import FleetTable

__all__ = [
    "ApprovalQueue",
    "FleetTable",
    "close_widgets",
    "display_fleet",
    "fleet_html",
    "fleet_mimebundle",
    "fleet_text",
    "live_queue",
    "live_table",
]
