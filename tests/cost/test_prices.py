"""Prices come from rate cards (genai-prices' shipped table, or overrides), in fleetnb's
token convention; the demo's synthetic usage says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetnb.cost import price_usage
from fleetnb.cost.prices import DEMO_PRICED_BY, price_event
from fleetnb.cost.rates import load_overrides


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


def test_one_hour_cache_writes_are_priced_at_their_own_rate() -> None:
    # claude-sonnet-4-5: $3.75/M for 5-minute writes, $6/M for 1-hour writes.
    usage = {"cache_write_tokens": 3_000, "cache_write_1h_tokens": 1_000}
    price = price_usage(usage, "claude-sonnet-4-5-20250929", "claude")
    assert price.cost_usd == pytest.approx((2_000 * 3.75 + 1_000 * 6) / 1e6)


@pytest.mark.parametrize(
    ("model", "resolved"),
    [
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("claude-opus-4-20250514", "claude-opus-4-0"),
        ("claude-sonnet-4-20250514", "claude-sonnet-4-0"),
    ],
)
def test_dated_model_ids_resolve(model: str, resolved: str) -> None:
    price = price_usage({"input_tokens": 10}, model, "claude")
    assert price.cost_usd is not None
    assert price.priced_by.endswith(f"({resolved})")


def test_overrides_take_precedence_and_say_so(tmp_path: Path) -> None:
    path = tmp_path / "negotiated.toml"
    path.write_text('[models."gpt-5.1"]\ninput = 1.0\noutput = 2.0\n')
    price = price_usage(
        {"input_tokens": 1_000, "output_tokens": 100}, "gpt-5.1", "codex", load_overrides(path)
    )
    assert price.cost_usd == pytest.approx((1_000 * 1.0 + 100 * 2.0) / 1e6)
    assert price.priced_by == "override negotiated.toml (gpt-5.1)"


def test_synthetic_usage_is_labelled_and_priced_at_the_demos_model() -> None:
    usage = {"input_tokens": 1_000, "output_tokens": 100, "synthetic": True}
    plain = price_event(usage, "demo-scripted", "demo")
    assert (plain.cost_usd, plain.priced_by) == (0.0, DEMO_PRICED_BY)
    as_sonnet = price_event(usage, "demo-scripted", "demo", demo_model="claude-sonnet-4-5")
    assert as_sonnet.cost_usd == pytest.approx((1_000 * 3 + 100 * 15) / 1e6)
    assert as_sonnet.priced_by.startswith(f"{DEMO_PRICED_BY} at genai-prices")


def test_real_usage_is_never_priced_as_synthetic() -> None:
    price = price_event({"input_tokens": 5}, "no-such-model-7", "claude", demo_model="gpt-5.1")
    assert price.cost_usd is None
    assert price.priced_by.startswith("unpriced")
