"""Fixtures for the harness tests: the real Claude Code CLI against a fake model API.

Each test gets its own HOME and CLAUDE_CONFIG_DIR, so nothing of the person's
own Claude setup (credentials, settings, transcripts) is read or written.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import fleetnb
from tests.conftest import require_binary
from tests.fakes.anthropic import FakeAnthropic

MODEL = "claude-sonnet-4-5-20250929"

ClaudeLauncher = Callable[..., fleetnb.Agent]


@pytest.fixture
def claude_cli() -> str:
    """The CLI the SDK runs: the bundled one, else `claude` on PATH."""
    try:
        import claude_agent_sdk  # noqa: PLC0415 - only this fixture needs the optional extra
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("claude-agent-sdk is not installed; .ci/run must install fleetnb[claude]")
        pytest.skip("claude-agent-sdk is not installed")
    bundled = Path(claude_agent_sdk.__file__).parent / "_bundled" / "claude"
    return str(bundled) if bundled.is_file() else require_binary("claude")


@pytest.fixture
def anthropic() -> Iterator[FakeAnthropic]:
    """A fake Anthropic API; tests script it with ``add(...)`` before launching."""
    with FakeAnthropic() as fake:
        yield fake


@pytest.fixture
def claude_env(tmp_path: Path, anthropic: FakeAnthropic) -> dict[str, str]:
    """The environment an agent gets: the fake API and an isolated HOME and config."""
    home = tmp_path / "home"
    config = tmp_path / "claude-config"
    home.mkdir()
    config.mkdir()
    return {
        "ANTHROPIC_BASE_URL": anthropic.url,
        "ANTHROPIC_API_KEY": "sk-ant-test",
        "HOME": str(home),
        "CLAUDE_CONFIG_DIR": str(config),
        "CLAUDE_CODE_MAX_RETRIES": "0",  # a scripted API error must not be retried
    }


@pytest.fixture
def launch_claude(
    fleet: fleetnb.Fleet, repo: Path, claude_cli: str, claude_env: dict[str, str]
) -> ClaudeLauncher:
    """Launch a claude agent in ``repo`` against the fake; the ``fleet`` fixture stops it."""

    def launch(task: str = "do the task", **kwargs: Any) -> fleetnb.Agent:
        kwargs.setdefault("approvals", "allow")
        kwargs.setdefault("model", MODEL)
        env = {**claude_env, **kwargs.pop("env", {})}
        return fleet.launch(task, harness="claude", cwd=repo, env=env, **kwargs)

    return launch
