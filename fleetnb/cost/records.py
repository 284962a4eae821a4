"""What an import of an agent's own session logs produces: usage and limit hits.

Every log format (Claude Code, Codex, Gemini) is read into these two shapes, so
the ledger and the reports never see a format. Token kinds follow fleetnb's
convention (Anthropic's): ``input_tokens`` excludes cache reads and writes.
"""

from __future__ import annotations

import dataclasses

__all__ = ["LimitHit", "UsageRecord"]


@dataclasses.dataclass(frozen=True, slots=True)
class UsageRecord:
    """One model response's tokens, as an agent's own log recorded them.

    ``key`` is the deduplication key the log format requires (for Claude Code
    ``<message.id>:<requestId>``); a later record with the same key replaces an
    earlier one, also across files and imports.
    """

    source: str
    key: str
    ts: float
    session: str
    project: str
    model: str | None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_write_1h_tokens: int = 0
    cache_read_tokens: int = 0
    reasoning_tokens: int = 0
    reported_cost_usd: float | None = None

    @property
    def total_tokens(self) -> int:
        counted = (self.input_tokens, self.output_tokens, self.cache_write_tokens)
        return sum(counted) + self.cache_read_tokens


@dataclasses.dataclass(frozen=True, slots=True)
class LimitHit:
    """A usage or rate limit the agent ran into, with when it lifts if known."""

    source: str
    key: str
    ts: float
    session: str
    message: str
    resets_at: float | None = None
    window_minutes: int | None = None
