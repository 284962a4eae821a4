"""Rate cards price exactly as genai-prices' own calculation, and overrides win."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from genai_prices import Usage, calc_price

from fleetnb.cost.rates import default_overrides, load_overrides, rate_card
from fleetnb.errors import PriceOverrideError

# Flat, tiered (long context), 1-hour cache writes, and three providers.
MODELS = [
    ("claude-sonnet-4-20250514", "claude", "anthropic"),
    ("claude-sonnet-4-5-20250929", "claude", "anthropic"),
    ("claude-opus-4-1-20250805", "claude", "anthropic"),
    ("claude-3-5-haiku-20241022", "claude", "anthropic"),
    ("gpt-5-codex", "codex", "openai"),
    ("gemini-2.5-pro", "gemini", "google"),
    ("gemini-2.5-flash", "gemini", "google"),
]


def _reference(model: str, provider: str, tokens: dict[str, int]) -> float:
    usage = Usage(
        input_tokens=tokens["input"] + tokens["cache_write"] + tokens["cache_read"],
        output_tokens=tokens["output"],
        cache_write_tokens=tokens["cache_write"],
        cache_write_1h_tokens=tokens["cache_write_1h"],
        cache_read_tokens=tokens["cache_read"],
    )
    return float(calc_price(usage, model_ref=model, provider_id=provider).total_price)


@pytest.mark.parametrize(("model", "source", "provider"), MODELS)
def test_a_card_prices_like_calc_price(model: str, source: str, provider: str) -> None:
    card = rate_card(model, source)
    assert card.priced, card.priced_by
    draw = random.Random(model)
    for _ in range(200):
        cache_write = draw.choice([0, draw.randrange(0, 300_000)])
        tokens = {
            "input": draw.randrange(0, 250_000),
            "output": draw.randrange(0, 40_000),
            "cache_write": cache_write,
            "cache_write_1h": draw.choice([0, cache_write, cache_write // 3]),
            "cache_read": draw.choice([0, draw.randrange(0, 400_000)]),
        }
        if "gemini" in model or "gpt" in model:  # no cache writes in these tables
            tokens["cache_write"] = tokens["cache_write_1h"] = 0
        got = card.cost(
            tokens["input"], tokens["output"], tokens["cache_write"], tokens["cache_write_1h"],
            tokens["cache_read"],
        )  # fmt: skip
        assert got == pytest.approx(_reference(model, provider, tokens), rel=1e-9, abs=1e-12)


def test_the_tier_boundary_follows_the_whole_input() -> None:
    card = rate_card("claude-sonnet-4-5-20250929", "claude")
    at = card.cost(100_000, 0, 0, 0, 100_000)
    above = card.cost(100_001, 0, 0, 0, 100_000)
    assert at is not None
    assert above is not None
    assert above > at * 1.9  # every token pays the long-context rate past 200k


def test_unknown_and_missing_models_are_unpriced_never_zero() -> None:
    card = rate_card("gpt-imaginary-9", "codex")
    assert card.cost(10, 10, 0, 0, 0) is None
    assert card.priced_by.startswith("unpriced:")
    assert "gpt-imaginary-9" in card.priced_by
    assert rate_card(None, "claude").cost(1, 1, 0, 0, 0) is None


def test_dated_ids_resolve_and_name_the_table_entry() -> None:
    assert "claude-sonnet-4-0" in rate_card("claude-sonnet-4-20250514", "claude").priced_by


OVERRIDES = """
[models."claude-sonnet-4-5-20250929"]
input = 2.0
output = 10.0
cache_write = 2.5

[models."ollama/*"]
input = 0
output = 0
"""


def test_overrides_win_exact_then_glob(tmp_path: Path) -> None:
    path = tmp_path / "prices.toml"
    path.write_text(OVERRIDES)
    overrides = load_overrides(path)
    card = rate_card("claude-sonnet-4-5-20250929", "claude", overrides)
    assert card.priced_by == "override prices.toml (claude-sonnet-4-5-20250929)"
    # cache_read defaults to the input price, the 1-hour write to cache_write.
    assert card.cost(1_000_000, 1_000_000, 1_000_000, 400_000, 1_000_000) == pytest.approx(
        2.0 + 10.0 + 2.5 + 2.0
    )
    local = rate_card("ollama/qwen2.5-coder:32b", "codex", overrides)
    assert local.cost(5000, 5000, 0, 0, 0) == 0.0
    assert local.priced
    assert "genai-prices" in rate_card("claude-opus-4-1-20250805", "claude", overrides).priced_by


def test_the_fleet_default_file_is_read_when_present(tmp_path: Path) -> None:
    assert default_overrides(tmp_path) is None
    (tmp_path / ".fleetnb").mkdir()
    (tmp_path / ".fleetnb" / "prices.toml").write_text(OVERRIDES)
    overrides = default_overrides(tmp_path)
    assert overrides is not None
    assert overrides.card_for("ollama/llama3") is not None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[models."m"]\ninput = 1\n', "'output' is required"),
        ('[models."m"]\ninput = -1\noutput = 1\n', "input must be a finite price >= 0"),
        ('[models."m"]\ninput = "cheap"\noutput = 1\n', "input must be a number"),
        ('[models."m"]\ninput = true\noutput = 1\n', "input must be a number"),
        ('[models."m"]\ninput = nan\noutput = 1\n', "finite"),
        (
            '[models."m"]\ninput = 1\noutput = 1\ncahce_read = 1\n',
            "unknown field(s) ['cahce_read']",
        ),
        ('[model."m"]\ninput = 1\n', "unknown table(s) ['model']"),
        ("models = 3\n", '"models" must be a table'),
        ("[models]\nm = 3\n", '[models."m"] must be a table'),
        ("[models.\n", "is not valid TOML"),
    ],
)
def test_a_malformed_override_file_names_model_and_field(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "prices.toml"
    path.write_text(text)
    with pytest.raises(PriceOverrideError) as caught:
        load_overrides(path)
    assert message in str(caught.value)


def test_a_missing_override_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PriceOverrideError, match="cannot read the price overrides"):
        load_overrides(tmp_path / "nope.toml")
