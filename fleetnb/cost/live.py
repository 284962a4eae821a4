"""Live cost accounting: ``Fleet.costs()``, one row per agent, folded from its events.

Every figure comes from the fold (:class:`fleetnb.events.AgentStatus`), so a
second call after more events gives the new figures and nothing can drift.

- ``priced_cost_usd``: fleetnb's price of the agent's usage events, each priced
  on its own by the runner from a rate card (``priced_by`` names the sources).
- ``reported_cost_usd``: the harness's own figure (Claude's cumulative
  ``total_cost_usd``), NaN when the harness reports none.
- ``cost_usd``: the one fleetnb shows, reported when present, else priced.
- ``cost_difference_usd``: reported minus priced over the same usage, i.e. the
  usage events up to the harness's latest report (NaN without a report). Once
  the agent is idle or finished this is reported minus ``priced_cost_usd``.
- ``unpriced_tokens``: tokens of usage events no card could price (not zero-cost).
- ``spent_usd``: what budgets count (:attr:`AgentStatus.spent_usd`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from fleetnb.agent import Agent

__all__ = ["COST_COLUMNS", "cost_row", "costs_frame"]

COST_COLUMNS = (
    "agent", "id", "harness", "model", "task", "state", "input_tokens", "output_tokens",
    "cache_write_tokens", "cache_read_tokens", "total_tokens", "priced_cost_usd",
    "reported_cost_usd", "cost_usd", "cost_difference_usd", "priced_by", "unpriced_tokens",
    "budget_usd", "spent_usd",
)  # fmt: skip


def cost_row(agent: Agent) -> dict[str, Any]:
    """One agent's cost figures as of its latest event."""
    status = agent.status()
    usage = status.usage
    reported = status.reported_cost_usd
    return {
        "agent": agent.name,
        "id": agent.id,
        "harness": agent.harness,
        "model": status.model or agent.record.model,
        "task": agent.task,
        "state": str(status.state),
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
        "cache_read_tokens": usage.cache_read_tokens,
        "total_tokens": usage.total_tokens,
        "priced_cost_usd": status.priced_cost_usd,
        "reported_cost_usd": math.nan if reported is None else reported,
        "cost_usd": status.cost_usd,
        "cost_difference_usd": math.nan if reported is None else reported - status.priced_at_report,
        "priced_by": "; ".join(status.priced_by),
        "unpriced_tokens": status.unpriced_tokens,
        "budget_usd": math.nan if status.budget_usd is None else status.budget_usd,
        "spent_usd": status.spent_usd,
    }


def costs_frame(agents: Iterable[Agent]) -> pd.DataFrame:
    """The cost rows of ``agents`` as a DataFrame with :data:`COST_COLUMNS`."""
    import pandas as pd  # noqa: PLC0415 - keeps pandas out of every runner process

    return pd.DataFrame([cost_row(agent) for agent in agents], columns=list(COST_COLUMNS))
