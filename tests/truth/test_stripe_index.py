"""The Stripe index read from the real, installed stripe package."""

from __future__ import annotations

import contextlib
import inspect
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import stripe

from fleetnb.truth import StripeIndex, load_stripe_index
from fleetnb.truth.stripe_index import stripe_version


@pytest.fixture(scope="module")
def index() -> StripeIndex:
    found = load_stripe_index()
    assert found is not None
    return found


def test_services_are_walked_through_their_subservice_maps(index: StripeIndex) -> None:
    customers = index.services["client.v1.customers"]
    assert {"create", "retrieve", "update", "delete", "list", "search"} <= set(customers.methods)
    assert "fetch" not in customers.methods
    assert customers.children["tax_ids"] == "client.v1.customers.tax_ids"
    assert "client.v1.checkout.sessions" in index.services
    assert "client.v2.core.events" in index.services


def test_verbs_and_paths_come_from_each_method(index: StripeIndex) -> None:
    methods = index.services["client.v1.customers"].methods
    assert (methods["create"].verb, methods["create"].path) == ("post", "/v1/customers")
    assert (methods["delete"].verb, methods["delete"].path) == (
        "delete",
        "/v1/customers/{customer}",
    )
    events = index.services["client.v2.core.events"].methods
    assert (events["retrieve"].verb, events["retrieve"].path) == ("get", "/v2/core/events/{id}")


def test_params_are_nested_typeddicts_with_required_keys(index: StripeIndex) -> None:
    create = index.services["client.v1.payment_intents"].methods["create"]
    assert create.params is not None
    shape = index.shapes[create.params]
    assert {"amount", "currency"} <= shape.required
    session = index.shapes[
        index.services["client.v1.checkout.sessions"].methods["create"].params or ""
    ]
    (line_item,) = session.fields["line_items"]
    assert {"price", "quantity"} <= set(index.shapes[line_item].fields)


def test_deprecated_top_level_services_alias_v1(index: StripeIndex) -> None:
    assert index.services["client"].children["customers"] == "client.v1.customers"
    assert "construct_event" in index.services["client"].others


def test_legacy_resources(index: StripeIndex) -> None:
    customer = index.services["stripe.Customer"]
    assert {"create", "retrieve", "modify", "list", "delete"} <= set(customer.methods)
    assert index.services["stripe"].children["checkout"] == "stripe.checkout"
    assert "Session" in index.services["stripe.checkout"].children


def test_the_index_matches_the_real_client_at_run_time(index: StripeIndex) -> None:
    client = stripe.StripeClient("sk_test_123")
    for attr in index.services["client.v1"].children:
        assert hasattr(client.v1, attr), attr
    with pytest.raises(AttributeError):
        client.v1.customers.fetch  # noqa: B018 - the very call agents invent


def test_cached_per_version_as_json(truth_cache: Path, index: StripeIndex) -> None:
    (path,) = truth_cache.glob(f"stripe-*-{stripe_version()}.json")
    again = StripeIndex.from_json(json.loads(path.read_text()))
    assert again.from_cache
    assert again.services.keys() == index.services.keys()
    assert index.build_seconds > 0


class _RecordingClient(stripe.HTTPClient):
    """A real stripe HTTP client that records each request instead of sending it."""

    name = "recording"

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, str]] = []

    def request(
        self, method: str, url: str, headers: Any, post_data: Any = None, *, _usage: Any = None
    ) -> tuple[str, int, dict[str, str]]:
        self.seen.append((method, url))
        return '{"id": "x", "object": "customer"}', 200, {}

    def request_stream(
        self, method: str, url: str, headers: Any, post_data: Any = None, *, _usage: Any = None
    ) -> tuple[Any, int, dict[str, str]]:
        self.seen.append((method, url))
        raise RuntimeError("no streams here")

    def close(self) -> None:
        return


def test_verbs_and_paths_read_from_source_match_the_requests_the_sdk_sends(
    index: StripeIndex,
) -> None:
    """Every synchronous service method, called for real, sends what the index says."""
    recorder = _RecordingClient()
    client = stripe.StripeClient("sk_test_123", http_client=recorder, max_network_retries=0)
    compared = 0
    for key, service in index.services.items():
        if not key.startswith("client.v"):
            continue
        target: Any = client
        for part in key.split(".")[1:]:
            target = getattr(target, part)
        for name, method in service.methods.items():
            if name.endswith("_async") or method.path is None:
                continue
            func = getattr(target, name)
            parameters = inspect.signature(func).parameters.values()
            args = [f"ID{i}" for i, p in enumerate(parameters) if p.kind == p.POSITIONAL_ONLY]
            needs_params = any(p.name == "params" and p.default is p.empty for p in parameters)
            recorder.seen.clear()
            with contextlib.suppress(Exception):  # the canned response fits few objects
                func(*args, *([{}] if needs_params else []))
            (verb, url), *_ = recorder.seen
            sent = re.sub(r"ID\d+", "{}", urlsplit(url).path)
            assert (verb, sent) == (method.verb, re.sub(r"\{[^}]*\}", "{}", method.path)), name
            compared += 1
    assert compared > 600
