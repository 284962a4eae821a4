"""Rate cards: per-token prices for one model, fast enough to price a million log lines.

The prices come from the table `genai-prices` ships (nothing is fetched, nothing
is written by hand) or from a user's override file. ``genai_prices.calc_price``
costs tens of microseconds a call; an import prices hundreds of thousands of
records, so a card reads each per-token rate out of the package once, *through
the package's own calculation* (how it splits 5-minute and 1-hour cache writes,
which tier a request falls in), and afterwards prices with a few float
multiplications. ``tests/cost/test_rates.py`` checks cards against
``calc_price`` on random usage.

Tokens follow fleetnb's convention (Anthropic's): ``input_tokens`` excludes
cache reads and writes; ``cache_write_tokens`` counts all cache writes, of which
``cache_write_1h_tokens`` are the 1-hour ones. Long-context tiers apply by the
size of one request's whole input, as genai-prices defines them.

An override file is TOML with prices in USD per million tokens::

    [models."claude-sonnet-4-5"]      # an exact model id (dated ids match too)
    input = 2.4
    output = 12.0
    cache_read = 0.24                 # optional, default: input
    cache_write = 3.0                 # optional, default: input
    cache_write_1h = 4.8              # optional, default: cache_write

    [models."ollama/*"]               # a glob, for local models
    input = 0
    output = 0
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import math
import os
import tomllib
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fleetnb.errors import PriceOverrideError

if TYPE_CHECKING:
    from genai_prices.types import ModelPrice

__all__ = [
    "OVERRIDES_FILE",
    "Overrides",
    "RateCard",
    "default_overrides",
    "load_overrides",
    "rate_card",
]

#: Where a fleet keeps its price overrides, relative to its root.
OVERRIDES_FILE = Path(".fleetnb") / "prices.toml"

# Which provider's table to search first for a source's (harness's) models.
_PROVIDERS = {"claude": "anthropic", "codex": "openai", "gemini": "google"}
_KINDS = ("input", "output", "cache_write", "cache_write_1h", "cache_read")
_PER_MILLION = 1_000_000


@dataclasses.dataclass(frozen=True, slots=True)
class _Rates:
    """USD per token of each kind, for requests whose whole input exceeds ``above``."""

    above: int
    input: float
    output: float
    cache_write: float
    cache_write_1h: float
    cache_read: float


@dataclasses.dataclass(frozen=True, slots=True)
class RateCard:
    """How to price one model's usage, and who says so."""

    priced_by: str
    tiers: tuple[_Rates, ...] = ()  # ascending by ``above``; empty: unpriced

    @property
    def priced(self) -> bool:
        return bool(self.tiers)

    def cost(
        self,
        input_tokens: int,
        output_tokens: int,
        cache_write_tokens: int,
        cache_write_1h_tokens: int,
        cache_read_tokens: int,
    ) -> float | None:
        """The USD cost of one request's tokens; None when the model is unpriced."""
        if not self.tiers:
            return None
        whole_input = input_tokens + cache_write_tokens + cache_read_tokens
        rates = self.tiers[0]
        for tier in self.tiers[1:]:
            if whole_input > tier.above:
                rates = tier
        write_5m = cache_write_tokens - cache_write_1h_tokens
        return (
            input_tokens * rates.input
            + output_tokens * rates.output
            + write_5m * rates.cache_write
            + cache_write_1h_tokens * rates.cache_write_1h
            + cache_read_tokens * rates.cache_read
        )


@dataclasses.dataclass(frozen=True, slots=True)
class _Override:
    pattern: str
    rates: _Rates


@dataclasses.dataclass(frozen=True, slots=True)
class Overrides:
    """Per-model prices from a TOML file, checked in file order: exact ids, then globs."""

    source: str
    entries: tuple[_Override, ...]

    def card_for(self, model: str) -> RateCard | None:
        for entry in self.entries:
            if entry.pattern == model:
                return self._card(entry)
        for entry in self.entries:
            if fnmatch.fnmatchcase(model, entry.pattern):
                return self._card(entry)
        return None

    def _card(self, entry: _Override) -> RateCard:
        return RateCard(f"override {self.source} ({entry.pattern})", (entry.rates,))


def rate_card(model: str | None, source: str, overrides: Overrides | None = None) -> RateCard:
    """The rate card for ``model`` as used by ``source`` (claude, codex, gemini, …)."""
    if not model:
        return RateCard("unpriced: no model named")
    if overrides is not None:
        card = overrides.card_for(model)
        if card is not None:
            return card
    return _table_card(model, _PROVIDERS.get(source))


def default_overrides(root: str | os.PathLike[str] | None) -> Overrides | None:
    """The fleet's ``.fleetnb/prices.toml`` when it exists."""
    base = Path(root) if root is not None else Path(os.environ.get("FLEETNB_HOME") or os.getcwd())
    path = base / OVERRIDES_FILE
    return load_overrides(path) if path.is_file() else None


def load_overrides(path: str | os.PathLike[str] | None) -> Overrides | None:
    """Read a price override TOML; None for no path."""
    if path is None:
        return None
    where = Path(path)
    try:
        document = tomllib.loads(where.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PriceOverrideError(f"cannot read the price overrides {where}: {exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PriceOverrideError(f"{where} is not valid TOML: {exc}") from exc
    return Overrides(where.name, _parse_overrides(document, where.name))


def _parse_overrides(document: Mapping[str, Any], name: str) -> tuple[_Override, ...]:
    unknown = sorted(set(document) - {"models"})
    if unknown:
        raise PriceOverrideError(
            f'{name}: unknown table(s) {unknown}; prices go under [models."ID"]'
        )
    models = document.get("models", {})
    if not isinstance(models, dict):
        raise PriceOverrideError(f'{name}: "models" must be a table of [models."ID"] tables')
    return tuple(
        _Override(pattern, _parse_rates(name, pattern, spec)) for pattern, spec in models.items()
    )


def _parse_rates(name: str, model: str, spec: object) -> _Rates:
    where = f'{name}: [models."{model}"]'
    if not isinstance(spec, dict):
        raise PriceOverrideError(f"{where} must be a table of prices per million tokens")
    unknown = sorted(set(spec) - set(_KINDS))
    if unknown:
        raise PriceOverrideError(f"{where}: unknown field(s) {unknown}; known: {list(_KINDS)}")
    for required in ("input", "output"):
        if required not in spec:
            raise PriceOverrideError(f"{where}: {required!r} is required (USD per million tokens)")
    per_million = {kind: _price(where, kind, spec[kind]) for kind in _KINDS if kind in spec}
    per_million.setdefault("cache_read", per_million["input"])
    per_million.setdefault("cache_write", per_million["input"])
    per_million.setdefault("cache_write_1h", per_million["cache_write"])
    return _Rates(0, **{kind: value / _PER_MILLION for kind, value in per_million.items()})


def _price(where: str, kind: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PriceOverrideError(f"{where}: {kind} must be a number, not {value!r}")
    if not math.isfinite(value) or value < 0:
        raise PriceOverrideError(f"{where}: {kind} must be a finite price >= 0, not {value!r}")
    return float(value)


@functools.cache
def _table_card(model: str, provider: str | None) -> RateCard:
    from genai_prices import data_snapshot  # noqa: PLC0415 - slow import, only when pricing

    try:
        _, info = data_snapshot.get_snapshot().find_provider_model(model, None, provider, None)
    except LookupError:
        return RateCard(f"unpriced: {model!r} is not in genai-prices {_version()}")
    from datetime import UTC, datetime  # noqa: PLC0415

    prices = info.get_prices(datetime.now(tz=UTC))
    starts = _thresholds(prices)
    ends = [*starts[1:], None]
    tiers = tuple(_probe(prices, above, below) for above, below in zip(starts, ends, strict=True))
    return RateCard(f"genai-prices {_version()} ({info.id})", tiers)


def _thresholds(prices: ModelPrice) -> list[int]:
    from genai_prices.types import TieredPrices  # noqa: PLC0415

    starts = {0}
    for value in prices.__dict__.values():
        if isinstance(value, TieredPrices):
            starts.update(tier.start for tier in value.tiers)
    return sorted(starts)


def _probe(prices: ModelPrice, above: int, below: int | None) -> _Rates:
    """Read each per-token rate out of genai-prices' own calculation at one tier.

    Every probe is a request whose whole input is ``size`` tokens, which lands
    in the tier (above, below]; a kind's rate is the price difference it makes.
    """
    size = below if below is not None else above + _PER_MILLION
    base = _calc(prices, input_tokens=size)

    def rate(**tokens: int) -> float:
        # Cache tokens are part of the whole input: each one moved out of plain
        # input changes the price by (its rate - the input rate).
        delta = _calc(prices, input_tokens=size, **tokens) - base
        return float(base / size + delta / half)

    half = size // 2
    writes_1h = {"cache_write_1h_tokens": half} if _has_1h(prices) else {}
    return _Rates(
        above,
        input=float(base / size),
        output=float((_calc(prices, input_tokens=size, output_tokens=size) - base) / size),
        cache_write=rate(cache_write_tokens=half),
        cache_write_1h=rate(cache_write_tokens=half, **writes_1h),
        cache_read=rate(cache_read_tokens=half),
    )


def _has_1h(prices: ModelPrice) -> bool:
    return getattr(prices, "cache_write_1h_mtok", None) is not None


def _calc(prices: ModelPrice, **tokens: int) -> Decimal:
    from genai_prices.types import Usage  # noqa: PLC0415

    return prices.calc_price(Usage(**tokens))["total_price"]


@functools.cache
def _version() -> str:
    from importlib.metadata import version  # noqa: PLC0415

    return version("genai-prices")
