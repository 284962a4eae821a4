"""What the fleet's widgets share: a live feed, a banner, messages and fallbacks.

A subclass says how to turn the feed's fold into its traits (``_render``), how
to answer a message from its view (``_on_message``), and how to look without a
kernel (``_text``, ``_html``). Traits are set on the feed's thread, under the
feed's lock and inside one ``hold_sync``, so each push is one comm message.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from fleetnb.widgets._live import LiveFeed

if TYPE_CHECKING:
    from fleetnb.fleet import Fleet

__all__ = ["LiveWidget"]

log = logging.getLogger(__name__)

_WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


class LiveWidget(anywidget.AnyWidget):
    """A widget kept current by a :class:`LiveFeed` thread until ``stop()`` or ``close()``."""

    error = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self, fleet: Fleet, *, live: bool = True, interval: float = 0.1, tick: float = 1.0
    ) -> None:
        super().__init__()
        self.fleet = fleet
        self._feed = LiveFeed(fleet, self._push, interval=interval, tick=tick)
        self.on_msg(self._dispatch)
        self._feed.sync_now()
        if live:
            self._feed.start()

    @property
    def live(self) -> bool:
        """True while the feed's thread keeps this widget current."""
        return self._feed.running

    def refresh(self) -> None:
        """Read everything new from the store and push it now."""
        self._feed.sync_now()

    def stop(self) -> None:
        """Stop the live thread; the widget keeps its last state."""
        feed = getattr(self, "_feed", None)  # ipywidgets closes half-built widgets too
        if feed is not None:
            feed.stop()

    def close(self) -> None:
        self.stop()
        super().close()

    def _push(self, changed: set[str]) -> None:
        """Called by the feed with its lock held: update the traits in one message."""
        with self.hold_sync():
            if not self._feed.problem:  # else keep the last known state, clock included
                self._render(changed)
            if self.error != self._feed.error:
                self.error = self._feed.error

    def _dispatch(self, _widget: object, content: Any, buffers: object) -> None:
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            log.warning("fleetnb widget ignored a malformed message: %r", content)
            return
        self._on_message(content)

    # -- for subclasses -------------------------------------------------------------

    def _render(self, changed: set[str]) -> None:
        raise NotImplementedError

    def _on_message(self, content: dict[str, Any]) -> None:
        raise NotImplementedError

    def _text(self) -> str:
        raise NotImplementedError

    def _html(self) -> str:
        raise NotImplementedError

    # -- fallbacks --------------------------------------------------------------------

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        bundle = super()._repr_mimebundle_(**kwargs)
        data, metadata = bundle if bundle is not None else ({}, {})
        with self._feed.lock:
            data.update({"text/plain": self._text(), "text/html": self._html()})
        return data, metadata

    def _repr_html_(self) -> str:
        with self._feed.lock:
            return self._html()

    def __str__(self) -> str:
        with self._feed.lock:
            return self._text()
