"""The harness tests' fixtures (the real Claude Code and Codex CLIs, fake APIs), reused here."""

from __future__ import annotations

from tests.harnesses.conftest import (
    anthropic,
    claude_cli,
    claude_env,
    codex,
    codex_env,
    codex_home,
    fake,
    launch_claude,
    launch_codex,
)

__all__ = [
    "anthropic",
    "claude_cli",
    "claude_env",
    "codex",
    "codex_env",
    "codex_home",
    "fake",
    "launch_claude",
    "launch_codex",
]
