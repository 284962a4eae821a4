"""Cost accounting: prices for usage events from a maintained price table."""

from __future__ import annotations

from fleetnb.cost.blocks import blocks
from fleetnb.cost.importer import ImportResult, import_logs
from fleetnb.cost.plot import plot_daily
from fleetnb.cost.prices import Price, price_usage
from fleetnb.cost.reports import ReportError, daily, monthly, sessions

__all__ = [
    "ImportResult",
    "Price",
    "ReportError",
    "blocks",
    "daily",
    "import_logs",
    "monthly",
    "plot_daily",
    "price_usage",
    "sessions",
]
