"""The live approval queue: every pending request with Approve and Deny buttons.

Traits (Python → browser):

- ``requests``: pending requests oldest first (see ``_requests.request_view``),
  then any request a click could not decide, kept with ``stale: true`` and its
  ``error`` until dismissed, so the answer shows where the person clicked.
- ``errors``: request id → why deciding it failed, e.g. the request timed out
  and "no longer applies".
- ``notice``: the outcome of the last "approve all".
- ``error``: the banner, e.g. the store vanished.

Messages from the view, answered through the public API (``ApprovalRequest``
and ``Fleet.approve_all``): ``{type: "approve", id}``, ``{type: "deny", id,
reason}``, ``{type: "approve_all", max_risk}``, ``{type: "dismiss", id}``. After
a decision the queue re-reads the store at once, so the request leaves it in
the same push.
"""

from __future__ import annotations

import pathlib
from typing import TYPE_CHECKING, Any

import traitlets

from fleetnb.approvals.queue import ApprovalRequest
from fleetnb.errors import ApprovalError, FleetError
from fleetnb.widgets._base import LiveWidget
from fleetnb.widgets._requests import request_of
from fleetnb.widgets._static import queue_html, queue_text

if TYPE_CHECKING:
    from fleetnb.fleet import Fleet

__all__ = ["ApprovalQueue"]

_MAX_STALE = 20
_DECIDED_BY_RULE = ("allow", "deny")  # the runner records the rule's decision next


class ApprovalQueue(LiveWidget):
    """Every pending approval of ``fleet``, live, with buttons that decide them."""

    _esm = pathlib.Path(__file__).with_suffix(".js")
    _css = pathlib.Path(__file__).with_suffix(".css")
    requests: traitlets.List[dict[str, Any]] = traitlets.List([]).tag(sync=True)
    errors = traitlets.Dict({}).tag(sync=True)
    notice = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self, fleet: Fleet, *, live: bool = True, interval: float = 0.1, tick: float = 1.0
    ) -> None:
        self._views: dict[str, dict[str, Any]] = {}  # request id → its view, built once
        self._stale: dict[str, dict[str, Any]] = {}
        self._errors: dict[str, str] = {}
        super().__init__(fleet, live=live, interval=interval, tick=tick)

    # -- rendering (feed lock held) -------------------------------------------------

    def _render(self, changed: set[str]) -> None:
        pending = self._pending()
        ids = {view["id"] for view in pending}
        for stale_id in ids & self._stale.keys():
            del self._stale[stale_id]  # pending again after all: the buttons apply
        shown = [{**view, "error": self._errors.get(view["id"], "")} for view in pending]
        shown += [{**view, "error": self._errors.get(i, "")} for i, view in self._stale.items()]
        if shown != self.requests:
            self.requests = shown
        errors = {k: v for k, v in self._errors.items() if k in ids or k in self._stale}
        self._errors = errors
        if errors != self.errors:
            self.errors = dict(errors)

    def _pending(self) -> list[dict[str, Any]]:
        views = []
        for agent in self._feed.fold.agents.values():
            for event in agent.pending():
                if event.payload.get("policy") in _DECIDED_BY_RULE:
                    continue
                request_id = str(event.payload.get("request_id"))
                if request_id not in self._views:
                    self._views[request_id] = request_of(agent, event)
                views.append(self._views[request_id])
        self._views = {view["id"]: view for view in views}
        return sorted(views, key=lambda view: float(view["requested_ts"]))

    # -- messages (the kernel's main thread) ------------------------------------------

    def _on_message(self, content: dict[str, Any]) -> None:
        kind = content["type"]
        request_id = str(content.get("id", ""))
        if kind == "approve":
            self._decide(request_id, allow=True)
        elif kind == "deny":
            self._decide(request_id, allow=False, reason=str(content.get("reason") or ""))
        elif kind == "approve_all":
            self._approve_all(str(content.get("max_risk") or "low"))
        elif kind == "dismiss":
            with self._feed.lock:
                self._stale.pop(request_id, None)
                self._errors.pop(request_id, None)
            self._feed.sync_now()

    def _decide(self, request_id: str, *, allow: bool, reason: str = "") -> None:
        try:
            request = self._request(request_id)
            event = request.approve() if allow else request.deny(reason or None)
        except ApprovalError as exc:
            self._fail(request_id, str(exc), stale=True)
        except FleetError as exc:  # e.g. the store stayed locked: the request still waits
            self._fail(request_id, str(exc), stale=False)
        else:
            with self._feed.lock:
                self._errors.pop(request_id, None)
                self._stale.pop(request_id, None)
            self._feed.sync_now([event])

    def _request(self, request_id: str) -> ApprovalRequest:
        """The request from what the queue shows, else from ``fleet.approval`` (which explains)."""
        with self._feed.lock:
            found = self._feed.fold.request(request_id)
            pending = found is not None and found[1] in found[0].pending()
        if found is None or not pending:
            return self.fleet.approval(request_id)
        agent, event = found
        return ApprovalRequest.from_event(self.fleet[agent.record.id], event)

    def _fail(self, request_id: str, message: str, *, stale: bool) -> None:
        with self._feed.lock:
            self._errors[request_id] = message
            if stale:  # views are never changed in place: traitlets compares old and new
                self._stale[request_id] = {**self._view_of(request_id), "stale": True}
                while len(self._stale) > _MAX_STALE:
                    del self._stale[next(iter(self._stale))]
        self._feed.sync_now()

    def _view_of(self, request_id: str) -> dict[str, Any]:
        if request_id in self._views:
            return dict(self._views[request_id])
        found = self._feed.fold.request(request_id)
        if found is not None:
            return request_of(*found)
        return {"id": request_id, "agent": "", "agent_id": "", "tool": "", "risk": "",
                "reason": "", "rule": "", "risk_reasons": [], "requested_ts": 0.0,
                "requested_at": "", "command": "", "path": "", "body": "", "body_kind": "",
                "error": "", "stale": True}  # fmt: skip

    def _approve_all(self, max_risk: str) -> None:
        try:
            approved = self.fleet.approve_all(max_risk=max_risk)
        except (ValueError, FleetError) as exc:
            notice = f"approve all failed: {exc}"
        else:
            names = ", ".join(f"{r.agent.name} {r.tool}" for r in approved)
            notice = f"approved {len(approved)} request(s) up to {max_risk} risk"
            notice += f": {names}" if names else ""
        with self._feed.lock:  # the feed's thread may be inside hold_sync
            self.notice = notice
        self._feed.sync_now()

    # -- fallbacks -------------------------------------------------------------------

    def _text(self) -> str:
        return queue_text(self.requests)

    def _html(self) -> str:
        return queue_html(self.requests, self.error)
