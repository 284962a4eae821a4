"""Cost accounting: prices for usage events from a maintained price table."""

from __future__ import annotations

from fleetnb.cost.prices import Price, price_usage

__all__ = ["Price", "price_usage"]
