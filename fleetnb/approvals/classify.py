"""PLACEHOLDER so the package imports while the real classifier is written; overwrite freely."""

from __future__ import annotations

import dataclasses
import enum
import os
from collections.abc import Sequence

__all__ = ["Classification", "Risk", "classify_command"]


class Risk(enum.IntEnum):
    LOW = 0
    MEDIUM = 1
    HIGH = 2
    CRITICAL = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> Risk:
        try:
            return cls[value.upper()]
        except KeyError:
            raise ValueError(f"risk {value!r} is not one of low, medium, high, critical") from None


@dataclasses.dataclass(frozen=True)
class Classification:
    risk: Risk
    reasons: tuple[str, ...]
    commands: tuple[tuple[str, ...], ...]


def classify_command(
    command: str | Sequence[str],
    *,
    cwd: str | os.PathLike[str] | None = None,
    home: str | os.PathLike[str] | None = None,
) -> Classification:
    text = command if isinstance(command, str) else " ".join(command)
    if "rm -rf" in text and ("/" in text.split() or "~" in text.split()):
        return Classification(Risk.CRITICAL, ("placeholder",), ())
    if text.split()[:2] in (["git", "status"], ["ls"]):
        return Classification(Risk.LOW, ("placeholder",), ())
    return Classification(Risk.MEDIUM, ("placeholder",), ())
