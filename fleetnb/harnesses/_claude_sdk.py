"""Driving the ``claude`` CLI with ``claude-agent-sdk`` for :class:`ClaudeHarness`.

One ``ClaudeSDKClient`` keeps one CLI process and one session, so a follow-up
goes to the same session id. Tool permission requests arrive as
``can_use_tool`` control requests and are answered by the runner's approval
queue, in the default permission mode (bypass modes are refused as root).
Messages become events in :mod:`fleetnb.harnesses._claude_events`; the CLI's
stdout is checked and the CLI stopped in :mod:`fleetnb.harnesses._claude_transport`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from typing import Any

from claude_agent_sdk import (
    ClaudeAgentOptions,
    ClaudeSDKClient,
    CLIConnectionError,
    CLINotFoundError,
    PermissionResultAllow,
    PermissionResultDeny,
    ProcessError,
    ResultMessage,
    ToolPermissionContext,
)

from fleetnb.errors import HarnessNotFoundError
from fleetnb.harnesses._claude_events import ClaudeEvents
from fleetnb.harnesses._claude_transport import CheckedTransport
from fleetnb.harnesses.base import Outcome, Session, find_binary, stderr_tail
from fleetnb.harnesses.claude import INSTALL_HINT

__all__ = ["QUIET_ENV", "run_claude"]

# Quiet defaults: a fleet of agents should not each phone home or self-update.
QUIET_ENV = {
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "DISABLE_AUTOUPDATER": "1",
    "DISABLE_TELEMETRY": "1",
}


async def run_claude(session: Session) -> Outcome:
    """Drive one Claude Code session until the runner closes it."""
    stderr: list[str] = []
    events = ClaudeEvents(session)
    options = _options(session, stderr.append)
    transport = CheckedTransport(options, events.bad_line)
    client = ClaudeSDKClient(options, transport=transport)
    try:
        if await _converse(client, session, events):
            return Outcome()
        await _disconnect(client)
        return Outcome(
            status="failed",
            exit_code=transport.returncode,
            stderr_tail=stderr_tail(stderr),
            error="claude exited before the session closed",
        )
    except asyncio.CancelledError:
        await transport.kill()
        raise
    except CLINotFoundError as exc:
        raise HarnessNotFoundError(f"{exc}; {INSTALL_HINT}", harness="claude") from exc
    except (ProcessError, CLIConnectionError) as exc:
        await _disconnect(client)  # lets the stderr reader take the last lines first
        return _failure(exc, transport.returncode, stderr)
    finally:
        await _disconnect(client)


async def _converse(client: ClaudeSDKClient, session: Session, events: ClaudeEvents) -> bool:
    """One prompt, then a follow-up per finished turn; False if the CLI quit first."""
    await client.connect()
    await client.query(session.spec.task)
    messages = client.receive_messages()
    try:
        async for message in messages:
            events.handle(message)
            if not isinstance(message, ResultMessage):
                continue
            follow_up = await session.next_message()
            if follow_up is None:
                return True
            await client.query(follow_up)
    finally:
        await messages.aclose()  # type: ignore[attr-defined]  # an async generator
    return False


def _options(session: Session, on_stderr: Callable[[str], None]) -> ClaudeAgentOptions:
    spec = session.spec
    binary = find_binary("claude", "claude", spec, INSTALL_HINT) if spec.binary else None

    async def can_use_tool(
        tool: str, tool_input: dict[str, Any], context: ToolPermissionContext
    ) -> PermissionResultAllow | PermissionResultDeny:
        reason = context.title or context.decision_reason or ""
        decision = await session.request_approval(tool, tool_input, reason)
        if decision.allow:
            return PermissionResultAllow()
        return PermissionResultDeny(message=decision.reason or "denied by policy")

    return ClaudeAgentOptions(
        cwd=str(spec.cwd),
        model=spec.model,
        cli_path=binary,
        resume=session.resume_id(),
        env={key: value for key, value in QUIET_ENV.items() if key not in os.environ},
        can_use_tool=can_use_tool,
        # The SDK's default is an empty system prompt; a fleet agent should
        # behave like the `claude` a person runs.
        system_prompt={"type": "preset", "preset": "claude_code"},
        include_partial_messages=True,  # the only source of the final output_tokens
        stderr=on_stderr,
    )


def _failure(exc: Exception, returncode: int | None, stderr: list[str]) -> Outcome:
    exit_code = getattr(exc, "exit_code", None)
    return Outcome(
        status="failed",
        exit_code=exit_code if exit_code is not None else returncode,
        stderr_tail=stderr_tail(stderr),
        error=f"{type(exc).__name__}: {exc}",
    )


async def _disconnect(client: ClaudeSDKClient) -> None:
    # Closing a client whose CLI already died can raise; the outcome is decided.
    with contextlib.suppress(Exception):
        await client.disconnect()
