"""Fixtures shared by every test: an isolated fleet root and a real git repo."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import fleetnb


def until(check: Callable[[], object], what: str = "", timeout: float = 30.0) -> None:
    """Poll ``check`` until it is true (a fact, not a sleep); fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what or check}"
        time.sleep(0.02)


def require_binary(name: str) -> str:
    """The path of ``name``; a missing binary skips locally but fails under CI."""
    found = shutil.which(name)
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is not installed; .ci/run must install it")
        pytest.skip(f"{name} is not installed")
    return found


@pytest.fixture(scope="session", autouse=True)
def truth_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One API-check cache for the run (the Stripe index is built once), never the
    user's own; and no registry lookups leave the machine: tests that ask a
    registry ask a fake one."""
    path = tmp_path_factory.mktemp("truth-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FLEETNB_CACHE_DIR", str(path))
        patch.setenv("FLEETNB_OFFLINE", "1")
        yield path


@pytest.fixture
def gemini_cli() -> str:
    """The pinned ``gemini`` CLI (scripts/install-test-deps installs it)."""
    return require_binary("gemini")


def stop_running(fleet: fleetnb.Fleet) -> None:
    """Stop every agent of ``fleet`` that has not ended, so no runner outlives a test."""
    for agent in fleet.agents:
        if not agent.state.is_final:
            agent.stop(timeout=10)


def stop_running_at(root: Path) -> None:
    """The same for a fleet a notebook made under ``root``, if it made one."""
    if not (root / ".fleetnb").exists():
        return
    fleet = fleetnb.Fleet(root)
    try:
        stop_running(fleet)
    finally:
        fleet.close()


@pytest.fixture(scope="session")
def kernel_name() -> str:
    """The ``python3`` kernelspec, registered into this environment if it is missing."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel  # noqa: PLC0415

    try:
        KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel:
        subprocess.run(
            [sys.executable, "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3"],
            check=True,
        )
    return "python3"


@pytest.fixture(scope="session")
def ccusage() -> str:
    """The pinned ``ccusage`` (scripts/install-test-deps installs it): an independent reader."""
    return require_binary("ccusage")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A real git repository with one committed file."""
    path = tmp_path / "repo"
    path.mkdir()
    git = ["git", "-C", str(path), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    (path / "README.md").write_text("# test repo\n")
    subprocess.run([*git, "add", "README.md"], check=True)
    subprocess.run([*git, "commit", "-qm", "initial"], check=True)
    return path


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[fleetnb.Fleet]:
    """A fleet rooted in its own temp directory; stops whatever is left running."""
    root = tmp_path / "root"
    root.mkdir()
    instance = fleetnb.Fleet(root)
    yield instance
    try:
        stop_running(instance)
    finally:
        instance.close()
