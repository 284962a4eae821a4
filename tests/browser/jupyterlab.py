"""A real JupyterLab server and Debian's Chromium, driven by Playwright.

Used by the browser tests and by ``bench/browser_latency.py``. The server runs
in a temp root with its own settings (no news popup, no update check, every
notebook cell kept in the DOM), config and runtime directories, so nothing of
the user's Jupyter set-up leaks in and nothing is left behind.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, Playwright, expect

from tests.browser.availability import CHROMIUM

__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "LabServer",
    "launch_chromium",
    "open_notebook",
    "run_all_cells",
    "running_lab",
    "wait_until_idle",
]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
_SETTINGS = {
    # The news popup and the update check would reach the network and cover the page.
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    # Keep every cell in the DOM: selectors must not depend on the scroll position.
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}
_START_TIMEOUT_S = 90.0


@dataclasses.dataclass(frozen=True)
class LabServer:
    """A running JupyterLab: where it listens and the directory it serves."""

    url: str
    token: str
    root_dir: Path
    log: Path

    def notebook_url(self, name: str) -> str:
        # ?reset starts from an empty workspace: no notebook of an earlier test reopens.
        return f"{self.url}/lab/tree/{name}?reset&token={self.token}"

    def api(self, path: str, method: str = "GET") -> Any:
        """Call the server's REST API; returns the decoded JSON (None when empty)."""
        request = urllib.request.Request(
            f"{self.url}/api/{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shut_down_kernels(self) -> None:
        """End every notebook session of this server, and with it its kernel."""
        for session in self.api("sessions"):
            self.api(f"sessions/{session['id']}", method="DELETE")

    def log_tail(self, limit: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-limit:]


@contextlib.contextmanager
def running_lab(root_dir: Path, state_dir: Path) -> Iterator[LabServer]:
    """Start JupyterLab serving ``root_dir``; its settings and logs live in ``state_dir``."""
    env = _lab_environment(state_dir)
    token = secrets.token_hex(16)
    port = _free_port()
    argv = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser",
        f"--ServerApp.token={token}", "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root_dir}",
        f"--LabApp.user_settings_dir={env['JUPYTERLAB_SETTINGS_DIR']}",
        f"--LabApp.workspaces_dir={env['JUPYTERLAB_WORKSPACES_DIR']}",
    ]  # fmt: skip
    if os.geteuid() == 0:
        argv.append("--allow-root")
    log = state_dir / "jupyterlab.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            argv, env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=output,
            start_new_session=True,
        )  # fmt: skip
    server = LabServer(f"http://127.0.0.1:{port}", token, root_dir, log)
    try:
        _wait_ready(server, process)
        yield server
    finally:
        _stop(process)


def _lab_environment(state_dir: Path) -> dict[str, str]:
    dirs = {
        name: state_dir / name.lower()
        for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTERLAB_WORKSPACES_DIR")
    }
    dirs["JUPYTERLAB_SETTINGS_DIR"] = _write_settings(state_dir / "lab-settings")
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    return {**os.environ, **{name: str(path) for name, path in dirs.items()}}


def _write_settings(settings_dir: Path) -> Path:
    for plugin, values in _SETTINGS.items():
        package, name = plugin.rsplit("/", 1)
        path = settings_dir / package / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    return settings_dir


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_ready(server: LabServer, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"JupyterLab exited with code {process.returncode}:\n{server.log_tail()}"
            )
        with contextlib.suppress(OSError, urllib.error.URLError):
            if server.api("status") is not None:
                return
        time.sleep(0.25)  # polling the server's own readiness, not standing in for a signal
    raise RuntimeError(
        f"JupyterLab did not answer /api/status within {_START_TIMEOUT_S:g} s:\n{server.log_tail()}"
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)  # the server, its kernels and their children
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def launch_chromium(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless; Playwright's own browser downloads are not used."""
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )


def open_notebook(page: Page, server: LabServer, name: str) -> None:
    """Open ``name`` in JupyterLab and wait until its kernel is idle."""
    page.goto(server.notebook_url(name))
    expect(page.locator(".jp-NotebookPanel")).to_be_visible(timeout=60_000)
    wait_until_idle(page)


def wait_until_idle(page: Page, timeout_ms: float = 60_000) -> None:
    """Wait for the kernel status in the status bar to read Idle."""
    status = page.locator("#jp-main-statusbar").get_by_text(re.compile(r"\|\s*Idle\s*$"))
    expect(status).to_be_visible(timeout=timeout_ms)


def run_all_cells(page: Page, timeout_ms: float = 120_000) -> None:
    """Run → Run All Cells, then wait until every code cell has run and the kernel is idle."""
    page.locator(".jp-NotebookPanel .jp-Notebook").first.click()
    page.locator("#jp-menu-panel .lm-MenuBar-itemLabel", has_text=re.compile("^Run$")).click()
    page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()
    prompts = page.locator(".jp-CodeCell .jp-InputPrompt")
    expect(prompts.last).to_have_text(re.compile(r"\[\d+\]"), timeout=timeout_ms)
    expect(page.locator(".jp-CodeCell .jp-InputPrompt", has_text="*")).to_have_count(
        0, timeout=timeout_ms
    )
    wait_until_idle(page, timeout_ms)
