"""The evaluation set's labels agree with oracles independent of the checker.

Stripe rows are labelled from stripe-node's declarations, Supabase rows from a real
PostgreSQL loaded with the fixture's migrations and from the client packages,
OpenAPI rows from the spec read as plain YAML. Locally a missing oracle tool skips;
under CI=true it fails, since CI installs every one (scripts/install-test-deps).
"""

from __future__ import annotations

import ast
import collections
import os
from typing import NoReturn

import pytest

from fleetnb.truth.findings import KINDS
from tests.truth.eval.oracle_openapi import OpenApiOracle
from tests.truth.eval.oracle_stripe import StripeOracle
from tests.truth.eval.oracle_supabase import MethodOracle, Schema, label, load_schema, postgres_bin
from tests.truth.eval.rows import Row, load_rows, npm_package

ROWS = load_rows()
STRATA = {
    "valid",
    "renamed_method",
    "invented_param",
    "invented_nested_param",
    "missing_required_param",
    "wrong_verb",
    "nonexistent_path",
    "singular_plural",
    "wrong_namespace",
    "unknown_table",
    "unknown_column",
}


def _missing(why: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{why} (CI installs it with scripts/install-test-deps)")
    pytest.skip(why)


def _disagreements(rows: list[Row], labels: dict[str, list[str]]) -> list[str]:
    return [
        f"{row.id}: oracle says {labels[row.id]}, row says {list(row.expect)}"
        for row in rows
        if sorted(labels[row.id]) != sorted(row.expect)
    ]


def test_rows_are_well_formed() -> None:
    ids = [row.id for row in ROWS]
    assert len(ids) == len(set(ids)) >= 300
    for row in ROWS:
        assert row.kind in STRATA, row.id
        assert set(row.expect) <= set(KINDS), row.id
        assert bool(row.expect) == (row.kind != "valid"), row.id
        assert row.line <= len(row.code.splitlines()), row.id
        assert row.source == "oracle" or row.source.startswith("https://github.com/"), row.id
        if row.lang == "python":
            ast.parse(row.code)  # a snippet the checker cannot parse would test nothing


def test_rows_are_balanced() -> None:
    langs = collections.Counter(row.lang for row in ROWS)
    invented = sum(row.invented for row in ROWS)
    assert abs(langs["python"] - langs["typescript"]) <= len(ROWS) * 0.1
    assert 0.4 <= invented / len(ROWS) <= 0.6
    strata = {(row.api, row.kind) for row in ROWS}
    assert {kind for _, kind in strata} == STRATA
    assert {api for api, _ in strata} == {"stripe", "supabase", "openapi"}


def test_openapi_labels() -> None:
    oracle = OpenApiOracle()
    rows = [row for row in ROWS if row.api == "openapi"]
    assert _disagreements(rows, {r.id: oracle.label(r.oracle["http"]) for r in rows}) == []


def test_stripe_labels() -> None:
    try:
        oracle = StripeOracle(npm_package("stripe"))
    except FileNotFoundError as exc:
        _missing(str(exc))
    rows = [row for row in ROWS if row.api == "stripe"]
    assert _disagreements(rows, {r.id: oracle.label(r) for r in rows}) == []


@pytest.fixture(scope="module")
def schema() -> Schema:
    if postgres_bin() is None:
        _missing("PostgreSQL (initdb) is not installed")
    return load_schema()


def test_supabase_labels(schema: Schema) -> None:
    try:
        npm_package("supabase-js")
        npm_package("auth-js")
        import supabase  # noqa: F401, PLC0415 - the Python rows are labelled by introspecting it
    except (FileNotFoundError, ImportError) as exc:
        _missing(str(exc))
    methods = MethodOracle()
    rows = [row for row in ROWS if row.api == "supabase"]
    assert _disagreements(rows, {r.id: label(r, schema, methods) for r in rows}) == []


def test_the_schema_oracle_sees_renames(schema: Schema) -> None:
    """The migrations' ALTER ... RENAME statements are what make several rows invented."""
    assert "order_items" not in schema
    assert "order_lines" in schema
    assert "content_md" in schema["posts"]
    assert "body" not in schema["posts"]
    assert "website" not in schema["profiles"]


def test_a_flipped_label_is_caught() -> None:
    oracle = OpenApiOracle()
    row = next(r for r in ROWS if r.api == "openapi" and r.kind == "wrong_verb")
    assert _disagreements([row], {row.id: oracle.label(row.oracle["http"])}) == []
    flipped: dict[str, list[str]] = {
        row.id: []
    }  # the oracle claiming a real call where the row has an invented one
    assert _disagreements([row], flipped) != []
