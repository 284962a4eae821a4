"""The harness tests' fixtures (real CLIs against fake model servers), reused here."""

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
