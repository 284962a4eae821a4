"""Imports of packages that exist nowhere: real files, a fake registry on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from fleetnb.truth import check_paths
from tests.fakes.registry import FakeRegistry


@pytest.fixture
def registry() -> Iterator[FakeRegistry]:
    published = FakeRegistry(pypi=["requests_oauth"], npm=["axios", "left-pad"])
    with published, pytest.MonkeyPatch.context() as patch:
        patch.setenv("FLEETNB_PYPI_URL", published.pypi_url)
        patch.setenv("FLEETNB_NPM_URL", published.npm_url)
        patch.delenv("FLEETNB_OFFLINE")
        yield published


def _warnings(path: Path) -> list[tuple[str, int, str | None]]:
    report = check_paths([path])
    assert all(f.severity == "warning" for f in report.findings)
    return [(f.api, f.line, f.suggestion) for f in report.findings if f.kind == "unknown_package"]


def test_python_imports_that_exist_nowhere(registry: FakeRegistry, tmp_path: Path) -> None:
    (tmp_path / "billing_utils.py").write_text("X = 1\n")  # the project's own module
    (tmp_path / "services").mkdir()
    app = tmp_path / "app.py"
    app.write_text(
        "import os\n"
        "import stripe\n"  # installed
        "import stripe_helpers\n"  # published nowhere
        "import requests_oauth\n"  # not installed, but published
        "import billing_utils\n"
        "from services import mailer\n"
        "try:\n"
        "    import ujsonx\n"  # optional: the code expects it may be missing
        "except ImportError:\n"
        "    ujsonx = None\n"
    )
    assert _warnings(app) == [("stripe_helpers", 3, "stripe")]


def test_typescript_imports_that_exist_nowhere(registry: FakeRegistry, tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text(json.dumps({"dependencies": {"lodash": "^4"}}))
    (tmp_path / "node_modules" / "@acme" / "ui").mkdir(parents=True)
    (tmp_path / "lib").mkdir()
    app = tmp_path / "app.ts"
    app.write_text(
        "import fs from 'node:fs';\n"
        "import axios from 'axios';\n"
        "import { signIn } from 'supabase-auth-utils';\n"
        "import _ from 'lodash';\n"
        "import { Button } from '@acme/ui/button';\n"
        "import { db } from './db';\n"
        "import { helper } from 'lib/helper';\n"  # a baseUrl import of the project's own
        "axios.get('https://example.com');\n"
    )
    assert _warnings(app) == [("supabase-auth-utils", 3, None)]
    assert "/npm/lodash" not in registry.asked  # declared in package.json: never asked


def test_offline_nothing_is_flagged(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text("import stripe_helpers\n")
    assert _warnings(app) == []  # FLEETNB_OFFLINE=1 for the whole test run
