"""The labelled rows of the evaluation set, one YAML file per API and language.

A row is a small complete snippet as an agent would write it, the finding kinds a
correct checker reports on it (``expect``, empty for a real call), the line of the
call in question and where the label comes from (``oracle``, or the URL of a public
issue reporting the hallucination). ``oracle`` records the call in a form the
oracles read without parsing the snippet; ``static`` is False for a call whose
target or params are only known at run time; ``calls`` counts the API calls in the
snippet, the denominator of coverage.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "EVAL_DIR",
    "NPM_PACKAGES",
    "SUPABASE_REPO",
    "Row",
    "disagreements",
    "load_rows",
    "npm_dir",
    "npm_package",
]

EVAL_DIR = Path(__file__).parent
SUPABASE_REPO = EVAL_DIR / "supabase_repo"  # migrations the Supabase rows are checked inside
# npm packages the oracles read, unpacked by scripts/install-test-deps.
NPM_PACKAGES = {
    "stripe": "stripe@23.1.0",
    "auth-js": "@supabase/auth-js@2.119.1",
    "supabase-js": "@supabase/supabase-js@2.119.1",
}


@dataclasses.dataclass(frozen=True, slots=True)
class Row:
    id: str
    lang: str
    api: str
    kind: str
    code: str
    expect: tuple[str, ...]
    line: int
    source: str
    file: str
    oracle: dict[str, Any] = dataclasses.field(default_factory=dict)
    static: bool = True
    calls: int = 1
    end_line: int | None = None
    negative: str | None = None  # the hard-negative family of a real call

    @property
    def lines(self) -> range:
        """The lines of the call in question."""
        return range(self.line, (self.end_line or self.line) + 1)

    @property
    def invented(self) -> bool:
        return bool(self.expect)


def load_rows(pattern: str = "*.yaml") -> list[Row]:
    rows = []
    for path in sorted(EVAL_DIR.glob(pattern)):
        for data in yaml.safe_load(path.read_text(encoding="utf-8")):
            fields = dict(data)
            fields["expect"] = tuple(fields.get("expect") or ())
            rows.append(Row(file=path.name, **fields))
    return rows


def npm_dir() -> Path:
    """Where the npm packages are unpacked: ``FLEETNB_EVAL_NPM_DIR`` or a git-ignored cache."""
    configured = os.environ.get("FLEETNB_EVAL_NPM_DIR")
    return Path(configured) if configured else EVAL_DIR / ".npm"


def npm_package(name: str) -> Path:
    """The unpacked package directory; FileNotFoundError names the command that makes it."""
    folder = npm_dir() / name
    stamp = folder / ".version"
    unpacked = stamp.read_text(encoding="utf-8").strip() if stamp.exists() else None
    if unpacked != NPM_PACKAGES[name]:
        # A stale version would label rows from another API version than the Python SDK's.
        raise FileNotFoundError(
            f"{folder} holds {unpacked or 'nothing'}, not {NPM_PACKAGES[name]}; "
            "run scripts/install-test-deps"
        )
    return folder / "package"


def disagreements(pattern: str, label: Callable[[Row], Sequence[str]]) -> int:
    """An oracle's command line: print every row whose label the oracle disputes; 1 if any."""
    wrong = 0
    for row in load_rows(pattern):
        found = list(label(row))
        if sorted(found) != sorted(row.expect):
            wrong += 1
            print(f"{row.id}: oracle says {found}, row says {list(row.expect)}")
    print(f"{wrong} disagreement(s)")
    return 1 if wrong else 0
