"""Secret redaction for everything an evidence trail displays or writes into a notebook.

Detection leans on ``detect-secrets`` (its AWS, GitHub, GitLab, JWT, private key,
Stripe, Slack, basic-auth, keyword and base64 high-entropy plugins, among
others) and adds targeted patterns for what it lacks: Anthropic and OpenAI keys,
Supabase keys, ``Authorization:`` headers, and the values of env-like names
(``*_KEY``, ``*_TOKEN``, ``*_SECRET``, ``*_PASSWORD``). Each secret becomes
``[REDACTED:<type>]``. The store keeps the originals; redaction happens when a
trail is built for display.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
from detect_secrets.plugins import keyword as _keyword
from detect_secrets.plugins.high_entropy_strings import Base64HighEntropyString

__all__ = ["redact", "redact_value"]

# Public IPs are not secrets; hex entropy flags every git commit hash.
_SKIPPED_PLUGINS = frozenset({"Public IP (ipv4)", "Hex High Entropy String", "Secret Keyword",
                              "Base64 High Entropy String"})  # fmt: skip
# Bounds the regex work on a huge output; only a trimmed window is shown anyway.
_SCAN_LIMIT = 200_000
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_\-.+/=]")
_PLACEHOLDER = re.compile(
    r"^(?:true|false|none|null|nil|undefined|\*+|x+|\.\.\.|changeme|redacted|your[-_a-z]*)$|"
    r"^[$%<{(\[]|^(?:~|\.{0,2}/)|^\[REDACTED",
    re.IGNORECASE,
)
_ENV_NAME = (
    r"[A-Z][A-Z0-9_]*_(?:KEY|TOKEN|SECRET|PASSWORD|PASSWD|PWD|PAT|CREDENTIALS?)"
    r"|(?:PASSWORD|SECRET|TOKEN|API_KEY|APIKEY)"
)
# (type, pattern, group holding the secret); overlapping finds merge into one.
_PATTERNS: list[tuple[str, re.Pattern[str], int]] = [
    ("private-key", re.compile(
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
        r"(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)"), 0),
    # A text that starts inside a key (the tail of a trimmed output): up to its END line.
    ("private-key", re.compile(
        r"\A[A-Za-z0-9+/=\s\\]*-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"), 0),
    ("anthropic-key", re.compile(r"\bsk-ant-[A-Za-z0-9_\-]{16,}"), 0),
    ("openai-key", re.compile(  # a digit: prose like "sk-learning-rate-…" is no key
        r"\bsk-(?:proj-|svcacct-|admin-)?(?=[\w\-]*\d)[A-Za-z0-9_\-]{20,}"), 0),
    ("supabase-key", re.compile(r"\bsb_(?:secret|publishable)_[A-Za-z0-9_\-]{16,}"), 0),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*"), 0),
    ("github-token", re.compile(
        r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})"), 0),
    ("stripe-key", re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}"), 0),
    ("google-api-key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}"), 0),
    ("slack-token", re.compile(r"\bxox[abposr]-[A-Za-z0-9\-]{10,}"), 0),
    ("authorization", re.compile(
        r"(?i)\b(?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic|token|digest)\s+)?"
        r"([^\s\"',;]+)"), 1),
    ("api-key-header", re.compile(
        r"(?i)\b(?:x-api-key|api-key|x-auth-token|x-goog-api-key)\s*[:=]\s*[\"']?"
        r"([^\s\"',;]+)"), 1),
    ("bearer-token", re.compile(r"(?i)\bbearer\s+([A-Za-z0-9_\-.+/=~]{16,})"), 1),
    ("env-secret", re.compile(
        rf"\b(?:{_ENV_NAME})\b[\"']?\s*(?::=|=|:)\s*"
        r"(\"[^\"\n]*\"|'[^'\n]*'|[^\s\"'`,;}]+)"), 1),
    ("url-secret", re.compile(
        r"(?i)[?&](?:api_?key|access_token|token|secret|password|client_secret)=([^&\s\"'#]+)"), 1),
    ("url-password", re.compile(r"\b[a-z][a-z0-9+.\-]*://[^\s:/@\"']*:([^\s@/\"']+)@"), 1),
]  # fmt: skip


def _slug(secret_type: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", secret_type.lower()).strip("-")


def _load_plugins() -> list[tuple[str, Any]]:
    mapping: dict[str, Any] = dict(get_mapping_from_secret_type_to_class())
    return [
        (_slug(name), cls())
        for name, cls in sorted(mapping.items())
        if name not in _SKIPPED_PLUGINS
    ]


_PLUGINS = _load_plugins()
_KEYWORD_RULES: list[tuple[re.Pattern[str], int]] = [
    *_keyword.QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP.items(),
    *_keyword.CONFIG_DENYLIST_REGEX_TO_GROUP.items(),
]
_KEYWORD_HINT = re.compile("|".join(_keyword.DENYLIST), re.IGNORECASE)
_ENTROPY = Base64HighEntropyString()
_QUOTED = re.compile(r"([\"'])([A-Za-z0-9+/_\-]{24,}={0,2})\1")

Span = tuple[int, int, str]


def redact(text: str) -> str:
    """``text`` with every secret found replaced by ``[REDACTED:<type>]``."""
    if not text:
        return text
    if len(text) > _SCAN_LIMIT:
        half = _SCAN_LIMIT // 2
        # A trail shows a head and a tail; the unscanned middle is never displayed.
        return redact(text[:half]) + "\n[… middle not scanned …]\n" + redact(text[-half:])
    spans = _merge([*_pattern_spans(text), *_plugin_spans(text), *_keyword_spans(text),
                    *_entropy_spans(text)])  # fmt: skip
    out = []
    last = 0
    for start, end, kind in spans:
        out.append(text[last:start])
        out.append(f"[REDACTED:{kind}]")
        last = end
    out.append(text[last:])
    return "".join(out)


def redact_value(value: Any) -> Any:
    """A copy of a JSON-like value with every string (keys included) redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {redact(str(k)): redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    return value


def _pattern_spans(text: str) -> Iterator[Span]:
    for kind, pattern, group in _PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span(group)
            if end - start >= 2 and text[start] in "\"'" and text[end - 1] == text[start]:
                start, end = start + 1, end - 1  # a quoted value: redact inside the quotes
            value = text[start:end]
            if value and not (group and _PLACEHOLDER.search(value)):
                yield start, end, kind


def _plugin_spans(text: str) -> Iterator[Span]:
    for kind, plugin in _PLUGINS:
        for found in set(plugin.analyze_string(text)):
            if isinstance(found, str) and len(found) >= 6:
                yield from _occurrences(text, found, kind)


def _keyword_spans(text: str) -> Iterator[Span]:
    if not _KEYWORD_HINT.search(text):
        return
    for line_start, line in _lines(text):
        if not _KEYWORD_HINT.search(line):
            continue  # every keyword rule needs one of the words; most lines have none
        for pattern, group in _KEYWORD_RULES:
            for match in pattern.finditer(line):
                value = (match.group(group) or "").rstrip().rstrip(";,")
                if len(value) >= 4 and not _PLACEHOLDER.search(value):
                    start = line_start + match.start(group)
                    yield start, start + len(value), "secret-keyword"


def _entropy_spans(text: str) -> Iterator[Span]:
    for match in _QUOTED.finditer(text):
        value = match.group(2)
        if _ENTROPY.calculate_shannon_entropy(value) > _ENTROPY.entropy_limit:
            yield match.start(2), match.end(2), "high-entropy-string"


def _lines(text: str) -> Iterator[tuple[int, str]]:
    start = 0
    for line in text.splitlines(keepends=True):
        yield start, line
        start += len(line)


def _occurrences(text: str, found: str, kind: str) -> Iterator[Span]:
    """Every place ``found`` occurs, widened to the whole token (a JWT's signature too)."""
    start = text.find(found)
    while start >= 0:
        end = start + len(found)
        while end < len(text) and _TOKEN_CHARS.match(text[end]):
            end += 1
        yield start, end, kind
        start = text.find(found, end)


def _merge(spans: list[Span]) -> list[Span]:
    """Overlapping spans become one, named after the widest."""
    merged: list[Span] = []
    for start, end, kind in sorted(spans, key=lambda s: (s[0], -(s[1] - s[0]))):
        if merged and start < merged[-1][1]:
            prev = merged[-1]
            merged[-1] = (prev[0], max(prev[1], end), prev[2])
        else:
            merged.append((start, end, kind))
    return merged
