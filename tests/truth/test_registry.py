"""Package existence from registries: a fake PyPI and npm on 127.0.0.1, a real cache."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fleetnb.truth.registry import Registry, npm_package_name
from tests.fakes.registry import FakeRegistry


@pytest.fixture
def registry() -> Iterator[FakeRegistry]:
    with (
        FakeRegistry(
            pypi=["requests", "pyyaml", "python-dateutil"], npm=["axios", "@supabase/supabase-js"]
        ) as fake,
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setenv("FLEETNB_PYPI_URL", fake.pypi_url)
        patch.setenv("FLEETNB_NPM_URL", fake.npm_url)
        patch.delenv("FLEETNB_OFFLINE", raising=False)
        yield fake


def test_published_and_invented_names(registry: FakeRegistry) -> None:
    lookups = Registry()
    assert lookups.exists("pypi", "requests") is True
    assert lookups.exists("pypi", "stripe_helpers") is False
    assert lookups.exists("npm", "@supabase/supabase-js") is True
    assert lookups.exists("npm", "supabase-auth-utils") is False


def test_import_names_are_asked_as_their_distributions(registry: FakeRegistry) -> None:
    lookups = Registry()
    assert lookups.exists("pypi", "yaml") is True  # published as PyYAML
    assert lookups.exists("pypi", "dateutil") is True  # python-dateutil, by its prefix
    assert (
        "/pypi/python-stripe_helpers/json" in registry.asked
        or lookups.exists("pypi", "stripe_helpers") is False
    )


def test_answers_are_cached_on_disk(registry: FakeRegistry) -> None:
    assert Registry().exists("pypi", "requests") is True
    assert Registry().exists("pypi", "nope_pkg") is False
    asked = len(registry.asked)
    assert Registry().exists("pypi", "requests") is True  # a new process would ask nothing
    assert Registry().exists("pypi", "nope_pkg") is False
    assert len(registry.asked) == asked


def test_offline_is_unknown_never_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeRegistry() as closed:
        url = closed.pypi_url
    monkeypatch.setenv("FLEETNB_PYPI_URL", url)  # nothing listens there now
    lookups = Registry(timeout=1.0)
    assert lookups.exists("pypi", "anything") is None
    assert lookups.exists("pypi", "other") is None  # and no second wait on a dead network
    assert Registry(offline=True).exists("npm", "never-asked") is None
    monkeypatch.setenv("FLEETNB_OFFLINE", "1")
    assert Registry().exists("npm", "never-asked") is None


def test_npm_package_names_from_import_specifiers() -> None:
    assert npm_package_name("@supabase/supabase-js/dist/module") == "@supabase/supabase-js"
    assert npm_package_name("lodash/fp") == "lodash"
    for local in ("./db", "../lib/x", "/abs", "node:fs", "fs", "https://esm.sh/x", "@/components"):
        assert npm_package_name(local) is None, local
