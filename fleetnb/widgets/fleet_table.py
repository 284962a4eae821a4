"""The live fleet table: one row per agent, kept current by a daemon thread.

Traits (Python → browser; the view never writes them):

- ``rows``: one dict per agent in launch order, with ``Agent.row()``'s keys
  (``task`` shortened, ``task_full`` kept for the tooltip) plus ``seq`` and
  ``last_event_ts``. Only agents whose events changed (or whose elapsed time or
  ``stalled`` verdict moved on the 1 s tick) are recomputed.
- ``details``: agent id → the last events of each expanded row, one text line
  each, updated live while the row stays expanded.
- ``error``: the banner, e.g. the store vanished; rows keep their last state.

Messages from the view: ``{type: "expand", agent}`` and ``{type: "collapse", agent}``
(agent id or name). Sorting and filtering happen in the browser.
"""

from __future__ import annotations

import pathlib
import time
from typing import TYPE_CHECKING, Any

import traitlets

from fleetnb.widgets._base import LiveWidget
from fleetnb.widgets._fold import describe_event, elapsed_of, row_of
from fleetnb.widgets._static import table_html, table_text

if TYPE_CHECKING:
    from fleetnb.fleet import Fleet

__all__ = ["FleetTable"]

_MAX_EXPANDED = 8  # details cost a push per event; a person reads a few at a time


class FleetTable(LiveWidget):
    """One live row per agent of ``fleet``; click a row for its recent events."""

    _esm = pathlib.Path(__file__).with_suffix(".js")
    _css = pathlib.Path(__file__).with_suffix(".css")
    rows: traitlets.List[dict[str, Any]] = traitlets.List([]).tag(sync=True)
    details = traitlets.Dict({}).tag(sync=True)

    def __init__(
        self, fleet: Fleet, *, live: bool = True, interval: float = 0.1, tick: float = 1.0
    ) -> None:
        self._rows: dict[str, dict[str, Any]] = {}
        self._expanded: list[str] = []
        super().__init__(fleet, live=live, interval=interval, tick=tick)

    def _render(self, changed: set[str]) -> None:
        """Recompute the changed agents' rows; elsewhere only the elapsed time moves."""
        agents = self._feed.fold.agents
        now = time.time()
        moved = self._rows.keys() != agents.keys()
        for gone in self._rows.keys() - agents.keys():
            del self._rows[gone]
        for agent_id, agent in agents.items():
            old = self._rows.get(agent_id)
            if old is None or agent_id in changed:
                row = row_of(agent, now)
            elif not agent.status.state.is_final:
                row = {**old, "elapsed_s": elapsed_of(agent, now)}
            else:
                continue
            if row != old:
                self._rows[agent_id] = row  # a new dict: traitlets compares old and new lists
                moved = True
        if moved:
            self.rows = [self._rows[agent_id] for agent_id in agents]
        if changed & set(self._expanded):
            self.details = self._details()

    def _details(self) -> dict[str, list[str]]:
        agents = self._feed.fold.agents
        return {
            agent_id: [describe_event(event) for event in agents[agent_id].recent]
            for agent_id in self._expanded
            if agent_id in agents
        }

    def _on_message(self, content: dict[str, Any]) -> None:
        kind = content["type"]
        if kind not in ("expand", "collapse"):
            return
        with self._feed.lock:
            agent = self._feed.fold.find(str(content.get("agent", "")))
            if agent is None:
                return
            if agent.record.id in self._expanded:
                self._expanded.remove(agent.record.id)
            if kind == "expand":
                self._expanded = [*self._expanded, agent.record.id][-_MAX_EXPANDED:]
            self.details = self._details()

    def _text(self) -> str:
        return table_text(self.rows)

    def _html(self) -> str:
        return table_html(self.rows, self.error)
