"""Budgets in dollars: one per agent, and one for the whole fleet.

An agent's budget (``Fleet.launch(..., budget_usd=)``) counts that agent's
spend. The fleet budget (``Fleet(budget_usd=)``) is a store-wide setting, so the
detached runners and every later ``Fleet`` on the same root see it; it covers
every agent launched while it is set (its id is recorded in their ``launched``
event) and counts the sum of their spend. Changing its amount keeps the agents
it covers; clearing it ends it, and a budget set later covers only the agents
launched after that.

Spend is :attr:`fleetnb.events.AgentStatus.spent_usd`: the harness's own figure
when it reports one, plus fleetnb's price of the usage since, so a turn counts
before its harness reports it. The runner checks after every ``usage`` and
``turn_finished`` event, and before it hands a follow-up message to the agent
(:class:`BudgetKeeper`): at 80 % it records one ``budget_warning`` per budget,
at 100 % it stops the agent like a stop request, with reason "budget". A
stopping agent's permission requests are held unanswered, so a tool that needs
permission, asked for by the response that spent the budget, never runs. The
stop can only be as early as the harness's usage report: Claude Code reports a
response's usage as it ends, so no further model call is made; Codex reports it
late (after running the response's tool, sometimes after sending its next
request), so one more call may be under way.
Two runners crossing 80 % of the fleet budget in the same instant may each
record the fleet warning once.
"""

from __future__ import annotations

import dataclasses
import json
import math
import numbers
import time
import uuid
from collections.abc import Iterable
from typing import Any

from fleetnb.errors import BudgetError
from fleetnb.events import AgentStatus, EventKind, fold
from fleetnb.store import EventStore

__all__ = [
    "WARN_FRACTION",
    "BudgetKeeper",
    "BudgetVerdict",
    "FleetBudget",
    "check_budget",
    "check_not_spent",
    "fleet_spent",
    "read_fleet_budget",
    "write_fleet_budget",
]

WARN_FRACTION = 0.8
_SETTING = "fleet_budget"
# Only these kinds move spend or record warnings: the runner folds nothing else.
_BUDGET_KINDS = (
    EventKind.LAUNCHED,
    EventKind.USAGE,
    EventKind.TURN_FINISHED,
    EventKind.BUDGET_WARNING,
    EventKind.AGENT_FINISHED,
)


def check_budget(value: object, scope: str = "agent") -> float:
    """``value`` as dollars, or a :class:`BudgetError` saying what a budget must be."""
    name = "Fleet(budget_usd=...)" if scope == "fleet" else "launch(budget_usd=...)"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise BudgetError(
            f"{name} got {value!r}, which is not a number; pass dollars, e.g. budget_usd=5.0",
            scope=scope,
        )
    usd = float(value)
    if not math.isfinite(usd) or usd <= 0:
        raise BudgetError(
            f"{name} got {value!r}; a budget must be a positive, finite number of dollars "
            "(leave it out for no budget)",
            scope=scope,
        )
    return usd


@dataclasses.dataclass(frozen=True, slots=True)
class FleetBudget:
    """The fleet budget as recorded in the store."""

    id: str
    budget_usd: float
    set_ts: float


def read_fleet_budget(store: EventStore) -> FleetBudget | None:
    raw = store.setting(_SETTING)
    if raw is None:
        return None
    data = json.loads(raw)
    return FleetBudget(str(data["id"]), float(data["budget_usd"]), float(data["set_ts"]))


def write_fleet_budget(store: EventStore, budget_usd: float | None) -> FleetBudget | None:
    """Set (or with ``None`` clear) the fleet budget; a new amount keeps its id."""
    if budget_usd is None:
        store.set_setting(_SETTING, None)
        return None
    usd = check_budget(budget_usd, "fleet")
    current = read_fleet_budget(store)
    if current is not None and current.budget_usd == usd:
        return current
    budget_id = current.id if current is not None else uuid.uuid4().hex[:12]
    budget = FleetBudget(budget_id, usd, time.time())
    store.set_setting(_SETTING, json.dumps(dataclasses.asdict(budget)))
    return budget


def fleet_spent(budget: FleetBudget, statuses: Iterable[AgentStatus]) -> float:
    """The spend of the agents ``budget`` covers, out of every agent's status."""
    return sum(s.spent_usd for s in statuses if s.fleet_budget == budget.id)


def check_not_spent(scope: str, budget_usd: float | None, spent_usd: float, what: str) -> None:
    """Refuse ``what`` (a launch, a resume) when its budget is already spent."""
    if budget_usd is not None and spent_usd >= budget_usd:
        raise BudgetError(
            f"cannot {what}: the {scope} budget of ${budget_usd:.4f} is spent "
            f"(${spent_usd:.4f}); raise it"
            + (" with fleet.set_budget(...)" if scope == "fleet" else " or launch a new agent"),
            scope=scope,
            budget_usd=budget_usd,
            spent_usd=spent_usd,
        )


@dataclasses.dataclass(frozen=True, slots=True)
class BudgetVerdict:
    """What the latest spend means: warnings to record, and a stop (or None)."""

    warnings: list[dict[str, Any]]
    stop: dict[str, Any] | None


class BudgetKeeper:
    """The runner's view of the budgets covering its agent, folded incrementally."""

    def __init__(self, store: EventStore, agent_id: str) -> None:
        self.store = store
        self.agent_id = agent_id
        self._statuses: dict[str, AgentStatus] = {}

    def check(self) -> BudgetVerdict:
        """Read what is new in the store and weigh the spend against each budget."""
        own = self._status(self.agent_id)
        warnings: list[dict[str, Any]] = []
        stop: dict[str, Any] | None = None
        for scope, budget_id, budget_usd, spent in self._budgets(own):
            payload = {"scope": scope, "budget_usd": budget_usd, "spent_usd": round(spent, 6)}
            if budget_id is not None:
                payload["budget_id"] = budget_id
            if spent >= budget_usd:
                stop = stop or payload
                continue
            warned = self._warned(scope, budget_id, budget_usd)
            if spent >= WARN_FRACTION * budget_usd and not warned:
                warnings.append({**payload, "fraction": round(spent / budget_usd, 4)})
        return BudgetVerdict(warnings, stop)

    def _budgets(self, own: AgentStatus) -> list[tuple[str, str | None, float, float]]:
        found: list[tuple[str, str | None, float, float]] = []
        if own.budget_usd is not None:
            found.append(("agent", None, own.budget_usd, own.spent_usd))
        fleet = read_fleet_budget(self.store) if own.fleet_budget else None
        if fleet is not None and fleet.id == own.fleet_budget:
            # The launch config names the fleet budget too: fold only the agents it covers.
            covered = [r for r in self.store.agents() if r.config.get("fleet_budget") == fleet.id]
            statuses = [self._status(record.id) for record in covered]
            found.append(("fleet", fleet.id, fleet.budget_usd, fleet_spent(fleet, statuses)))
        return found

    def _warned(self, scope: str, budget_id: str | None, budget_usd: float) -> bool:
        key = (scope, budget_id, budget_usd)
        if scope == "agent":
            return key in self._statuses[self.agent_id].budget_warnings
        return any(key in status.budget_warnings for status in self._statuses.values())

    def _status(self, agent_id: str) -> AgentStatus:
        status = self._statuses.setdefault(agent_id, AgentStatus())
        new = self.store.events(agent_id, after_seq=status.last_seq, kinds=_BUDGET_KINDS)
        return fold(new, status=status)
