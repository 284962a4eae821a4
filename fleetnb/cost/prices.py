"""Prices for usage events, from a rate card (:mod:`fleetnb.cost.rates`).

No price is written by hand and nothing is fetched at run time: cards come from
the table `genai-prices` ships, or from the user's override TOML. Tokens follow
fleetnb's convention (Anthropic's: input excludes cache reads and writes). Each
API response is priced on its own: long-context tiers depend on the size of one
request. A model nobody prices is ``unpriced`` with its tokens kept, never
silently zero.

The demo harness's usage is synthetic: it is priced at the rates of the model the
demo was launched with (or an override for its own model), labelled
"demo (synthetic)", and at zero when no card prices it, so it is never shown as
unpriced real spend.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from fleetnb.cost.rates import Overrides, rate_card

__all__ = ["DEMO_PRICED_BY", "Price", "price_event", "price_usage"]

DEMO_PRICED_BY = "demo (synthetic)"


@dataclasses.dataclass(frozen=True, slots=True)
class Price:
    """The cost of one usage event, or why there is none."""

    cost_usd: float | None
    priced_by: str


def price_usage(
    usage: Mapping[str, Any],
    model: str | None,
    harness: str,
    overrides: Overrides | None = None,
) -> Price:
    """Price one usage event's tokens for ``model`` as ``harness`` uses it."""
    card = rate_card(model, harness, overrides)
    cost = card.cost(
        _tokens(usage, "input_tokens"),
        _tokens(usage, "output_tokens"),
        _tokens(usage, "cache_write_tokens"),
        _tokens(usage, "cache_write_1h_tokens"),
        _tokens(usage, "cache_read_tokens"),
    )
    return Price(cost, card.priced_by)


def price_event(
    usage: Mapping[str, Any],
    model: str | None,
    harness: str,
    overrides: Overrides | None = None,
    *,
    demo_model: str | None = None,
) -> Price:
    """Price a usage event as the runner records it; synthetic usage says so.

    ``demo_model`` is the model a demo agent was launched with: its synthetic
    tokens are priced at that model's rates.
    """
    if not usage.get("synthetic"):
        return price_usage(usage, model, harness, overrides)
    price = price_usage(usage, demo_model or model, harness, overrides)
    if price.cost_usd is None:
        return Price(0.0, DEMO_PRICED_BY)
    return Price(price.cost_usd, f"{DEMO_PRICED_BY} at {price.priced_by}")


def _tokens(usage: Mapping[str, Any], key: str) -> int:
    return int(usage.get(key) or 0)
