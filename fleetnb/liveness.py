"""Is an agent's runner still alive? Checked from any process on the same host.

A runner records its pid, host and process start time when it starts. The
start time guards against pid reuse: a new process with the same pid is not
our runner.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from typing import Any

import psutil

__all__ = ["runner_alive", "runner_identity"]


def runner_identity() -> dict[str, Any]:
    """This process's identity, as a ``runner_started`` payload."""
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "create_time": psutil.Process().create_time(),
    }


def runner_alive(identity: Mapping[str, Any]) -> bool | None:
    """True or False for a runner on this host; None when it runs elsewhere."""
    if identity.get("host") != socket.gethostname():
        return None
    try:
        process = psutil.Process(int(identity["pid"]))
        if abs(process.create_time() - float(identity["create_time"])) > 1.0:
            return False
        return process.status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.AccessDenied, KeyError, ValueError):
        return False
