"""What the Python extractor reads from code, statically."""

from __future__ import annotations

import pytest

from fleetnb.truth.calls import STRIPE_CLIENT
from fleetnb.truth.extract_python import extract_python
from fleetnb.truth.routes import HOLE


def test_aliases_are_followed() -> None:
    calls = extract_python(
        "import stripe as s\n"
        "from stripe import StripeClient as SC\n"
        "client = SC('k')\n"
        "alt: s.StripeClient = s.StripeClient('k')\n"
        "refunds = alt.v1.refunds\n"
        "client.v1.customers.create(params={'email': 'x'})\n"
        "refunds.create(params={'charge': 'ch'})\n"
        "s.Customer.create(email='x')\n"
    )
    seen = [(c.root, c.chain) for c in calls.module_calls if c.chain[-1] == "create"]
    assert seen == [
        (STRIPE_CLIENT, ("v1", "customers", "create")),
        (STRIPE_CLIENT, ("v1", "refunds", "create")),
        ("stripe", ("Customer", "create")),
    ]


def test_rebinding_a_name_forgets_the_alias() -> None:
    calls = extract_python(
        "from stripe import StripeClient\nclient = StripeClient('k')\nclient = object()\n"
        "client.v1.customers.fetch()\n"
    )
    assert [c.chain for c in calls.module_calls] == [("StripeClient",)]


def test_nested_params_and_spreads() -> None:
    (call,) = extract_python(
        "import stripe\nc = stripe.StripeClient('k')\n"
        "c.v1.customers.create(params={'address': {'city': 'x'}, **more})\n"
    ).module_calls[1:]
    assert call.params is not None
    assert not call.params.complete
    address = call.params.keys["address"].child
    assert address is not None
    assert list(address.keys) == ["city"]


def test_urls_from_literals_fstrings_constants_and_base_urls() -> None:
    calls = extract_python(
        "import httpx, requests\n"
        "BASE = 'https://api.test'\n"
        "httpx.get(f'{BASE}/v1/items/{item_id}')\n"
        "requests.request('PATCH', BASE + '/v1/items', json={'a': {'b': 1}})\n"
        "client = httpx.AsyncClient(base_url=BASE)\n"
        "client.post('/v1/items', data={'line_items[0][price]': 'p'})\n"
        "httpx.request(verb, BASE)\n"
        "httpx.get(url)\n"
        "httpx.Timeout(5)\n"
    )
    assert [(c.verb, c.url) for c in calls.http_calls] == [
        ("get", f"https://api.test/v1/items/{HOLE}"),
        ("patch", "https://api.test/v1/items"),
        ("post", "https://api.test/v1/items"),
    ]
    line_items = calls.http_calls[2].keys.keys["line_items"].child
    assert line_items is not None
    assert list(line_items.keys) == ["price"]
    assert len(calls.unresolved) == 2


def test_code_that_does_not_parse_raises_syntax_error() -> None:
    with pytest.raises(SyntaxError):
        extract_python("def f(:\n")


def test_functions_see_module_clients_and_parameters_shadow_them() -> None:
    calls = extract_python(
        "import stripe\n"
        "def charge():\n"
        "    client.v1.customers.fetch('c')\n"
        "def other(client):\n"
        "    client.v1.customers.fetch('c')\n"
        "    local = stripe.StripeClient('k')\n"
        "for client in clients:\n"
        "    client.anything()\n"
        "client = stripe.StripeClient('k')\n"
        "local.v1.customers.list()\n"
    )
    assert [(c.line, c.chain) for c in calls.module_calls if c.root == STRIPE_CLIENT] == [
        (3, ("v1", "customers", "fetch")),
    ]


def test_clients_kept_on_self_are_followed_across_methods() -> None:
    calls = extract_python(
        "import httpx\nfrom stripe import StripeClient\n"
        "class Billing:\n"
        "    def __init__(self, key):\n"
        "        self.stripe = StripeClient(key)\n"
        "        self.http = httpx.Client(base_url='https://api.stripe.com')\n"
        "    def find(self, cid):\n"
        "        self.http.get(f'/v1/customers/{cid}')\n"
        "        return self.stripe.v1.customers.fetch(cid)\n"
    )
    assert [c.chain for c in calls.module_calls if c.root == STRIPE_CLIENT] == [
        ("v1", "customers", "fetch"),
    ]
    assert [c.url for c in calls.http_calls] == [f"https://api.stripe.com/v1/customers/{HOLE}"]


def test_parameters_annotated_as_clients_are_clients() -> None:
    calls = extract_python(
        "import httpx\nimport stripe\nfrom stripe import StripeClient\n"
        "def charge(client: StripeClient, other: 'stripe.StripeClient', n: int) -> None:\n"
        "    client.v1.customers.fetch('c')\n"
        "    other.v1.refunds.create()\n"
        "    n.bit_length()\n"
        "async def ping(http: httpx.AsyncClient) -> None:\n"
        "    await http.get('https://api.stripe.com/v1/balance')\n"
    )
    assert [c.chain for c in calls.module_calls if c.root == STRIPE_CLIENT] == [
        ("v1", "customers", "fetch"),
        ("v1", "refunds", "create"),
    ]
    assert [(c.verb, c.url) for c in calls.http_calls] == [
        ("get", "https://api.stripe.com/v1/balance")
    ]
