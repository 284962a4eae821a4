"""The Binder set-up: repo2docker installs fleetnb, and the badge opens a real notebook."""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_post_build_installs_fleetnb_from_the_repository_root() -> None:
    post_build = ROOT / "binder" / "postBuild"
    assert os.access(post_build, os.X_OK), "repo2docker runs postBuild only when executable"
    script = post_build.read_text()
    assert 'cd "$(dirname "$0")/.."' in script
    assert re.search(r"pip install .*\s\.$", script, re.MULTILINE)


def test_the_binder_badge_opens_the_quickstart() -> None:
    readme = (ROOT / "README.md").read_text()
    badge = re.search(r"https://mybinder\.org/v2/gh/[^)\s]+", readme)
    assert badge, "README.md has no Binder badge"
    path = re.search(r"urlpath=lab/tree/([^&)\s]+)", badge.group())
    assert path, badge.group()
    assert (ROOT / path.group(1)).is_file(), badge.group()


def test_binder_pins_the_checked_jupyterlab() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    for line in (ROOT / "binder" / "requirements.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            assert f'"{line}"' in pyproject, f"{line} differs from the test extra's pin"
