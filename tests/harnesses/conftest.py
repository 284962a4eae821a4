"""Fixtures for the harness tests: the real Claude Code and Codex CLIs against fake model APIs.

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
from tests.fakes.openai_responses import API_KEY_ENV, FakeResponses, write_codex_home

MODEL = "claude-sonnet-4-5-20250929"

ClaudeLauncher = Callable[..., fleetnb.Agent]
CodexLauncher = Callable[..., fleetnb.Agent]
CODEX_MODEL = "gpt-5.1-codex"


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


@pytest.fixture
def codex() -> str:
    return require_binary("codex")


@pytest.fixture
def fake() -> Iterator[FakeResponses]:
    with FakeResponses(stall_timeout=60) as server:
        yield server


@pytest.fixture
def codex_home(tmp_path: Path, fake: FakeResponses) -> Path:
    home = tmp_path / "codex-home"
    write_codex_home(home, fake.base_url, CODEX_MODEL)
    return home


@pytest.fixture
def codex_env(tmp_path: Path, codex_home: Path) -> dict[str, str]:
    """What an agent gets: an isolated HOME, the fake's CODEX_HOME, and a dummy key."""
    home = tmp_path / "home"
    home.mkdir()
    return {"HOME": str(home), "CODEX_HOME": str(codex_home), API_KEY_ENV: "test"}


@pytest.fixture
def launch_codex(
    fleet: fleetnb.Fleet, repo: Path, codex: str, codex_env: dict[str, str]
) -> CodexLauncher:
    """Launch a codex agent in ``repo`` against the fake; the ``fleet`` fixture stops it."""

    def launch(task: str = "write hi to out.txt", **kwargs: Any) -> fleetnb.Agent:
        kwargs.setdefault("approvals", "allow")
        kwargs.setdefault("model", CODEX_MODEL)
        return fleet.launch(task, harness="codex", cwd=repo, env=codex_env, **kwargs)

    return launch
