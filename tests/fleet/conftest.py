"""The harness tests' fixtures (the real Claude Code CLI against a fake API), reused here."""

from __future__ import annotations

from tests.harnesses.conftest import anthropic, claude_cli, claude_env, launch_claude

__all__ = ["anthropic", "claude_cli", "claude_env", "launch_claude"]
