"""Calls through an installed package, walked along its index: ``module.func(kw=...)``,
``mod.Class(...).method``. A name the package lacks is flagged only where the
index is sure: not behind a module ``__getattr__``, not in guarded code."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from fleetnb.truth.calls import ModuleCall
from fleetnb.truth.findings import Finding, FindingKind, closest
from fleetnb.truth.package_index import PackageIndex

__all__ = ["PackageWalk"]


@dataclasses.dataclass(slots=True)
class PackageWalk:
    """One call through an installed package: ``module.func(kw=...)``, ``mod.Class(...)``."""

    package: PackageIndex
    call: ModuleCall
    path: str | None
    findings: list[Finding] = dataclasses.field(default_factory=list)

    def run(self) -> bool:  # noqa: PLR0911 - one exit for each way a chain can end
        module = self.package.modules.get(self.call.root)
        if module is None:
            return False
        name = self.call.root
        chain = self.call.chain
        for position, attr in enumerate(chain):
            last = position == len(chain) - 1
            if attr in module.modules:
                target = self.package.modules.get(module.modules[attr]) or self.package.modules.get(
                    f"{name}.{attr}"
                )
                if target is None:
                    return False
                module, name = target, f"{name}.{attr}"
                continue
            if attr not in module.names:
                if module.dynamic or self._expected_missing(attr):
                    return False  # a module __getattr__ may provide it, or the code expects not
                self._finding(
                    "unknown_method",
                    f"module `{name}` has no attribute `{attr}`",
                    suggestion=closest(attr, (n for n in module.names if not n.startswith("_"))),
                )
                return True
            if attr in module.callables and last:
                self._kwargs(module.callables[attr])
                return True
            if attr in module.classes:
                return self._class(module.classes[attr], chain[position + 1 :])
            return last
        return False

    def _class(self, data: Mapping[str, Any], rest: tuple[str, ...]) -> bool:
        if not rest:
            self._kwargs(data.get("init"))
            return True
        methods = data.get("methods") or {}
        names = set(data.get("names") or [])
        attr = rest[0]
        if attr not in names:
            if data.get("dynamic") or self._expected_missing(attr):
                return False
            self._finding(
                "unknown_method",
                f"`{'.'.join(self.call.chain[: -len(rest)])}` has no attribute `{attr}`",
                suggestion=closest(attr, (n for n in names if not n.startswith("_"))),
            )
            return True
        if len(rest) == 1 and isinstance(methods, dict):
            self._kwargs(methods.get(attr))
            return True
        return False

    def _expected_missing(self, attr: str) -> bool:
        """Platform- and version-specific names: guarded code, or private ones (``os._x``).

        The index reflects this interpreter on this platform; code that tests for a
        name first, or reaches for a private one, is not evidence of an invented API.
        """
        return self.call.guarded or attr.startswith("_")

    def _kwargs(self, signature: object) -> None:
        if self.call.guarded or not isinstance(signature, dict) or signature.get("var_kw"):
            return  # no signature (a builtin) or **kwargs: any keyword may be accepted
        accepted = set(signature.get("params") or [])
        for name, node in self.call.kwargs.keys.items():
            if name not in accepted:
                self._finding_at(
                    (node.line, node.column),
                    "unknown_param",
                    f"`{self.call.api}` has no parameter `{name}`",
                    suggestion=closest(name, accepted),
                )

    def _finding(self, kind: FindingKind, message: str, suggestion: str | None) -> None:
        self._finding_at((self.call.line, self.call.column), kind, message, suggestion)

    def _finding_at(
        self, where: tuple[int, int], kind: FindingKind, message: str, suggestion: str | None
    ) -> None:
        line, column = where
        self.findings.append(
            Finding(self.path, line, column, self.call.api, kind, "error", message, suggestion)
        )
