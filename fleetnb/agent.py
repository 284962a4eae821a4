"""A handle on one agent: its state folded from the store, and the events a person causes.

The handle owns nothing: the agent runs in its detached runner. Reading folds
new events into a cached status; ``send``, ``stop`` and ``decide`` append events
that the runner picks up. A runner that died without a final event is noticed
here (by pid and start time) and recorded as ``runner lost``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fleetnb.cost.budget import check_not_spent, read_fleet_budget
from fleetnb.errors import (
    AgentNotRunningError,
    AgentRunningError,
    LaunchError,
    ResumeError,
    WaitTimeoutError,
    WorktreeError,
)
from fleetnb.events import (
    AgentStatus,
    Event,
    EventKind,
    State,
    Usage,
    fold,
    truth_columns,
)
from fleetnb.liveness import runner_alive
from fleetnb.store import AgentRecord
from fleetnb.worktree import Worktree

if TYPE_CHECKING:
    import datetime

    from fleetnb.evidence import EvidenceTrail
    from fleetnb.fleet import Fleet
    from fleetnb.truth import CheckReport

__all__ = ["Agent"]

# A runner that has not announced itself this long after launch is not coming.
_RUNNER_START_GRACE_S = 60.0
_POLL_S = 0.1


class Agent:
    """A handle on one agent; its state is always folded fresh from the store."""

    def __init__(self, fleet: Fleet, record: AgentRecord) -> None:
        self.fleet = fleet
        self.record = record
        self._status = AgentStatus()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<Agent {self.name} ({self.harness}) {self.state}>"

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def harness(self) -> str:
        return self.record.harness

    @property
    def task(self) -> str:
        return self.record.task

    @property
    def model(self) -> str | None:
        return self.status().model or self.record.model

    @property
    def state(self) -> State:
        return self.status().state

    @property
    def session_id(self) -> str | None:
        return self.status().session_id

    @property
    def usage(self) -> Usage:
        return self.status().usage

    @property
    def cost_usd(self) -> float:
        return self.status().cost_usd

    def events(self, kinds: Iterable[str] | None = None, after_seq: int = 0) -> list[Event]:
        return self.fleet.store.events(self.id, after_seq=after_seq, kinds=kinds)

    def evidence(
        self,
        kinds: Iterable[str] | None = None,
        since: datetime.datetime | float | None = None,
        limit: int = 200,
    ) -> EvidenceTrail:
        """The agent's redacted evidence trail, newest ``limit`` entries; displays in a notebook."""
        from fleetnb.evidence import build_trail  # noqa: PLC0415 - detect-secrets only when asked

        return build_trail(
            self.fleet.store, self.record, kinds=kinds, since=since, limit=limit,
            state=str(self.state),
        )  # fmt: skip

    def annotate(
        self, text: str, tag: str | None = None, event: int | Event | None = None
    ) -> Event:
        """Add a note to the agent's trail, optionally about one event (a seq or an Event)."""
        from fleetnb.evidence import annotate  # noqa: PLC0415 - detect-secrets only when asked

        return annotate(self.fleet.store, self.id, text, tag=tag, event=event)

    def check(self) -> CheckReport:
        """Check the agent's changed lines against the real APIs now; the outcome is
        recorded as a ``truth_checked`` event and returned in full."""
        # The checker and its indexes load on the first check, not with the fleet.
        from fleetnb.truth.changes import ChangeChecker, touched_paths  # noqa: PLC0415

        touched = touched_paths(self.events(kinds=(EventKind.TOOL_CALL,)))
        base = self.record.config.get("check_base")
        checker = ChangeChecker(Path(self.record.cwd), str(base) if base else None)
        report, payload = checker.check_now(touched)
        self.fleet.store.append(self.id, EventKind.TRUTH_CHECKED, payload)
        return report

    @property
    def findings(self) -> CheckReport | None:
        """The latest API truth check of the agent's changes (its first 200 findings),
        or None before the first; ``agent.send(agent.findings.as_prompt())`` asks the
        agent to fix them."""
        from fleetnb.truth.changes import report_of  # noqa: PLC0415

        truth = self.status().truth
        return report_of(truth) if truth is not None else None

    def status(self) -> AgentStatus:
        """Fold new events into the cached status, then check the runner is alive."""
        store = self.fleet.store
        with self._lock:
            new = store.events(self.id, after_seq=self._status.last_seq)
            status = fold(
                new, now=time.time(), stall_after=self.fleet.stall_after, status=self._status
            )
            if not status.state.is_final and self._runner_lost():
                fold(store.events(self.id, after_seq=status.last_seq), status=status)
            return status

    def wait(self, timeout: float | None = None) -> State:
        """Block until the agent is idle (ready for a follow-up) or finished."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            state = self.state
            if state.is_settled:
                return state
            if deadline is not None and time.monotonic() >= deadline:
                raise WaitTimeoutError(
                    f"agent {self.name} is still {state} after {timeout:g} s; "
                    "call wait() again, or stop() it"
                )
            time.sleep(_POLL_S)

    def send(self, message: str) -> None:
        """Give the agent a follow-up turn in the same session."""
        if not message.strip():
            raise ValueError("the message is empty")
        self._require_running("send a message to")
        self.fleet.store.append(self.id, EventKind.USER_MESSAGE, {"text": message})

    def decide(self, request_id: str, allow: bool, reason: str = "", by: str = "person") -> Event:
        """Answer one of this agent's pending approval requests, exactly once."""
        payload = {"decision": "allow" if allow else "deny", "by": by, "reason": reason}
        return self.fleet.store.decide(self.id, request_id, payload)

    def stop(self, timeout: float = 10.0, reason: str = "stop requested") -> State:
        """Stop the agent and its CLI; returns the final state."""
        if self.state.is_final:
            return self.state
        self.fleet.store.append(
            self.id, EventKind.STOP_REQUESTED, {"by": "person", "reason": reason}
        )
        try:
            return self._wait_final(timeout)
        except WaitTimeoutError:
            self._signal_runner(signal.SIGTERM)
        try:
            return self._wait_final(5.0)
        except WaitTimeoutError:
            self._signal_runner(signal.SIGKILL)
            self.fleet.store.finish_if_open(
                self.id, {"status": "stopped", "reason": "killed after stop timed out"}
            )
            return self.state

    def resume(self, instruction: str, env: Mapping[str, str] | None = None) -> Agent:
        """Continue a finished agent's own session with ``instruction``; returns at once.

        Appends a ``launched`` event carrying ``resume`` (the session id) and this
        run's task, then starts a new runner on the same harness session. ``env``
        values are never stored (they may be secrets): pass again what the launch
        needed.
        """
        if not instruction.strip():
            raise ValueError("the instruction is empty")
        status = self.status()
        if not status.state.is_final:
            raise AgentRunningError(
                f"cannot resume agent {self.name}: it is {status.state}; "
                "send() it a message, or wait() until it finishes"
            )
        if not status.session_id:
            raise ResumeError(
                f"cannot resume agent {self.name}: it ended ({status.state}) before its "
                "harness reported a session id; launch a new agent instead"
            )
        if not Path(self.record.cwd).is_dir():
            raise ResumeError(
                f"cannot resume agent {self.name}: its directory {self.record.cwd} is gone "
                "(a discarded worktree?); launch a new agent instead"
            )
        self._check_budgets(status)
        first = self.events(kinds=(EventKind.LAUNCHED,))[0].payload
        payload = {**first, "task": instruction, "resume": status.session_id}
        self.fleet.store.append_if(
            self.id, EventKind.LAUNCHED, payload, self._check_still_finished,
            kinds=(EventKind.LAUNCHED, EventKind.AGENT_FINISHED),
        )  # fmt: skip
        self._spawn(dict(env or {}))
        return self

    def _check_budgets(self, status: AgentStatus) -> None:
        """A resume keeps the agent's budgets: refuse it when one is spent."""
        what = f"resume agent {self.name}"
        check_not_spent("agent", status.budget_usd, status.spent_usd, what)
        fleet = read_fleet_budget(self.fleet.store)
        if fleet is not None and fleet.id == status.fleet_budget:
            check_not_spent("fleet", fleet.budget_usd, self.fleet.spent_usd, what)

    def _check_still_finished(self, ends: list[Event]) -> None:
        """Inside the write: refuse when another resume got there first."""
        if not ends or ends[-1].kind != EventKind.AGENT_FINISHED:
            raise AgentRunningError(f"agent {self.name} was resumed meanwhile; it is running")

    # -- worktree (launched with worktree=True) ---------------------------------------

    def diff(self) -> str:
        """The unified diff of the agent's worktree against its base commit (uncommitted
        and new files included); recorded as a ``diff`` event."""
        tree = self._worktree()
        text = tree.diff()
        self._record_diff(tree, "diff", text)
        return text

    def merge(self, message: str | None = None) -> str:
        """Commit the worktree's changes on its branch and merge the branch into the
        repository's checked-out branch; returns the new HEAD. The agent must be idle
        or finished. A conflict raises :class:`WorktreeError` naming the files, with
        the merge aborted and the branch and worktree kept."""
        tree = self._worktree(State.IDLE, "merge")
        text = tree.diff()
        summary = message or f"fleetnb agent {self.name}: {' '.join(self.task.split())[:60]}"
        tree.commit(summary)
        head = tree.merge(f"Merge {tree.branch} (fleetnb agent {self.name})")
        self._record_diff(tree, "merge", text, commit=head)
        return head

    def discard(self) -> None:
        """Remove the agent's worktree and branch; the last diff stays in its events."""
        tree = self._worktree(None, "discard")
        text = tree.diff() if tree.path.is_dir() else ""
        tree.remove()
        self._record_diff(tree, "discard", text)

    def _worktree(self, also: State | None = None, action: str = "") -> Worktree:
        """The agent's worktree; with ``action``, only once it is final (or ``also``)."""
        data = self.record.config.get("worktree")
        if not data:
            raise WorktreeError(f"agent {self.name} has no worktree; launch with worktree=True")
        state = self.state
        if action and not state.is_final and state is not also:
            hint = "wait() for it or stop() it" if also else "stop() it first"
            raise AgentRunningError(f"cannot {action} agent {self.name}: it is {state}; {hint}")
        return Worktree.from_dict(data)

    def _record_diff(self, tree: Worktree, action: str, text: str, **extra: Any) -> None:
        payload = {"action": action, "base": tree.base, "branch": tree.branch, "diff": text}
        self.fleet.store.append(self.id, EventKind.DIFF, {**payload, **extra})

    def row(self) -> dict[str, Any]:
        """This agent as one row of ``Fleet.status()``."""
        status = self.status()
        usage = status.usage
        end = status.last_ts if status.state.is_final else time.time()
        return {
            "name": self.name,
            "id": self.id,
            "harness": self.harness,
            "model": status.model or self.record.model,
            "state": str(status.state),
            "task": self.task,
            "session_id": status.session_id,
            "elapsed_s": round((end or self.record.created_at) - self.record.created_at, 1),
            "last_action": status.last_action,
            **usage.to_dict(),
            "cost_usd": status.cost_usd,
            "budget_usd": status.budget_usd,
            "spent_usd": status.spent_usd,
            "pending_approvals": len(status.pending_approvals),
            "notes": status.last_note,
            "annotations": status.annotations,
            **truth_columns(status),
            "demo": self.harness == "demo",
        }

    # -- runner process ----------------------------------------------------------

    def _spawn(self, env: dict[str, str]) -> None:
        """Start the runner detached: it forks away so the kernel is not its parent."""
        store = self.fleet.store
        log_path = _log_path(store.path, self.id)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "fleetnb.runner", "--detach", str(store.path), self.id]
        try:
            with log_path.open("ab") as log:
                returncode = subprocess.Popen(
                    argv,
                    cwd=self.record.cwd,
                    env={**os.environ, **env},
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    start_new_session=True,  # survive the kernel and its signals
                ).wait(timeout=60)
            error = f"the runner exited with code {returncode}" if returncode else ""
        except (OSError, subprocess.TimeoutExpired) as exc:
            error = str(exc)
        if error:
            tail = _log_tail(log_path)
            store.finish_if_open(
                self.id,
                {"status": "failed", "reason": "runner did not start", "error": error,
                 "stderr_tail": tail},
            )  # fmt: skip
            raise LaunchError(
                f"could not start the runner for {self.name}: {error}; see {log_path}",
                harness=self.harness,
                argv=argv,
                stderr_tail=tail,
            )

    def _runner_lost(self) -> bool:
        """Record ``runner_lost`` if the runner died without a final event."""
        status = self._status
        if status.runner is not None:
            alive = runner_alive(status.runner)
        else:
            launched = status.run_launched_ts or self.record.created_at
            alive = time.time() - launched < _RUNNER_START_GRACE_S
        if alive is not False or self._process_still_finishing():
            return False
        event = self.fleet.store.finish_if_open(
            self.id,
            {
                "status": "failed",
                "reason": "runner lost",
                "error": "the runner process ended without recording how the agent ended",
                "stderr_tail": _log_tail(_log_path(self.fleet.store.path, self.id)),
            },
        )
        return event is not None

    def _process_still_finishing(self) -> bool:
        """The runner may have written its final event a moment after our read."""
        finished = self.fleet.store.events(
            self.id, after_seq=self._status.last_seq, kinds=(EventKind.AGENT_FINISHED,)
        )
        return bool(finished)

    def _signal_runner(self, signum: int) -> None:
        runner = self.status().runner
        if runner is None or not runner_alive(runner):
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(int(runner["pid"]), signum)

    def _wait_final(self, timeout: float) -> State:
        deadline = time.monotonic() + timeout
        while not (state := self.state).is_final:
            if time.monotonic() >= deadline:
                raise WaitTimeoutError(f"agent {self.name} did not stop within {timeout:g} s")
            time.sleep(_POLL_S)
        return state

    def _require_running(self, action: str) -> None:
        state = self.state
        if state.is_final:
            raise AgentNotRunningError(
                f"cannot {action} agent {self.name}: it has finished ({state}); "
                "resume() it for more work"
            )


def _log_path(store: Path, agent_id: str) -> Path:
    return store.parent / "logs" / f"{agent_id}.log"


def _log_tail(path: Path, limit: int = 4000) -> str:
    try:
        return path.read_bytes()[-limit:].decode("utf-8", "replace")
    except OSError:
        return ""
