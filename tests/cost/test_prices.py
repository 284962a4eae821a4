"""Prices come from genai-prices' shipped table, in fleetnb's token convention."""

from __future__ import annotations

import pytest

from fleetnb.cost import price_usage


def test_cache_tokens_are_priced_at_their_own_rates() -> None:
    # claude-sonnet-4-5: $3/M input, $0.30/M cache read, $3.75/M 5-minute cache write, $15/M out.
    usage = {
        "input_tokens": 1_000,
        "cache_read_tokens": 10_000,
        "cache_write_tokens": 2_000,
        "output_tokens": 500,
    }
    price = price_usage(usage, "claude-sonnet-4-5-20250929", "claude")
    expected = (1_000 * 3 + 10_000 * 0.3 + 2_000 * 3.75 + 500 * 15) / 1e6
    assert price.cost_usd == pytest.approx(expected)
    assert price.priced_by.startswith("genai-prices")


def test_openai_models_resolve_for_codex() -> None:
    price = price_usage({"input_tokens": 1_000, "output_tokens": 100}, "gpt-5.1", "codex")
    assert price.cost_usd is not None
    assert price.cost_usd > 0


@pytest.mark.parametrize("model", ["no-such-model-7", None])
def test_unknown_models_are_unpriced_not_free(model: str | None) -> None:
    price = price_usage({"input_tokens": 5}, model, "codex")
    assert price.cost_usd is None
    assert price.priced_by.startswith("unpriced")
