"""The Codex CLI harness: drives ``codex app-server``, JSON-RPC over stdio.

``codex exec --json`` cannot ask for approval, so fleetnb speaks the app-server
protocol (``codex app-server generate-json-schema --out DIR`` prints all of it)::

    → initialize {clientInfo}            ← {userAgent, codexHome, ...}
    → initialized (notification)
    → thread/start {cwd, approvalPolicy, sandbox, model}   (thread/resume {threadId, ...})
                                         ← {thread: {id, path, ...}, model, ...}
    → turn/start {threadId, input: [{type: "text", text}]}
    ← item/started, item/completed        (userMessage, agentMessage, commandExecution,
                                           fileChange, mcpToolCall, reasoning, ...)
    ← item/commandExecution/requestApproval   (a request: answered {decision: accept|decline})
    ← item/fileChange/requestApproval
    ← thread/tokenUsage/updated           ({total, last}: total is cumulative per thread)
    ← error {error: {message, codexErrorInfo}, willRetry}
    ← turn/completed {turn: {id, status, error}}

A follow-up is another ``turn/start`` on the same thread; closing the server's
stdin ends it cleanly. The thread id is fleetnb's session id.

Approvals: the thread runs with ``approvalPolicy: "untrusted"`` and the
``workspace-write`` sandbox unless the launch's ``options`` set
``approval_policy`` or ``sandbox``. "untrusted" makes codex ask for every
command it does not know to be read-only, so fleetnb's policy, not codex's
sandbox, decides what runs (under "on-request" codex would run anything that
fits its sandbox without asking, and ask only to go beyond it).

Configuration is the user's business, not the harness's: codex reads
``$CODEX_HOME/config.toml`` (pass ``CODEX_HOME`` in the launch env). To reach
any OpenAI-compatible Responses endpoint it needs a custom provider, because
``OPENAI_BASE_URL`` is ignored and the chat wire API is gone::

    model = "gpt-5.1-codex"
    model_provider = "mine"

    [model_providers.mine]
    name = "mine"
    base_url = "http://127.0.0.1:8000/v1"   # codex POSTs {base_url}/responses
    env_key = "MY_API_KEY"                  # sent as a bearer token
    wire_api = "responses"
    request_max_retries = 0                 # fail at once rather than back off
    stream_max_retries = 0

Checked with codex-cli 0.171.0:

- the server's own requests number their ids from 0, and its messages carry no
  ``"jsonrpc"`` member;
- ``availableDecisions`` of a command approval lists ``accept``,
  ``acceptWithExecpolicyAmendment`` and ``cancel``, yet ``decline`` is accepted
  and lets the turn go on (``cancel`` would end it);
- commands arrive as ``/bin/bash -lc '<script>'``; events carry the script;
- a command the sandbox refuses produces no item at all: only the model sees
  the failure;
- an ``apply_patch`` shell command becomes a ``fileChange`` item (and, outside
  the sandbox, an ``item/fileChange/requestApproval``);
- a 429 ``usage_limit_reached`` ends the turn with ``codexErrorInfo:
  "usageLimitExceeded"`` (an ``error`` notification, then ``turn/completed``);
  the reset time is only in the message text, so ``limit_hit.resets_at`` stays
  None unless ``account/rateLimits/updated`` says; other 429s show as
  ``{"responseTooManyFailedAttempts": {"httpStatusCode": 429}}``. The harness
  emits ``limit_hit`` after ``turn_finished``, so the agent rests ``limited``;
- a model stream that closes before ``response.completed`` fails the turn
  (``status: "failed"``), it does not end the session.

Usage: ``thread/tokenUsage/updated`` carries cumulative totals; the harness
emits only each increase, so the usage events sum to the server's totals. After
``thread/resume`` the server first replays the thread's old total (under an
earlier turn's id); that sets the baseline and is not counted again. OpenAI's
``inputTokens`` include cache reads and writes; the events follow fleetnb's
Anthropic convention (:class:`fleetnb.events.Usage`) and subtract them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import signal
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from importlib import metadata
from typing import Any, TypeVar

import psutil

from fleetnb.events import EventKind
from fleetnb.harnesses._codex_events import (
    COUNTERS,
    RAW_LIMIT,
    Tool,
    is_limit,
    tool_of,
    tool_result,
    unwrap_command,
    usage_payload,
)
from fleetnb.harnesses.base import Harness, LaunchSpec, Outcome, Session, find_binary, stderr_tail
from fleetnb.harnesses.jsonrpc import (
    METHOD_NOT_FOUND,
    ConnectionClosed,
    JsonRpcConnection,
    RpcError,
)

__all__ = ["DEFAULT_APPROVAL_POLICY", "DEFAULT_SANDBOX", "CodexHarness"]

DEFAULT_APPROVAL_POLICY = "untrusted"
DEFAULT_SANDBOX = "workspace-write"

_HINT = "install it with `npm install -g @openai/codex`, or pass binary="
_STREAM_LIMIT = 64 * 1024 * 1024  # one line holds a whole turn's items
_EXIT_GRACE_S = 10.0
_KILL_GRACE_S = 3.0
# Deltas repeat what the completed item says; asking the server not to send
# them keeps the pipe quiet without losing anything fleetnb records.
_QUIET = [
    "item/agentMessage/delta",
    "item/reasoning/summaryTextDelta",
    "item/reasoning/summaryPartAdded",
    "item/reasoning/textDelta",
    "item/commandExecution/outputDelta",
    "item/fileChange/outputDelta",
    "item/plan/delta",
]
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

_T = TypeVar("_T")


class CodexHarness(Harness):
    name = "codex"

    def preflight(self, spec: LaunchSpec) -> None:
        find_binary(self.name, "codex", spec, _HINT)

    async def run(self, session: Session) -> Outcome:
        binary = find_binary(self.name, "codex", session.spec, _HINT)
        process = await asyncio.create_subprocess_exec(
            binary,
            "app-server",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=str(session.spec.cwd),
            limit=_STREAM_LIMIT,
        )
        try:
            return await _AppServer(session, process).run()
        finally:
            await _end_process(process)  # on a stop, before CancelledError goes on


class _AppServer:
    """One app-server process, one thread, as many turns as the person asks for."""

    reading: asyncio.Future[None]  # the JSON-RPC reader; done when stdout ends
    draining: asyncio.Future[None]

    def __init__(self, session: Session, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        assert process.stdin is not None
        self.session = session
        self.spec = session.spec
        self.process = process
        self.rpc = JsonRpcConnection(
            process.stdout,
            process.stdin,
            on_request=self._on_request,
            on_notification=self._on_notification,
            on_garbage=self._on_garbage,
        )
        self.stderr: deque[str] = deque(maxlen=200)
        self.thread_id = ""
        self.model: str | None = session.spec.model
        self.tools: dict[str, Tool] = {}
        self.turn_ids: set[str] = set()
        self.totals: dict[str, dict[str, int]] = {}
        self.turn_done: asyncio.Future[Mapping[str, Any]] | None = None
        self.last_text = ""
        # A limit seen during a turn, reported after turn_finished (see _report_limit).
        self.limit_message: str | None = None
        self.limit_resets_at: int | None = None
        self._handlers: dict[str, Callable[[Mapping[str, Any]], None]] = {
            "turn/started": self._on_turn_started,
            "turn/completed": self._on_turn_completed,
            "item/started": self._on_item_started,
            "item/completed": self._on_item_completed,
            "thread/tokenUsage/updated": self._on_token_usage,
            "error": self._on_error,
            "account/rateLimits/updated": self._on_rate_limits,
        }

    # -- the session -------------------------------------------------------------

    async def run(self) -> Outcome:
        self.reading = asyncio.ensure_future(self.rpc.serve())
        self.draining = asyncio.ensure_future(self._drain_stderr())
        try:
            await self._open_thread()
            text: str | None = self.spec.task
            while text is not None:
                await self._turn(text)
                text = await self._unless_closed(self.session.next_message())
            return await self._close()
        except ConnectionClosed:
            return await self._ended_early()
        finally:
            for task in (self.reading, self.draining):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                    await task

    async def _open_thread(self) -> None:
        await self.rpc.request(
            "initialize",
            {
                "clientInfo": {"name": "fleetnb", "title": "fleetnb", "version": _version()},
                "capabilities": {"optOutNotificationMethods": _QUIET},
            },
        )
        await self.rpc.notify("initialized")
        resume = self.session.resume_id()
        params = self._thread_params()
        if resume is not None:
            result = await self.rpc.request("thread/resume", {"threadId": resume, **params})
        else:
            result = await self.rpc.request("thread/start", params)
        thread = result.get("thread") or {}
        self.thread_id = str(thread["id"])
        self.model = result.get("model") or thread.get("model") or self.model
        self.session.emit(
            EventKind.SESSION_STARTED,
            session_id=self.thread_id,
            model=self.model,
            resumed=resume is not None,
            model_provider=result.get("modelProvider"),
            rollout_path=thread.get("path"),
        )

    def _thread_params(self) -> dict[str, Any]:
        options = self.spec.options
        params: dict[str, Any] = {
            "cwd": str(self.spec.cwd),
            "approvalPolicy": options.get("approval_policy", DEFAULT_APPROVAL_POLICY),
            "sandbox": options.get("sandbox", DEFAULT_SANDBOX),
        }
        if self.spec.model:
            params["model"] = self.spec.model
        return params

    async def _turn(self, text: str) -> None:
        self.turn_done = asyncio.get_running_loop().create_future()
        self.last_text = ""
        await self.rpc.request(
            "turn/start",
            {"threadId": self.thread_id, "input": [{"type": "text", "text": text}]},
        )
        turn = await self._unless_closed(self.turn_done)
        status = str(turn.get("status"))
        error = turn.get("error")
        error = error if isinstance(error, dict) else {}
        if is_limit(error.get("codexErrorInfo")):
            self.limit_message = str(error.get("message", "limit reached"))
        self.session.emit(
            EventKind.TURN_FINISHED,
            is_error=status != "completed",
            result=str(error.get("message") or self.last_text),
            status=status,
            turn_id=turn.get("id"),
        )
        self._report_limit()

    async def _unless_closed(self, waited: Awaitable[_T]) -> _T:
        """Wait for ``waited`` unless the server's output ends first."""
        task = asyncio.ensure_future(waited)
        try:
            await asyncio.wait((task, self.reading), return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if task.done() and not task.cancelled():
            return task.result()
        raise ConnectionClosed("codex app-server closed its output")

    async def _close(self) -> Outcome:
        """The person is done: close stdin, which app-server takes as its cue to exit."""
        self.rpc.close_input()
        try:
            code = await asyncio.wait_for(self.process.wait(), _EXIT_GRACE_S)
        except TimeoutError:
            return Outcome(exit_code=None, error="codex app-server did not exit; killed")
        if code != 0:
            return self._failure(code, f"codex app-server exited with code {code} on close")
        return Outcome(exit_code=0)

    async def _ended_early(self) -> Outcome:
        try:
            code: int | None = await asyncio.wait_for(self.process.wait(), _EXIT_GRACE_S)
        except TimeoutError:
            code = None  # output closed but the process lingers; the harness kills it
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self.draining), _EXIT_GRACE_S)
        return self._failure(code, f"codex app-server exited with code {code} mid-session")

    def _failure(self, code: int | None, error: str) -> Outcome:
        return Outcome(
            status="failed", exit_code=code, stderr_tail=stderr_tail(list(self.stderr)), error=error
        )

    async def _drain_stderr(self) -> None:
        """Keep the last lines of stderr (codex logs there) for a failure's tail."""
        assert self.process.stderr is not None
        while True:
            try:
                line = await self.process.stderr.readline()
            except ValueError:  # a line past the stream limit; it was dropped
                continue
            if not line:
                return
            self.stderr.append(_ANSI.sub("", line.decode("utf-8", "replace")).rstrip()[:2000])

    # -- what the server says ----------------------------------------------------

    def _on_garbage(self, raw: str, error: str) -> None:
        self.session.emit(EventKind.PARSE_ERROR, raw=raw[:RAW_LIMIT], error=error)

    def _on_notification(self, method: str, params: Any) -> None:
        # Unknown notifications are ignored on purpose: the protocol grows with
        # every codex release, and a new kind of news is not an error.
        handler = self._handlers.get(method)
        if handler is None:
            return
        try:
            if not isinstance(params, dict):
                raise TypeError("params is not an object")
            handler(params)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raw = json.dumps({"method": method, "params": params}, ensure_ascii=False)
            self._on_garbage(raw, f"unreadable {method}: {type(exc).__name__}: {exc}")

    def _on_turn_started(self, params: Mapping[str, Any]) -> None:
        self.turn_ids.add(str(params["turn"]["id"]))

    def _on_turn_completed(self, params: Mapping[str, Any]) -> None:
        # Sub-agents run turns on threads of their own; only ours ends the wait.
        if params.get("threadId") != self.thread_id:
            return
        if self.turn_done is not None and not self.turn_done.done():
            self.turn_done.set_result(params["turn"])

    def _on_item_started(self, params: Mapping[str, Any]) -> None:
        self._tool_call(params["item"])

    def _on_item_completed(self, params: Mapping[str, Any]) -> None:
        item = params["item"]
        if item.get("type") == "agentMessage":
            text = str(item.get("text") or "")
            if text:
                self.last_text = text
                self.session.emit(EventKind.ASSISTANT_TEXT, text=text)
        elif self._tool_call(item):
            self.session.emit(EventKind.TOOL_RESULT, **tool_result(item))

    def _tool_call(self, item: Mapping[str, Any]) -> bool:
        """Emit the call once per item (a completion may come without its start)."""
        item_id = str(item.get("id"))
        if item_id in self.tools:
            return True
        tool = tool_of(item)
        if tool is None:
            return False
        self.tools[item_id] = tool
        self.session.emit(EventKind.TOOL_CALL, call_id=item_id, tool=tool.name, input=tool.input)
        return True

    def _on_token_usage(self, params: Mapping[str, Any]) -> None:
        thread = str(params["threadId"])
        total = params["tokenUsage"]["total"]
        now = {key: int(total.get(key) or 0) for key in COUNTERS}
        before = self.totals.get(thread, dict.fromkeys(COUNTERS, 0))
        self.totals[thread] = now
        if str(params.get("turnId")) not in self.turn_ids:
            return  # a replayed total from before this process (thread/resume): baseline only
        delta = {key: max(0, now[key] - before[key]) for key in COUNTERS}
        if any(delta.values()):
            self.session.emit(EventKind.USAGE, **usage_payload(delta, self.model))

    def _on_error(self, params: Mapping[str, Any]) -> None:
        error = params["error"]
        if not params.get("willRetry") and is_limit(error.get("codexErrorInfo")):
            self.limit_message = str(error.get("message", "limit reached"))

    def _on_rate_limits(self, params: Mapping[str, Any]) -> None:
        snapshot = params["rateLimits"]
        windows = [w for w in (snapshot.get("primary"), snapshot.get("secondary")) if w]
        full = [w for w in windows if int(w.get("usedPercent") or 0) >= 100]
        reached = snapshot.get("rateLimitReachedType")
        if not (reached or full):
            return
        resets = [int(w["resetsAt"]) for w in full if w.get("resetsAt") is not None]
        self.limit_resets_at = max(resets) if resets else self.limit_resets_at
        # The turn's error, if one follows, says it better; this is the fallback.
        self.limit_message = (
            self.limit_message or f"codex rate limit reached: {reached or 'a window is full'}"
        )
        if self.turn_done is None or self.turn_done.done():
            self._report_limit()  # between turns nothing else will

    def _report_limit(self) -> None:
        """One ``limit_hit`` per turn, after ``turn_finished``, so the agent rests ``limited``
        (as the Claude harness does) instead of ``idle``."""
        if self.limit_message is not None:
            self.session.emit(
                EventKind.LIMIT_HIT, message=self.limit_message, resets_at=self.limit_resets_at
            )
        self.limit_message = self.limit_resets_at = None

    # -- what the server asks ----------------------------------------------------

    async def _on_request(self, method: str, params: Any) -> Any:
        params = params if isinstance(params, dict) else {}
        if method == "item/commandExecution/requestApproval":
            return await self._approve_command(params)
        if method == "item/fileChange/requestApproval":
            return await self._approve_change(params)
        raw = json.dumps({"method": method, "params": params}, ensure_ascii=False)
        self._on_garbage(raw, f"unsupported server request {method}")
        raise RpcError(METHOD_NOT_FOUND, f"fleetnb does not handle {method}")

    async def _approve_command(self, params: Mapping[str, Any]) -> dict[str, str]:
        known = self.tools.get(str(params.get("itemId")))
        tool_input: dict[str, Any] = dict(known.input) if known else {}
        if params.get("command"):
            tool_input["command"] = unwrap_command(str(params["command"]))
        tool_input.setdefault("cwd", params.get("cwd"))
        if params.get("networkApprovalContext"):
            tool_input["network"] = params["networkApprovalContext"]
        return await self._decide("shell", tool_input, params)

    async def _approve_change(self, params: Mapping[str, Any]) -> dict[str, str]:
        # The request names only the item; its changes came with item/started.
        known = self.tools.get(str(params.get("itemId")))
        tool_input: dict[str, Any] = dict(known.input) if known else {}
        if params.get("grantRoot"):
            tool_input["grant_root"] = params["grantRoot"]
        return await self._decide("apply_patch", tool_input, params)

    async def _decide(
        self, tool: str, tool_input: Mapping[str, Any], params: Mapping[str, Any]
    ) -> dict[str, str]:
        reason = str(params.get("reason") or "")
        decision = await self.session.request_approval(tool, tool_input, reason)
        return {"decision": "accept" if decision.allow else "decline"}


def _version() -> str:
    try:
        return metadata.version("fleetnb")
    except metadata.PackageNotFoundError:
        return "0"


async def _end_process(process: asyncio.subprocess.Process) -> None:
    """Stop the app-server and every process it started (commands run in PTYs of their own).

    SIGTERM first so codex can flush its rollout; the SIGKILL sits in a
    ``finally`` so a second cancellation during the grace period cannot skip it.
    """
    if process.returncode is not None:
        return
    try:
        family = psutil.Process(process.pid).children(recursive=True)
    except psutil.Error:
        family = []
    _signal_all(process, family, kill=False)
    try:
        await asyncio.wait_for(process.wait(), _KILL_GRACE_S)
    except TimeoutError:
        pass
    finally:
        _signal_all(process, family, kill=True)
    await process.wait()
    # A SIGKILL takes effect a moment later; whoever reads "stopped" may look for leftovers.
    await asyncio.to_thread(psutil.wait_procs, family, timeout=_KILL_GRACE_S)


def _signal_all(
    process: asyncio.subprocess.Process, family: list[psutil.Process], *, kill: bool
) -> None:
    signum = signal.SIGKILL if kill else signal.SIGTERM
    for member in family:  # psutil checks each is still the process it found
        with contextlib.suppress(psutil.Error):
            member.send_signal(signum)
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signum)
