"""The notebook's handle on the whole fleet: :class:`Fleet`.

Nothing here owns an agent. ``launch`` writes the agent into the store and
starts a detached runner; every other method reads events or writes the events
a person causes (a message, a stop). A second ``Fleet`` on the same root, in
any process, sees exactly the same agents.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fleetnb.agent import Agent
from fleetnb.approvals.classify import Risk
from fleetnb.approvals.policy import DEFAULT_POLICY, Policy
from fleetnb.approvals.policy_file import load_policy
from fleetnb.approvals.queue import ApprovalRequest, find_request, pending_requests
from fleetnb.cost.budget import (
    FleetBudget,
    check_budget,
    check_not_spent,
    fleet_spent,
    read_fleet_budget,
    write_fleet_budget,
)
from fleetnb.cost.rates import default_overrides, load_overrides
from fleetnb.errors import (
    ApprovalError,
    BadWorkingDirectoryError,
    LaunchError,
)
from fleetnb.events import Event, EventKind, State
from fleetnb.harnesses import LaunchSpec, get_harness
from fleetnb.store import AgentRecord, EventStore, default_root, store_path
from fleetnb.watch import FleetWatcher
from fleetnb.worktree import Worktree, create_worktree, head_commit

if TYPE_CHECKING:
    import pandas as pd

    from fleetnb.widgets import ApprovalQueue, FleetTable

__all__ = ["APPROVAL_MODES", "Fleet"]

APPROVAL_MODES = ("allow", "ask", "deny")
DEFAULT_STALL_AFTER_S = 300.0


class Fleet:
    """Every agent under one root directory, as recorded in its store."""

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        *,
        stall_after: float = DEFAULT_STALL_AFTER_S,
        policy: Policy | str | os.PathLike[str] | None = None,
        headless: bool | None = None,
        budget_usd: float | None = None,
        prices: str | os.PathLike[str] | None = None,
    ) -> None:
        """``budget_usd`` sets the fleet budget (see :mod:`fleetnb.cost.budget`); left
        out, the one recorded in the store stays. ``prices`` is a price override
        TOML for the agents this object launches, else ``.fleetnb/prices.toml``."""
        fleet_budget = check_budget(budget_usd, "fleet") if budget_usd is not None else None
        load_overrides(prices)  # a malformed file fails here, before anything is written
        self.prices = str(Path(prices).resolve()) if prices is not None else None
        self.root = Path(root).resolve() if root is not None else default_root()
        self.store = EventStore(store_path(self.root))
        if fleet_budget is not None:
            write_fleet_budget(self.store, fleet_budget)
        self.stall_after = stall_after
        self.policy = _as_policy(policy) if policy is not None else DEFAULT_POLICY
        # With nobody present, "ask" resolves by the policy's headless action.
        self.headless = headless if headless is not None else _headless_from_env()
        self._agents: dict[str, Agent] = {}
        self._lock = threading.Lock()
        self._watcher: FleetWatcher | None = None

    def __repr__(self) -> str:
        return f"<Fleet {self.root} with {len(self.store.agents())} agents>"

    # -- launching ---------------------------------------------------------------

    def launch(  # noqa: PLR0917 - the positional order is the documented API
        self,
        task: str,
        harness: str = "claude",
        cwd: str | os.PathLike[str] = ".",
        model: str | None = None,
        name: str | None = None,
        env: Mapping[str, str] | None = None,
        approvals: str | None = None,
        *,
        policy: Policy | str | os.PathLike[str] | None = None,
        binary: str | None = None,
        idle_timeout: float | None = None,
        approval_timeout: float | None = None,
        options: Mapping[str, Any] | None = None,
        worktree: bool = False,
        budget_usd: float | None = None,
        check: bool = True,
        fix_findings: bool = False,
    ) -> Agent:
        """Start an agent on ``task``; returns at once with its handle.

        Approvals follow ``policy`` (a :class:`Policy` or a TOML file), else
        ``approvals`` ("allow" | "ask" | "deny" for everything), else the fleet's
        policy. Everything is checked before anything is written, so a bad
        launch leaves no trace in the store. ``worktree=True`` runs the agent in
        its own git worktree on branch ``fleetnb/<name>`` (see :mod:`fleetnb.worktree`).
        ``budget_usd`` stops the agent once its spend reaches that many dollars; a
        spent fleet budget refuses the launch (:class:`~fleetnb.errors.BudgetError`).
        ``check`` runs API truth checks on the agent's changed lines after each edit
        and turn (:mod:`fleetnb.truth.agent_checks`); ``fix_findings`` sends the
        errors they find back to the agent at the end of a turn.
        """
        _check_flags(check=check, fix_findings=fix_findings)
        budget = check_budget(budget_usd) if budget_usd is not None else None
        fleet_budget = self._unspent_fleet_budget("launch an agent")
        if self.prices is None:
            default_overrides(self.root)  # the runner prices with it: fail here, not there
        chosen = self._policy_for(approvals, policy)
        record = self._prepare(
            task=task, harness_name=harness, cwd=cwd, model=model, name=name, env=env,
            binary=binary,
        )  # fmt: skip
        config = {
            **record.config,
            **_drop_none(idle_timeout=idle_timeout, approval_timeout=approval_timeout),
            "policy": chosen.to_dict(),
            "headless": self.headless or _headless_from_env(env),
            "options": dict(options or {}),
            **_drop_none(
                budget_usd=budget,
                fleet_budget=fleet_budget.id if fleet_budget else None,
                prices=self.prices,
            ),
            "check": check,
            "fix_findings": fix_findings and check,
        }
        record = AgentRecord(**{**_fields(record), "config": config})
        if worktree:
            record = self._in_worktree(record)
        if check:
            # Changes are measured from here: what the repository held before is not
            # the agent's work.
            config = {**record.config, "check_base": head_commit(record.cwd)}
            record = AgentRecord(**{**_fields(record), "config": config})
        demo = get_harness(harness).demo
        try:
            self.store.create_agent(record, _launched_payload(record, demo))
        except BaseException:
            if worktree:
                Worktree.from_dict(record.config["worktree"]).remove()
            raise
        agent = self._handle(record)
        agent._spawn(dict(env or {}))
        return agent

    def _prepare(
        self,
        *,
        task: str,
        harness_name: str,
        cwd: str | os.PathLike[str],
        model: str | None,
        name: str | None,
        env: Mapping[str, str] | None,
        binary: str | None,
    ) -> AgentRecord:
        if not isinstance(task, str) or not task.strip():
            raise LaunchError("the task is empty; describe what the agent should do")
        _check_env(env)
        harness = get_harness(harness_name)
        workdir = _check_cwd(cwd, harness_name)
        spec = LaunchSpec(task=task, cwd=workdir, model=model, binary=binary)
        harness.preflight(spec)
        return AgentRecord(
            id=uuid.uuid4().hex[:12],
            name=self._pick_name(name, harness_name),
            harness=harness_name,
            model=model,
            task=task,
            cwd=str(workdir),
            created_at=time.time(),
            config={
                "binary": binary,
                "env_keys": sorted(env or {}),  # values may be secrets: never stored
            },
        )

    def _in_worktree(self, record: AgentRecord) -> AgentRecord:
        """The record moved into a new worktree of its repository."""
        tree, inside = create_worktree(Path(record.cwd), self.root, record.name)
        config = {**record.config, "worktree": tree.to_dict()}
        return AgentRecord(**{**_fields(record), "cwd": str(inside), "config": config})

    def _policy_for(
        self, approvals: str | None, policy: Policy | str | os.PathLike[str] | None
    ) -> Policy:
        if policy is not None and approvals is not None:
            raise LaunchError("pass either approvals= or policy=, not both")
        if policy is not None:
            return _as_policy(policy)
        if approvals is None:
            return self.policy
        if approvals not in APPROVAL_MODES:
            raise LaunchError(f"approvals={approvals!r} is not one of {', '.join(APPROVAL_MODES)}")
        return Policy.everything(approvals, self.policy.timeout_s)  # type: ignore[arg-type]

    def _pick_name(self, name: str | None, harness: str) -> str:
        if name is not None:
            if not name.strip() or any(c.isspace() for c in name):
                raise LaunchError(f"agent name {name!r} must be non-empty without spaces")
            if self.store.name_taken(name):
                raise LaunchError(f"an agent named {name!r} exists; pick another name")
            return name
        number = len(self.store.agents()) + 1
        while self.store.name_taken(f"{harness}-{number}"):
            number += 1
        return f"{harness}-{number}"

    # -- budget ------------------------------------------------------------------

    @property
    def budget_usd(self) -> float | None:
        """The fleet budget recorded in the store, or None."""
        budget = read_fleet_budget(self.store)
        return budget.budget_usd if budget is not None else None

    @property
    def spent_usd(self) -> float:
        """What the agents the fleet budget covers have spent (0 without a budget)."""
        budget = read_fleet_budget(self.store)
        if budget is None:
            return 0.0
        return fleet_spent(budget, (agent.status() for agent in self.agents))

    def set_budget(self, budget_usd: float | None) -> None:
        """Set, change or (with None) clear the fleet budget for every process."""
        write_fleet_budget(self.store, budget_usd)

    def _unspent_fleet_budget(self, what: str) -> FleetBudget | None:
        budget = read_fleet_budget(self.store)
        if budget is not None:
            spent = fleet_spent(budget, (agent.status() for agent in self.agents))
            check_not_spent("fleet", budget.budget_usd, spent, what)
        return budget

    # -- reading -----------------------------------------------------------------

    @property
    def agents(self) -> list[Agent]:
        return [self._handle(record) for record in self.store.agents()]

    def __getitem__(self, name_or_id: str) -> Agent:
        return self._handle(self.store.agent(name_or_id))

    def __iter__(self) -> Any:
        return iter(self.agents)

    def __len__(self) -> int:
        return len(self.store.agents())

    def status(self) -> pd.DataFrame:
        """One row per agent: what it is doing, what it has spent."""
        import pandas as pd  # noqa: PLC0415 - keeps pandas out of every runner process

        rows = [agent.row() for agent in self.agents]
        return pd.DataFrame(rows, columns=list(_STATUS_COLUMNS))

    def costs(self) -> pd.DataFrame:
        """One row per agent: tokens by kind, fleetnb's price and the harness's own
        figure, their difference, the price source, and the budget (see
        :func:`fleetnb.cost.live.costs_frame`). Folded fresh on every call."""
        from fleetnb.cost.live import costs_frame  # noqa: PLC0415 - pandas, late

        return costs_frame(self.agents)

    def search(
        self,
        query: str,
        agent: str | Agent | None = None,
        kind: str | None = None,
        limit: int = 50,
        *,
        raw: bool = False,
    ) -> pd.DataFrame:
        """Events of every agent matching ``query``, best first, as a DataFrame.

        Columns: agent, agent_id, seq, ts, kind, snippet (matches in brackets),
        rank (bm25, lower is better). Words are searched as written, punctuation
        and all; ``raw=True`` hands ``query`` to SQLite FTS5's query language.
        """
        import pandas as pd  # noqa: PLC0415 - keeps pandas out of every runner process

        agent_id = None
        if agent is not None:
            agent_id = agent.id if isinstance(agent, Agent) else self.store.agent(agent).id
        hits = self.store.search(query, agent_id=agent_id, kind=kind, limit=limit, raw=raw)
        rows = [dataclasses.asdict(hit) for hit in hits]
        return pd.DataFrame(rows, columns=list(_SEARCH_COLUMNS))

    # -- approvals ---------------------------------------------------------------

    @property
    def approvals(self) -> list[ApprovalRequest]:
        """Every pending approval request of every agent, oldest first."""
        return pending_requests(self.agents)

    def approval(self, request_id: str) -> ApprovalRequest:
        """One pending request by id; a clear error if it was decided or abandoned."""
        return find_request(self, request_id)

    def approve_all(
        self, agent: str | Agent | None = None, max_risk: str = "low"
    ) -> list[ApprovalRequest]:
        """Approve every pending request up to ``max_risk``; returns what was approved."""
        ceiling = Risk.parse(max_risk)
        agents = [self[agent] if isinstance(agent, str) else agent] if agent else self.agents
        approved = []
        for request in pending_requests(agents):
            if request.risk_level <= ceiling:
                with contextlib.suppress(ApprovalError):  # decided meanwhile elsewhere
                    request.approve(by=f"person (approve_all max_risk={ceiling.label})")
                    approved.append(request)
        return approved

    def on_waiting(self, callback: Callable[[ApprovalRequest], object]) -> Callable[[], None]:
        """Call ``callback(request)`` the moment any agent starts waiting on a person.

        Runs on the fleet's watcher thread; returns a function that unsubscribes.
        """

        def waiting(events: list[Event]) -> None:
            for event in events:
                asks = event.payload.get("policy") == "ask"
                if event.kind == EventKind.APPROVAL_REQUESTED and asks:
                    callback(ApprovalRequest.from_event(self[event.agent_id], event))

        return self.watcher().subscribe(waiting)

    def watcher(self) -> FleetWatcher:
        """The fleet's store-tailing thread, started on first use."""
        with self._lock:
            if self._watcher is None:
                self._watcher = FleetWatcher(self.store.path)
            return self._watcher.start()

    def close(self) -> None:
        """Stop live widgets and the watcher thread, close the store (agents keep running)."""
        if "fleetnb.widgets" in sys.modules:  # never import the widgets just to close them
            sys.modules["fleetnb.widgets"].close_widgets(self)
        if self._watcher is not None:
            self._watcher.stop()
        self.store.close()

    def wait(self, timeout: float | None = None) -> dict[str, State]:
        """Wait until every agent is idle or finished."""
        deadline = None if timeout is None else time.monotonic() + timeout
        states = {}
        for agent in self.agents:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            states[agent.name] = agent.wait(left)
        return states

    # -- notebook surface (the logic lives in fleetnb.widgets, imported late: it loads ipywidgets)

    def table(self) -> FleetTable:
        """The fleet's live table widget, started on first use."""
        from fleetnb.widgets import live_table  # noqa: PLC0415

        return live_table(self)

    def queue(self) -> ApprovalQueue:
        """The fleet's live approval queue widget, started on first use."""
        from fleetnb.widgets import live_queue  # noqa: PLC0415

        return live_queue(self)

    def _ipython_display_(self) -> None:
        from fleetnb.widgets import display_fleet  # noqa: PLC0415

        display_fleet(self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        from fleetnb.widgets import fleet_mimebundle  # noqa: PLC0415

        return fleet_mimebundle(self)

    def _repr_html_(self) -> str:
        from fleetnb.widgets import fleet_html  # noqa: PLC0415

        return fleet_html(self)

    def __str__(self) -> str:
        from fleetnb.widgets import fleet_text  # noqa: PLC0415

        return fleet_text(self)

    def _handle(self, record: AgentRecord) -> Agent:
        with self._lock:
            agent = self._agents.get(record.id)
            if agent is None:
                agent = self._agents[record.id] = Agent(self, record)
            return agent


_STATUS_COLUMNS = (
    "name", "id", "harness", "model", "state", "task", "session_id", "elapsed_s",
    "last_action", "input_tokens", "output_tokens", "cache_read_tokens",
    "cache_write_tokens", "total_tokens", "cost_usd", "budget_usd", "spent_usd",
    "pending_approvals", "notes", "annotations", "api_errors", "api_warnings", "demo",
)  # fmt: skip


_BUDGET_KEYS = ("budget_usd", "fleet_budget")

_SEARCH_COLUMNS = ("agent", "agent_id", "seq", "ts", "kind", "snippet", "rank")


def _as_policy(policy: Policy | str | os.PathLike[str]) -> Policy:
    return policy if isinstance(policy, Policy) else load_policy(policy)


def _headless_from_env(env: Mapping[str, str] | None = None) -> bool:
    value = (env or os.environ).get("FLEETNB_HEADLESS", "")
    return value.strip().lower() in ("1", "true", "yes")


def _check_cwd(cwd: str | os.PathLike[str], harness: str) -> Path:
    path = Path(cwd).expanduser()
    if not path.exists():
        raise BadWorkingDirectoryError(
            f"cwd {str(path)!r} does not exist; create it or pass an existing directory",
            harness=harness,
        )
    if not path.is_dir():
        raise BadWorkingDirectoryError(
            f"cwd {str(path)!r} is not a directory; pass the repository's directory",
            harness=harness,
        )
    return path.resolve()


def _check_flags(**flags: object) -> None:
    for name, value in flags.items():
        if not isinstance(value, bool):
            raise LaunchError(f"{name}={value!r} must be True or False")


def _check_env(env: Mapping[str, str] | None) -> None:
    for key, value in (env or {}).items():
        if not isinstance(key, str) or not key or "=" in key or not isinstance(value, str):
            raise LaunchError(
                f"env entry {key!r}: {value!r} is invalid; env maps names to string values"
            )


def _launched_payload(record: AgentRecord, demo: bool) -> dict[str, Any]:
    return {
        "task": record.task,
        "harness": record.harness,
        "model": record.model,
        "cwd": record.cwd,
        "name": record.name,
        "policy": record.config["policy"]["name"],
        "headless": record.config["headless"],
        "demo": demo,
        **({"worktree": record.config["worktree"]} if "worktree" in record.config else {}),
        **{key: record.config[key] for key in _BUDGET_KEYS if key in record.config},
    }


def _fields(record: AgentRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record.__dataclass_fields__}


def _drop_none(**values: Any) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}
