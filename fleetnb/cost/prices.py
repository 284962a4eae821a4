"""Prices for usage events, from the `genai-prices` package's shipped table.

No price is written by hand and nothing is fetched at run time. Tokens follow
fleetnb's convention (Anthropic's: input excludes cache reads and writes), while
genai-prices counts cache tokens inside ``input_tokens``, so they are added back
before pricing. Each API response is priced on its own: long-context tiers depend
on the size of one request. A model the table does not know is ``unpriced`` with
its tokens kept, never silently zero.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from typing import Any

__all__ = ["Price", "price_usage"]

# Which provider's table to search first for a harness's models.
_PROVIDERS = {"claude": "anthropic", "codex": "openai", "gemini": "google"}


@dataclasses.dataclass(frozen=True, slots=True)
class Price:
    """The cost of one usage event, or why there is none."""

    cost_usd: float | None
    priced_by: str


def price_usage(usage: Mapping[str, Any], model: str | None, harness: str) -> Price:
    """Price one usage event's tokens for ``model``."""
    if not model:
        return Price(None, "unpriced: no model named")
    from genai_prices import Usage, calc_price  # noqa: PLC0415 - slow import, used late

    cache_read = int(usage.get("cache_read_tokens") or 0)
    cache_write = int(usage.get("cache_write_tokens") or 0)
    tokens = Usage(
        input_tokens=int(usage.get("input_tokens") or 0) + cache_read + cache_write,
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
        output_tokens=int(usage.get("output_tokens") or 0),
    )
    try:
        result = calc_price(tokens, model_ref=model, provider_id=_PROVIDERS.get(harness))
    except LookupError:
        return Price(None, f"unpriced: {model!r} is not in genai-prices {_version()}")
    return Price(float(result.total_price), f"genai-prices {_version()} ({result.model.id})")


@functools.cache
def _version() -> str:
    from importlib.metadata import version  # noqa: PLC0415

    return version("genai-prices")
