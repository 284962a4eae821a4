"""Indexing packages in a child interpreter: failures and side effects are reported."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from fleetnb.truth import index_package


@pytest.fixture
def packages(tmp_path: Path) -> Path:
    """Tiny packages that misbehave on import, on a path only the child interpreter sees."""
    for name, body in {
        "noisy_pkg": "print('hello from import')\ndef greet(name, *, loud=False):\n    pass\n",
        "broken_pkg": "raise RuntimeError('cannot configure')\n",
        "exiting_pkg": "import os\nos._exit(3)\n",
        "slow_pkg": "import time\ntime.sleep(60)\n",
    }.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(textwrap.dedent(body))
    return tmp_path


def test_a_package_that_prints_is_indexed_and_reported(packages: Path) -> None:
    index = index_package("noisy_pkg", extra_path=[str(packages)])
    assert index.modules["noisy_pkg"].callables["greet"] == {
        "params": ["name", "loud"],
        "var_kw": False,
    }
    assert "printed output" in index.problems[0]


def test_a_package_whose_import_raises(packages: Path) -> None:
    index = index_package("broken_pkg", extra_path=[str(packages)])
    assert index.modules == {}
    assert "RuntimeError: cannot configure" in index.problems[0]


def test_a_package_that_kills_the_interpreter(packages: Path) -> None:
    index = index_package("exiting_pkg", extra_path=[str(packages)])
    assert "ended the interpreter (exit 3" in index.problems[0]


def test_a_package_that_hangs_times_out(packages: Path) -> None:
    index = index_package("slow_pkg", extra_path=[str(packages)], timeout=3)
    assert "took over 3 s" in index.problems[0]


def test_the_standard_library() -> None:
    index = index_package("json")
    assert "indent" in index.modules["json"].callables["dumps"]["params"]  # type: ignore[index]
    assert index.problems == ()


def test_a_wrapper_that_takes_more_keywords_than_it_wraps(tmp_path: Path) -> None:
    """functools.wraps copies the wrapped signature; the wrapper's **kwargs still counts."""
    (tmp_path / "wrapped_pkg.py").write_text(
        textwrap.dedent("""
        import functools
        def renamed(func):
            @functools.wraps(func)
            def wrapper(*args, old_name=None, **kwargs):
                return func(*args, **kwargs)
            return wrapper
        @renamed
        def fetch(new_name=None):
            pass
        """)
    )
    index = index_package("wrapped_pkg", extra_path=[str(tmp_path)])
    assert index.modules["wrapped_pkg"].callables["fetch"] == {
        "params": ["new_name"],
        "var_kw": True,
    }
