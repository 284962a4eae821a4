"""A daemon thread that tails the store and hands new events to subscribers.

The kernel's live surfaces (the notification hook, later the widgets) run on a
plain thread with its own SQLite connection: it keeps flowing while a cell
blocks, sleeps or computes, which an asyncio task on the kernel's loop does not.
A store that vanishes or stays locked is reported to ``on_error`` subscribers
and retried; nothing is lost, since the position in the store is kept.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from fleetnb.errors import FleetError
from fleetnb.events import Event
from fleetnb.store import EventStore

__all__ = ["FleetWatcher"]

log = logging.getLogger(__name__)

_T = TypeVar("_T")
_C = TypeVar("_C", bound=Callable[..., Any])

EventsCallback = Callable[[list[Event]], None]
ErrorCallback = Callable[[Exception], None]


class FleetWatcher:
    """Tail every agent's events from ``store_path``, about every ``interval`` s."""

    def __init__(self, store_path: Path, *, interval: float = 0.1, from_start: bool = False):
        self.store_path = store_path
        self.interval = interval
        self._position = 0 if from_start else _last_position(store_path)
        self._subscribers: list[EventsCallback] = []
        self._error_subscribers: list[ErrorCallback] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def subscribe(self, callback: EventsCallback) -> Callable[[], None]:
        """Call ``callback(events)`` with each batch of new events; returns an unsubscribe."""
        with self._lock:
            self._subscribers.append(callback)
        return lambda: self._remove(self._subscribers, callback)

    def on_error(self, callback: ErrorCallback) -> Callable[[], None]:
        with self._lock:
            self._error_subscribers.append(callback)
        return lambda: self._remove(self._error_subscribers, callback)

    def start(self) -> FleetWatcher:
        if self._thread is None or not self._thread.is_alive():
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="fleetnb-watcher", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        store: EventStore | None = None
        while not self._stopping.is_set():
            try:
                store = store or EventStore(self.store_path, create=False)
                batch = store.tail(self._position)
            except (FleetError, OSError) as exc:
                _close(store)
                store = None
                for on_error in self._copy(self._error_subscribers):
                    _call(on_error, exc)
            else:
                if batch:
                    self._position = batch[-1][0]
                    events = [event for _, event in batch]
                    for callback in self._copy(self._subscribers):
                        _call(callback, events)
            self._stopping.wait(self.interval)
        _close(store)

    def _copy(self, callbacks: list[_C]) -> list[_C]:
        with self._lock:
            return list(callbacks)

    def _remove(self, callbacks: list[_C], callback: _C) -> None:
        with self._lock, contextlib.suppress(ValueError):
            callbacks.remove(callback)


def _call(callback: Callable[[_T], None], value: _T) -> None:
    try:
        callback(value)
    except Exception:  # one broken subscriber must not stop the others
        log.exception("fleetnb watcher subscriber failed")


def _last_position(store_path: Path) -> int:
    store = EventStore(store_path, create=False)
    try:
        return store.last_position()
    finally:
        store.close()


def _close(store: EventStore | None) -> None:
    if store is not None:
        with contextlib.suppress(Exception):
            store.close()
