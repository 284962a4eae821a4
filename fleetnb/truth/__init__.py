"""API truth checks: calls in agents' code checked against the real API surfaces.

Surfaces are built from the real thing (the installed Stripe SDK, OpenAPI
documents, any installed package by introspection) and cached on disk; calls are
extracted statically; findings name the call, what is wrong and the closest
real name. ``fleetnb check PATH...`` is the command-line face of ``check_paths``.
"""

from __future__ import annotations

from fleetnb.truth.checker import Checker, check_paths, check_source
from fleetnb.truth.findings import CheckReport, Finding
from fleetnb.truth.openapi import SpecError, load_openapi
from fleetnb.truth.package_index import PackageIndex, index_package
from fleetnb.truth.routes import HttpSurface, Operation
from fleetnb.truth.stripe_index import StripeIndex, load_stripe_index

__all__ = [
    "CheckReport",
    "Checker",
    "Finding",
    "HttpSurface",
    "Operation",
    "PackageIndex",
    "SpecError",
    "StripeIndex",
    "check_paths",
    "check_source",
    "index_package",
    "load_openapi",
    "load_stripe_index",
]
