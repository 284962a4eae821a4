"""The Claude Code harness: the real ``claude`` CLI, driven through ``claude-agent-sdk``.

``claude-agent-sdk`` is an optional extra (``fleetnb[claude]``), so this module
imports without it; the code that drives the SDK lives in
:mod:`fleetnb.harnesses._claude_sdk` and is imported only when an agent runs.
``binary=`` runs a person's own ``claude`` instead of the SDK's bundled CLI.
"""

from __future__ import annotations

import importlib.util
from typing import ClassVar

from fleetnb.errors import HarnessNotFoundError
from fleetnb.harnesses.base import Harness, LaunchSpec, Outcome, Session, find_binary

__all__ = ["ClaudeHarness"]

INSTALL_HINT = "install `fleetnb[claude]` or pass `binary=` with the path of a `claude` CLI"


class ClaudeHarness(Harness):
    """Claude Code through ``claude-agent-sdk``: approvals, follow-ups, usage and cost."""

    name: ClassVar[str] = "claude"

    def preflight(self, spec: LaunchSpec) -> None:
        if not _sdk_installed():
            raise HarnessNotFoundError(
                f"`claude-agent-sdk` is not installed; {INSTALL_HINT}",
                harness=self.name,
                argv=[spec.binary or "claude"],
            )
        if spec.binary is not None:
            find_binary(self.name, "claude", spec, INSTALL_HINT)

    async def run(self, session: Session) -> Outcome:
        self.preflight(session.spec)
        # Imported here, not at the top: the SDK is an optional extra.
        from fleetnb.harnesses._claude_sdk import run_claude  # noqa: PLC0415

        return await run_claude(session)


def _sdk_installed() -> bool:
    try:
        return importlib.util.find_spec("claude_agent_sdk") is not None
    except (ImportError, ValueError):  # a blocked or half-imported package counts as missing
        return False
