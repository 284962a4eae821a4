"""Where words point: variables and ``~`` expanded, paths resolved, programs named."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping

__all__ = ["base_name", "expand", "is_dynamic", "program", "resolve", "within"]

_VERSIONED = re.compile(r"(python|pip|pypy|node|ruby|perl|php|lua)[\d.]*")
_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
_WHOLE_DIRECTORY = re.compile(r"[.*]*\*[.*]*")  # `*`, `.*`, `*.*`: every entry of a directory


def expand(text: str, variables: Mapping[str, str]) -> str:
    """``text`` with each ``$NAME`` or ``${NAME}`` whose value is known substituted."""
    if "$" not in text:
        return text
    return _VARIABLE.sub(lambda m: variables.get(m.group(1) or m.group(2), m.group(0)), text)


def is_dynamic(text: str) -> bool:
    """Whether only run time can tell the value (an unknown variable, a substitution)."""
    return "$" in text or "`" in text


def resolve(text: str, cwd: str | None, home: str) -> str | None:
    """The absolute, normalised path a word names, or None when only run time can tell.

    A last component that matches every entry (``*``, ``.*``) stands for the
    directory itself: ``rm -rf ~/*`` empties the home directory. Nothing is read
    from the disk: the path may not exist yet.
    """
    text = text.split("\0", 1)[0]  # the kernel stops reading a path at a NUL byte
    if text == "~" or text.startswith("~/"):
        text = home + text[1:]
    elif not text or text.startswith(("~", "<(", ">(")) or is_dynamic(text):
        return None
    if not text.startswith("/"):
        if cwd is None:
            return None
        text = f"{cwd}/{text}"
    path = posixpath.normpath(text)
    head, last = posixpath.split(path)
    if _WHOLE_DIRECTORY.fullmatch(last):
        path = head
    return "/" + path.lstrip("/")  # normpath keeps a leading "//"


def within(path: str, root: str) -> bool:
    """Whether ``path`` is ``root`` or inside it (both absolute and normalised)."""
    return path == root or path.startswith(root.rstrip("/") + "/")


def program(word: str) -> str:
    """``/usr/bin/RM`` → ``rm``: macOS finds ``RM`` too, so names compare lower-case."""
    name = posixpath.basename(word.split("\0", 1)[0]) or word
    return name.lower().removesuffix(".exe")


def base_name(name: str) -> str:
    """``python3.12`` → ``python``, ``mkfs.ext4`` → ``mkfs``."""
    versioned = _VERSIONED.fullmatch(name)
    if versioned:
        return versioned.group(1)
    return "mkfs" if name.startswith("mkfs.") else name
