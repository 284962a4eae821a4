"""The detached runner: one process per agent, owning the agent's CLI.

Started by :meth:`fleetnb.Fleet.launch` as ``python -m fleetnb.runner DB AGENT_ID``
in a new session, so it outlives the kernel that launched it. It runs the
harness, writes every event to the store, polls the store for what the kernel
writes (follow-up messages, stops, approval decisions), prices every usage
event and stops the agent once a budget is spent (:mod:`fleetnb.cost.budget`),
and records exactly one ``agent_finished`` event however the agent ends. A
runner killed with SIGKILL cannot write that event; readers notice the dead
process and record ``runner_lost`` for it (see :mod:`fleetnb.liveness`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
import traceback
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fleetnb.approvals.policy import Policy
from fleetnb.cost.budget import BudgetKeeper
from fleetnb.cost.prices import price_event
from fleetnb.cost.rates import Overrides, default_overrides, load_overrides
from fleetnb.events import EventKind
from fleetnb.harnesses import Decision, LaunchSpec, Outcome, get_harness
from fleetnb.liveness import runner_identity
from fleetnb.store import AgentRecord, EventStore

if TYPE_CHECKING:
    from fleetnb.truth.agent_checks import AgentChecks

__all__ = ["AgentRunner", "main"]

POLL_INTERVAL_S = 0.2
# While a person's decision is awaited, answer it sooner: the agent is blocked.
DECISION_POLL_INTERVAL_S = 0.05
DEFAULT_IDLE_TIMEOUT_S = 600.0
DEFAULT_WATCHDOG_S = 1800.0

_CONTROL_KINDS = (
    EventKind.USER_MESSAGE,
    EventKind.STOP_REQUESTED,
    EventKind.APPROVAL_DECIDED,
)


class _Stop(Exception):
    """Raised inside the runner when the agent must end early."""

    def __init__(self, status: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class AgentRunner:
    """The runner's side of a harness session (implements ``harnesses.Session``)."""

    def __init__(self, store: EventStore, record: AgentRecord) -> None:
        self.store = store
        self.record = record
        config = record.config
        # The latest launch says what this run is for: a resume brings its own task.
        launches = store.events(record.id, kinds=(EventKind.LAUNCHED,))
        self._launch = launches[-1] if launches else None
        launch = self._launch.payload if self._launch else {}
        self.spec = LaunchSpec(
            task=str(launch.get("task") or record.task),
            cwd=Path(record.cwd),
            model=record.model,
            binary=config.get("binary"),
            options=config.get("options") or {},
        )
        self.policy = Policy.from_dict(config.get("policy") or {})
        self.headless = bool(config.get("headless"))
        self.harness = get_harness(record.harness)
        self.idle_timeout = float(
            config.get("idle_timeout") or self.harness.idle_timeout or DEFAULT_IDLE_TIMEOUT_S
        )
        self.approval_timeout = float(config.get("approval_timeout") or self.policy.timeout_s)
        self.watchdog_s = float(config.get("watchdog_s", DEFAULT_WATCHDOG_S))
        self._messages: asyncio.Queue[str] = asyncio.Queue()
        self._decisions: dict[str, asyncio.Future[Decision]] = {}
        self._seen_seq = 0
        self._last_emit = time.monotonic()
        self._idle = False
        self._stop: _Stop | None = None
        self._work: asyncio.Future[Outcome] | None = None
        self._model = record.model
        self._overrides = _overrides(store, config)
        self._budgets = BudgetKeeper(store, record.id)
        self._checks = self._agent_checks()

    def _agent_checks(self) -> AgentChecks | None:
        """API truth checks of the agent's changes, measured from the commit checked
        out at launch (a resumed run answers for the whole of its work)."""
        if not self.record.config.get("check", True):
            return None
        try:
            from fleetnb.truth.agent_checks import AgentChecks  # noqa: PLC0415
        except Exception as exc:  # a broken checker install must never stop an agent
            skipped = f"API checks are off for this run: {type(exc).__name__}: {exc}"
            self.store.append(self.record.id, EventKind.TRUTH_CHECKED, {"skipped": skipped})
            return None
        base = self.record.config.get("check_base")
        return AgentChecks(
            self.spec.cwd,
            str(base) if base else None,
            lambda kind, payload: self.store.append(self.record.id, kind, self._labelled(payload)),
            lambda: self.store.events(self.record.id, kinds=(EventKind.TOOL_CALL,)),
            feedback=bool(self.record.config.get("fix_findings")),
        )

    # -- Session protocol --------------------------------------------------------

    def emit(self, kind: EventKind, **payload: Any) -> None:
        self._last_emit = time.monotonic()
        if kind == EventKind.SESSION_STARTED and payload.get("model"):
            self._model = str(payload["model"])
        if kind == EventKind.USAGE:
            payload.update(self._price(payload))
        self.store.append(self.record.id, kind, self._labelled(payload))
        if kind in (EventKind.USAGE, EventKind.TURN_FINISHED):
            self._weigh_budgets()
        if self._checks is not None:
            self._checks.observe(kind, payload)

    def _price(self, usage: Mapping[str, Any]) -> dict[str, Any]:
        """fleetnb's price of every usage event, whatever the harness says of it."""
        model = usage.get("model") or self._model
        price = price_event(
            usage, model, self.record.harness, self._overrides, demo_model=self.record.model
        )
        return {"model": model, "cost_usd": price.cost_usd, "priced_by": price.priced_by}

    def _weigh_budgets(self) -> bool:
        """At a turn boundary: warn at 80 % of a budget, stop at 100 % like a stop
        request. True when a budget is spent."""
        verdict = self._budgets.check()
        for warning in verdict.warnings:
            self.store.append(self.record.id, EventKind.BUDGET_WARNING, self._labelled(warning))
        if verdict.stop is None:
            return False
        if self._stop is None:
            stop = {"by": "budget", "reason": "budget", **verdict.stop}
            self.store.append(self.record.id, EventKind.STOP_REQUESTED, self._labelled(stop))
            if self._work is not None:
                self._halt(self._work, _Stop("stopped", "budget"))
        return True

    def _labelled(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Every event of a demo agent says so, wherever it is shown later."""
        return {"demo": True, **payload} if self.harness.demo else dict(payload)

    async def request_approval(
        self, tool: str, tool_input: Mapping[str, Any], reason: str = ""
    ) -> Decision:
        if self._stop is not None:
            # Stopping (a budget spent in this very response): any answer, a denial
            # too, would send the agent into its next model call. Hold it until the
            # CLI is gone.
            await asyncio.get_running_loop().create_future()
        request_id = uuid.uuid4().hex[:12]
        verdict = self.policy.evaluate(tool, tool_input, self.spec.cwd, headless=self.headless)
        self.emit(
            EventKind.APPROVAL_REQUESTED,
            request_id=request_id,
            tool=tool,
            input=dict(tool_input),
            reason=reason,
            risk=verdict.risk.label,
            risk_reasons=list(verdict.reasons),
            policy=verdict.action,
            rule=verdict.rule,
        )
        if verdict.action == "ask":
            return await self._await_person(request_id)
        by = "headless" if self.headless and "headless" in verdict.rule else "rule"
        decision = Decision(verdict.action == "allow", verdict.rule, by)
        self._record_decision(request_id, decision)
        return decision

    async def next_message(self) -> str | None:
        self._idle = True
        try:
            # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a stop's
            # cancellation when the awaited result arrives in the same instant.
            async with asyncio.timeout(self.idle_timeout):
                return await self._messages.get()
        except TimeoutError:
            return None
        finally:
            self._idle = False

    def resume_id(self) -> str | None:
        """The session this run continues: its ``launched`` event's ``resume`` field."""
        launch = self._launch.payload if self._launch else {}
        value = launch.get("resume") or self.record.config.get("resume")
        return str(value) if value else None

    # -- running ---------------------------------------------------------------

    async def run(self) -> None:
        harness = self.harness
        harness.preflight(self.spec)
        # Control events written before this run's launch belong to earlier runs;
        # ones written since (even before this process started) are for us.
        self._seen_seq = self._launch.seq - 1 if self._launch else 0
        work = self._work = asyncio.ensure_future(harness.run(self))
        watcher = asyncio.ensure_future(self._watch(work))
        _on_signals(lambda: self._halt(work, _Stop("stopped", "signal")))
        try:
            outcome = await work
            if self._checks is not None:
                await self._checks.final()
            self._finish(_outcome_payload(outcome))
        except asyncio.CancelledError:
            stop = self._stop or _Stop("stopped", "cancelled")
            self._finish({"status": stop.status, "reason": stop.reason, "exit_code": None})
        except Exception as exc:
            self._finish(_crash_payload(exc))
        finally:
            watcher.cancel()
            if self._checks is not None:
                self._checks.cancel()

    async def _watch(self, work: asyncio.Future[Outcome]) -> None:
        """Poll the store for control events and keep the watchdog."""
        while not work.done():
            for event in self.store.events(
                self.record.id, after_seq=self._seen_seq, kinds=_CONTROL_KINDS
            ):
                self._seen_seq = event.seq
                self._dispatch(event.kind, event.payload, work)
            if self._stop is not None:
                work.cancel()  # again: harness or library code may have swallowed it
            silent = time.monotonic() - self._last_emit
            if silent > self.watchdog_s and not self._idle and not self._decisions:
                reason = f"watchdog: no output from the agent for {int(silent)} s"
                self._halt(work, _Stop("failed", reason))
            await asyncio.sleep(DECISION_POLL_INTERVAL_S if self._decisions else POLL_INTERVAL_S)

    def _dispatch(
        self, kind: str, payload: Mapping[str, Any], work: asyncio.Future[Outcome]
    ) -> None:
        if kind == EventKind.USER_MESSAGE:
            # Another agent may have spent the fleet budget while this one idled:
            # stop before the message costs another model call.
            if not self._weigh_budgets():
                self._messages.put_nowait(str(payload.get("text", "")))
        elif kind == EventKind.STOP_REQUESTED:
            self._halt(work, _Stop("stopped", str(payload.get("reason") or "stop requested")))
        elif kind == EventKind.APPROVAL_DECIDED:
            future = self._decisions.pop(str(payload.get("request_id")), None)
            if future is not None and not future.done():
                future.set_result(
                    Decision(
                        payload.get("decision") == "allow",
                        str(payload.get("reason") or ""),
                        str(payload.get("by") or "person"),
                    )
                )

    def _halt(self, work: asyncio.Future[Outcome], stop: _Stop) -> None:
        if self._stop is None:
            self._stop = stop
        work.cancel()

    async def _await_person(self, request_id: str) -> Decision:
        future: asyncio.Future[Decision] = asyncio.get_running_loop().create_future()
        self._decisions[request_id] = future
        try:
            async with asyncio.timeout(self.approval_timeout):
                return await future
        except TimeoutError:
            decision = Decision(False, f"no answer within {self.approval_timeout:g} s", "timeout")
            with contextlib.suppress(Exception):  # a person decided in the same instant
                self._record_decision(request_id, decision)
                return decision
            return self._decided_in_store(request_id)
        finally:
            self._decisions.pop(request_id, None)

    def _decided_in_store(self, request_id: str) -> Decision:
        for event in self.store.events(self.record.id, kinds=(EventKind.APPROVAL_DECIDED,)):
            if event.payload.get("request_id") == request_id:
                return Decision(event.payload.get("decision") == "allow", "", "person")
        return Decision(False, "undecided", "timeout")

    def _record_decision(self, request_id: str, decision: Decision) -> None:
        self._last_emit = time.monotonic()
        self.store.decide(
            self.record.id,
            request_id,
            self._labelled(
                {
                    "decision": "allow" if decision.allow else "deny",
                    "by": decision.by,
                    "reason": decision.reason,
                }
            ),
        )

    def _finish(self, payload: Mapping[str, Any]) -> None:
        self.store.finish_if_open(self.record.id, payload)


def _overrides(store: EventStore, config: Mapping[str, Any]) -> Overrides | None:
    """The launch's price file, else the fleet's own ``.fleetnb/prices.toml``."""
    path = config.get("prices")
    if path:
        return load_overrides(path)
    return default_overrides(store.path.parent.parent)


def _outcome_payload(outcome: Outcome) -> dict[str, Any]:
    return {
        "status": outcome.status,
        "exit_code": outcome.exit_code,
        "stderr_tail": outcome.stderr_tail,
        "error": outcome.error,
        "reason": "completed" if outcome.status == "done" else "agent error",
    }


def _crash_payload(exc: BaseException) -> dict[str, Any]:
    tail = "".join(traceback.format_exception(exc)[-6:])
    return {
        "status": "failed",
        "exit_code": getattr(exc, "returncode", None),
        "stderr_tail": str(getattr(exc, "stderr_tail", "")),
        "error": f"{type(exc).__name__}: {exc}",
        "reason": "harness error",
        "traceback": tail,
    }


def _on_signals(callback: Any) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(signum, callback)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--detach"]:
        args = args[1:]
        # The launcher exits at once so the runner is nobody's child: no zombie
        # in the kernel, and no tie to the kernel's lifetime.
        if os.fork() > 0:
            os._exit(0)
    if len(args) != 2:
        print("usage: python -m fleetnb.runner [--detach] DB_PATH AGENT_ID", file=sys.stderr)
        return 2
    store = EventStore(args[0])
    record = store.agent(args[1])
    store.append(record.id, EventKind.RUNNER_STARTED, runner_identity())
    try:
        asyncio.run(AgentRunner(store, record).run())
    except BaseException as exc:  # the last line of defence: always leave a final event
        store.finish_if_open(record.id, _crash_payload(exc))
        raise
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
