"""HTTP surfaces: which verbs and paths an API serves, and matching a call's URL to them.

Both the OpenAPI index and the Stripe index reduce to an ``HttpSurface``, so raw
``httpx``/``requests`` calls are checked the same way whichever index knows the host.
The most specific template wins: a literal segment beats a templated one.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from fleetnb.truth.findings import closest
from fleetnb.truth.shapes import Shape

__all__ = ["HOLE", "HttpSurface", "Operation", "RouteMatch", "split_path"]

# Marks a segment the code computes at run time (an f-string hole): it may be anything.
HOLE = "\x00"
_SLOT = re.compile(r"^\{[^}]*\}$")
# Real IDs carry digits, underscores or mixed case; a lowercase word in an ID slot
# is more likely an invented action (``/v1/refunds/create``).
_WORD = re.compile(r"^[a-z]{3,}$")
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclasses.dataclass(frozen=True, slots=True)
class Operation:
    """One verb on one path template, with the name of its parameter shape."""

    verb: str
    template: str
    params: str | None = None
    deprecated: bool = False

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Operation:
        return cls(
            data["verb"], data["template"], data.get("params"), data.get("deprecated", False)
        )


@dataclasses.dataclass(frozen=True, slots=True)
class RouteMatch:
    """What a URL matched: the operations of the most specific template, or why not."""

    template: str | None
    operations: tuple[Operation, ...]
    word_in_slot: str | None = None  # a dictionary word that landed in an ID slot
    suggestion: str | None = None  # the closest template, when nothing matched

    def for_verb(self, verb: str) -> Operation | None:
        return next((op for op in self.operations if op.verb == verb.lower()), None)


def split_path(path: str) -> list[str]:
    return [segment for segment in path.split("/") if segment]


@dataclasses.dataclass(slots=True)
class HttpSurface:
    """The operations one API serves on its hosts, and the parameter shapes they take."""

    name: str
    servers: tuple[str, ...]  # base URLs, e.g. "https://api.stripe.com"
    operations: list[Operation]
    shapes: Mapping[str, Shape]
    _by_length: dict[int, list[tuple[list[str], str]]] = dataclasses.field(
        default_factory=dict, init=False, repr=False
    )
    _templates: dict[str, list[Operation]] = dataclasses.field(
        default_factory=dict, init=False, repr=False
    )
    _normal_all: dict[str, str] = dataclasses.field(default_factory=dict, init=False, repr=False)
    _normal: dict[tuple[str, ...], dict[str, str]] = dataclasses.field(
        default_factory=dict, init=False, repr=False
    )
    _suggestions: dict[str, str | None] = dataclasses.field(
        default_factory=dict, init=False, repr=False
    )

    def __post_init__(self) -> None:
        for op in self.operations:
            self._templates.setdefault(op.template, []).append(op)
        for template in self._templates:
            parts = split_path(template)
            self._by_length.setdefault(len(parts), []).append((parts, template))
            normal = re.sub(r"\{[^}]*\}", "{}", template)
            self._normal_all[normal] = template
            self._normal.setdefault(tuple(parts[:2]), {})[normal] = template

    def relative_path(self, url: str) -> str | None:
        """The path of ``url`` below one of this surface's servers, or None if not ours."""
        target = urlsplit(url)
        for server in self.servers:
            base = urlsplit(server)
            if not _same_host(target.hostname, base.hostname):
                continue
            prefix = base.path.rstrip("/")
            if target.path == prefix or target.path.startswith(prefix + "/"):
                return target.path[len(prefix) :] or "/"
        return None

    def match(self, path: str) -> RouteMatch:
        segments = split_path(path)
        best: list[tuple[int, str]] = []
        for parts, template in self._by_length.get(len(segments), []):
            score = _score(parts, segments)
            if score is not None:
                best.append((score, template))
        if not best:
            return RouteMatch(None, (), suggestion=self._closest(segments))
        top = max(score for score, _ in best)
        template = min(t for score, t in best if score == top)
        word = _word_in_slot(split_path(template), segments)
        return RouteMatch(
            template,
            tuple(self._templates[template]),
            word_in_slot=word,
            suggestion=self._literal_alternative(segments) if word else None,
        )

    def _closest(self, segments: Sequence[str]) -> str | None:
        """The nearest template, among those under the same first segments when any are.

        Memoized per path: a generated file repeats the same invented URL many times,
        and comparing against every template of a large API is the slow part.
        """
        shown = "/" + "/".join("{}" if s == HOLE else s for s in segments)
        if shown not in self._suggestions:
            normal = self._normal.get(tuple(segments[:2])) or self._normal_all
            found = closest(shown, normal)
            self._suggestions[shown] = normal[found] if found else None
        return self._suggestions[shown]

    def _literal_alternative(self, segments: Sequence[str]) -> str | None:
        """For ``/v1/refunds/create``: the parent collection ``/v1/refunds`` if it exists."""
        parent = "/" + "/".join(segments[:-1])
        return parent if parent in self._templates else None


def _same_host(target: str | None, server: str | None) -> bool:
    """A server given without a host (``/api/v3``) serves relative URLs and local hosts."""
    if server is None:
        return target is None or target.lower() in _LOCAL_HOSTS
    return (target or "").lower() == server.lower()


def _score(parts: Sequence[str], segments: Sequence[str]) -> int | None:
    """Literal on literal scores 2; a computed segment fits a slot (1) better than a literal (0)."""
    score = 0
    for part, segment in zip(parts, segments, strict=True):
        if _SLOT.match(part):
            score += segment == HOLE
        elif segment not in (HOLE, part):
            return None
        elif segment != HOLE:
            score += 2
    return score


def _word_in_slot(parts: Sequence[str], segments: Sequence[str]) -> str | None:
    for part, segment in zip(parts, segments, strict=True):
        if _SLOT.match(part) and segment != HOLE and _WORD.match(segment):
            return segment
    return None
