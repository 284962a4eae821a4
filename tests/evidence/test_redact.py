"""Redaction: every sample secret goes, every look-alike stays exactly as it was."""

from __future__ import annotations

import pytest

from fleetnb.evidence import redact, redact_value
from tests.evidence.samples import LOOKALIKES, SECRETS


def test_the_tables_are_big_enough() -> None:
    assert len(SECRETS) >= 40
    assert len(LOOKALIKES) >= 20


@pytest.mark.parametrize(("context", "text", "secret"), SECRETS, ids=[s[0] for s in SECRETS])
def test_secret_is_redacted(context: str, text: str, secret: str) -> None:
    out = redact(text)
    assert secret not in out, f"{context}: {out}"
    assert "[REDACTED:" in out


@pytest.mark.parametrize("text", LOOKALIKES)
def test_lookalike_is_unchanged(text: str) -> None:
    assert redact(text) == text


def test_redact_value_walks_nested_json() -> None:
    text, secret = SECRETS[0][1], SECRETS[0][2]
    value = redact_value({"a": [text, {"b": text}], "n": 3, "none": None})
    assert secret not in repr(value)
    assert value["n"] == 3
    assert value["none"] is None


def test_marker_names_the_type() -> None:
    assert redact("key sk-ant-api03-abcdefghijklmnopqrstuvwxyz") == ("key [REDACTED:anthropic-key]")
