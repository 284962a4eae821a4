"""The live feed behind each widget: a daemon thread that folds and pushes.

Why a thread (see DESIGN.md, "Notebook surface"): it keeps the table flowing
while a cell blocks, sleeps or computes; a task on the kernel's asyncio loop
freezes then. The fleet's watcher hands over each batch of new events (its
callback only queues them); this thread folds them, re-judges ``stalled`` and
checks the store once a second, and calls the widget's ``sink`` with the ids of
the agents that changed, at most once per ``interval``. Every fold and every
push happens under ``lock``, which the widget's message handlers take too.

The store is checked without ever creating it: ``EventStore(path)`` would make
a new, empty file where a vanished one was, and the table would go quiet
instead of saying what happened.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from fleetnb.errors import FleetError
from fleetnb.events import Event
from fleetnb.store import EventStore
from fleetnb.widgets._fold import FleetFold

if TYPE_CHECKING:
    from fleetnb.fleet import Fleet
    from fleetnb.watch import FleetWatcher

__all__ = ["LiveFeed", "store_problem"]

log = logging.getLogger(__name__)

Sink = Callable[[set[str]], None]

_PROBE_TIMEOUT_S = 0.25
_STORE_ERRORS = (FleetError, OSError, sqlite3.Error)


def store_problem(path: Path) -> str | None:
    """Why the store at ``path`` cannot be read right now, or None when it can."""
    if not path.exists():
        return (
            f"the fleet store {path} has vanished (moved or deleted?); showing the last "
            "known state until it is back"
        )
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=_PROBE_TIMEOUT_S)
        try:
            conn.execute("SELECT COUNT(*) FROM agents").fetchall()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return f"the fleet store {path} is locked by another process ({exc}); retrying"
        return f"the fleet store {path} cannot be read: {exc}; retrying"
    return None


class LiveFeed:
    """Fold a fleet's events on a daemon thread and hand changes to ``sink``."""

    def __init__(self, fleet: Fleet, sink: Sink, *, interval: float = 0.1, tick: float = 1.0):
        self.fleet = fleet
        self.path = fleet.store.path
        self.fold = FleetFold(fleet.stall_after)
        self.lock = threading.RLock()
        self.interval = interval
        self.tick = tick
        self.problem = ""  # from checking the store; shown as the widget's banner
        self._sink = sink
        self._store: EventStore | None = None
        self._inode = 0
        self._inbox: list[Event] = []
        self._inbox_lock = threading.Lock()
        self._watch_error = ""
        self._watch_error_at = 0.0
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._watcher: FleetWatcher | None = None
        self._unsubscribe: list[Callable[[], None]] = []

    @property
    def error(self) -> str:
        return self.problem or self._watch_error

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        watcher = self._watcher = self.fleet.watcher()
        self._unsubscribe = [watcher.subscribe(self._receive), watcher.on_error(self._failed)]
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="fleetnb-widget", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        self._stopping.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        with self.lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    def sync_now(self, events: Iterable[Event] = ()) -> None:
        """Fold ``events`` and everything else new, and push at once (any thread)."""
        with self.lock:
            changed = self._guarded(lambda store, now: self._full_sync(store, now, events))
            self._sink(changed)

    # -- the thread -------------------------------------------------------------

    def _receive(self, events: list[Event]) -> None:
        """Runs on the watcher's thread: queue only, fold later."""
        with self._inbox_lock:
            self._inbox.extend(events)
        self._watch_error = ""
        self._wake.set()

    def _failed(self, exc: Exception) -> None:
        self._watch_error = f"the fleet's watcher cannot read the store: {exc}; retrying"
        self._watch_error_at = time.monotonic()
        self._wake.set()

    def _run(self) -> None:
        next_tick = time.monotonic() + self.tick
        last_push = 0.0
        while not self._stopping.is_set():
            self._wake.wait(max(0.0, next_tick - time.monotonic()))
            # Gather for the rest of the interval: at most one push per interval.
            if self._stopping.wait(max(0.0, last_push + self.interval - time.monotonic())):
                break
            self._wake.clear()
            ticking = time.monotonic() >= next_tick
            if ticking:
                next_tick = time.monotonic() + self.tick
            try:
                self._step(ticking)
            except Exception:  # the thread must outlive any one bad batch
                log.exception("fleetnb widget update failed")
            last_push = time.monotonic()

    def _step(self, ticking: bool) -> None:
        with self._inbox_lock:
            events, self._inbox = self._inbox, []
        with self.lock:
            if self._stopping.is_set():
                return
            if ticking:
                self._check_store()
            changed = self._guarded(lambda store, now: self._update(store, now, events, ticking))
            self._sink(changed)

    def _update(
        self, store: EventStore, now: float, events: list[Event], ticking: bool
    ) -> set[str]:
        changed = self.fold.absorb(store, events, now)
        if ticking:
            changed |= self.fold.catch_up(store, now) | self.fold.restall(now)
            self._confirm_lost_runners(now)
        return changed

    def _full_sync(self, store: EventStore, now: float, events: Iterable[Event]) -> set[str]:
        return self.fold.absorb(store, events, now) | self.fold.catch_up(store, now)

    def _guarded(self, work: Callable[[EventStore, float], set[str]]) -> set[str]:
        """Run ``work`` on our store; a store fault becomes the banner, not an exception."""
        if self.problem:
            return set()
        try:
            return work(self._open_store(), time.time())
        except _STORE_ERRORS as exc:
            self.problem = store_problem(self.path) or f"cannot read the fleet store: {exc}"
            self._drop_store()
            return set()

    def _check_store(self) -> None:
        problem = store_problem(self.path) or ""
        if self.problem and not problem and self._watcher and not self._watcher.running:
            self._watcher.start()  # it died on the fault; start it again where it was
        self.problem = problem
        if time.monotonic() - self._watch_error_at > self.tick:  # it retries every 0.1 s
            self._watch_error = ""
        if not problem and self._store is not None and _inode(self.path) != self._inode:
            self._drop_store()  # the file was replaced: read the new one

    def _open_store(self) -> EventStore:
        if self._store is None:
            if not self.path.exists():  # never let EventStore create an empty one
                raise FileNotFoundError(self.path)
            self._inode = _inode(self.path)
            self._store = EventStore(self.path)
        return self._store

    def _drop_store(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def _confirm_lost_runners(self, now: float) -> None:
        """Agent.status() records ``runner lost``; the event then arrives as any other."""
        for agent_id, agent in self.fold.agents.items():
            if agent.runner_lost(now):
                self.fleet[agent_id].status()


def _inode(path: Path) -> int:
    try:
        return os.stat(path).st_ino
    except OSError:
        return 0
