"""Findings, reports and the closest-name suggestions."""

from __future__ import annotations

from fleetnb.truth import CheckReport, Finding
from fleetnb.truth.findings import Severity, closest


def test_closest_by_spelling_synonym_and_plural() -> None:
    assert closest("emial", ["email", "name", "phone"]) == "email"
    assert closest("fetch", ["create", "retrieve", "list"]) == "retrieve"
    assert closest("fetch_async", ["retrieve", "retrieve_async"]) == "retrieve_async"
    assert closest("remove", ["delete", "list"]) == "delete"
    assert closest("customer", ["customers", "charges"]) == "customers"
    assert closest("zzz", ["email"]) is None
    assert closest("x", []) is None


def _finding(severity: Severity = "error") -> Finding:
    return Finding("app.py", 3, 5, "client.v1.customers.fetch", "unknown_method",
                   severity, "`client.v1.customers` has no method `fetch`", "retrieve")  # fmt: skip


def test_report_json_has_the_documented_fields() -> None:
    report = CheckReport([_finding(), _finding("warning")], calls_checked=4, calls_unresolved=1)
    data = report.as_json()
    assert data["calls_checked"] == 4
    assert data["calls_unresolved"] == 1
    assert set(data["findings"][0]) == {
        "path", "line", "column", "api", "kind", "severity", "message", "suggestion",
    }  # fmt: skip
    assert len(report.errors) == 1


def test_prompt_names_each_call_and_its_fix() -> None:
    prompt = CheckReport([_finding()]).as_prompt()
    assert "app.py:3:5" in prompt
    assert "Use `retrieve` instead" in prompt
    assert "no calls" in CheckReport().as_prompt()
