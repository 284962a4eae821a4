"""Checking code against the real Stripe SDK, OpenAPI specs and installed packages."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fleetnb.truth import CheckReport, check_paths, check_source, load_stripe_index

STRIPE = "from stripe import StripeClient\nclient = StripeClient('sk_test_123')\n"


def _kinds(report: CheckReport) -> list[tuple[str, str, str | None]]:
    return [(f.kind, f.severity, f.suggestion) for f in report.findings]


def test_invented_method_suggests_the_real_one() -> None:
    report = check_source(STRIPE + "client.v1.customers.fetch('cus_123')\n", path="app.py")
    (finding,) = report.findings
    assert (finding.kind, finding.suggestion) == ("unknown_method", "retrieve")
    assert (finding.path, finding.line, finding.column) == ("app.py", 3, 1)
    assert finding.api == "client.v1.customers.fetch"
    assert report.calls_checked == 1


def test_misspelt_param_and_nested_key() -> None:
    code = STRIPE + (
        "client.v1.customers.create(params={'emial': 'a@b.c',\n"
        "    'address': {'line1': 'x', 'cty': 'Paris'}})\n"
    )
    report = check_source(code)
    assert _kinds(report) == [
        ("unknown_param", "error", "email"),
        ("unknown_param", "error", "city"),
    ]
    assert (report.findings[1].line, "address.cty" in report.findings[1].message) == (4, True)


def test_list_of_dicts_and_required_keys() -> None:
    code = STRIPE + (
        "client.v1.payment_intents.create(params={'amount': 100})\n"
        "client.v1.checkout.sessions.create(params={'mode': 'payment',\n"
        "    'line_items': [{'price': 'price_1', 'quantity': 1}, {'prise': 'price_2'}]})\n"
    )
    found = {(f.kind, f.message.split("`")[-2]) for f in check_source(code).findings}
    assert found == {
        ("missing_required_param", "currency"),
        ("unknown_param", "line_items.prise"),
    }


def test_valid_calls_are_not_flagged() -> None:
    code = STRIPE + (
        "import stripe\n"
        "customers = client.v1.customers\n"
        "customers.create(params={'email': 'a@b.c', 'metadata': {'any': 'key'}})\n"
        "customers.retrieve('cus_1', params={'expand': ['default_source']})\n"
        "client.v2.core.events.list(params={'object_id': 'x'})\n"
        "client.v2.core.event_destinations.create(params={'name': 'n', 'event_payload': 'thin',"
        " 'type': 'webhook_endpoint', 'enabled_events': ['a']})\n"
        "client.customers.list()\n"  # deprecated alias of client.v1.customers, still valid
        "client.v1.customers.list_async()\n"
        "stripe.Customer.create(email='a@b.c', api_key='sk_test_1')\n"
        "stripe.checkout.Session.create(mode='payment',"
        " line_items=[{'price': 'p', 'quantity': 1}])\n"
        "client.construct_event(payload, header, secret)\n"
        "client.v1.customers.list().auto_paging_iter()\n"
    )
    report = check_source(code)
    assert report.findings == []
    assert report.calls_checked == 10


def test_legacy_resource_style() -> None:
    code = "import stripe as s\ns.Customer.create(emial='a@b.c')\ns.Customer.fetch('cus_1')\n"
    assert _kinds(check_source(code)) == [
        ("unknown_param", "error", "email"),
        ("unknown_method", "error", "retrieve"),
    ]


def test_api_params_as_keywords_are_flagged() -> None:
    report = check_source(STRIPE + "client.v1.customers.create(email='a@b.c')\n")
    assert _kinds(report) == [("unknown_param", "error", "params")]


def test_unresolvable_calls_are_counted_never_flagged() -> None:
    code = STRIPE + (
        "getattr(client.v1, name).create()\n"
        "client.v1.customers.create(params=built_elsewhere)\n"
        "client.v1.customers.create(params={**base, 'email': 'x'})\n"
        "services[0].create()\n"
    )
    report = check_source(code)
    assert report.findings == []
    assert report.calls_unresolved == 1
    assert report.calls_checked == 2


def test_raw_http_to_stripe() -> None:
    code = (
        "import httpx, requests\n"
        "API = 'https://api.stripe.com'\n"
        "httpx.post(f'https://api.stripe.com/v1/customers/{cid}/fetch')\n"
        "httpx.post('https://api.stripe.com/v1/refunds/create')\n"
        "requests.delete(API + '/v1/charges')\n"
        "httpx.post(f'{API}/v1/customers/{cid}', data={'email': 'x'})\n"
        "httpx.post('https://api.stripe.com/v1/checkout/sessions',"
        " data={'mode': 'payment', 'line_items[0][price]': 'p', 'expand[]': 'x'})\n"
        "httpx.get('https://api.stripe.com/v1/customers?limit=3&emial=x')\n"
        "httpx.get(url)\n"
        "httpx.get('https://example.org/anything')\n"
    )
    report = check_source(code)
    assert [(f.line, f.kind, f.severity) for f in report.findings] == [
        (3, "unknown_endpoint", "error"),
        (4, "unknown_endpoint", "warning"),
        (5, "wrong_verb", "error"),
        (8, "unknown_param", "error"),
    ]
    assert report.findings[0].suggestion == "/v1/customers/{customer}"
    assert report.calls_checked == 6
    assert report.calls_unresolved == 2  # a URL in a variable, a host no index knows


def test_raw_http_against_an_openapi_spec(billing_spec: Path) -> None:
    code = (
        "import httpx\n"
        "with httpx.Client(base_url='https://api.billing.test/v1') as http:\n"
        "    http.post('/customers', data={'email': 'a', 'address[cty]': 'x'})\n"
        "    http.post('/customers', data={'name': 'n'})\n"
        "    http.get('/customers/search?query=x')\n"
        "    http.put(f'/customers/{cid}')\n"
        "    http.post('/checkout/sessions', data={'mode': 'payment',"
        " 'line_items[0][price]': 'p', 'line_items[0][quantity]': 1, 'expand[]': 'a',"
        " 'metadata[order]': '7'})\n"
        "    http.delete(f'/customers/{cid}')\n"
        "    http.get('/refunds/create')\n"
    )
    report = check_source(code, specs=[billing_spec])
    assert [(f.line, f.kind, f.severity, f.suggestion) for f in report.findings] == [
        (3, "unknown_param", "error", "city"),
        (4, "missing_required_param", "error", None),
        (6, "wrong_verb", "error", None),
        (9, "unknown_endpoint", "warning", "/refunds"),
    ]


def test_installed_packages_by_introspection() -> None:
    code = "import os\nimport os.path\nos.makedirs('d', exist_ok=True, mod=1)\nos.path.jion('a')\n"
    assert _kinds(check_source(code)) == [
        ("unknown_param", "error", "mode"),
        ("unknown_method", "error", "join"),
    ]


def test_bad_inputs_are_problems_not_crashes(tmp_path: Path, billing_spec: Path) -> None:
    (tmp_path / "broken.py").write_text("def broken(:\n")
    (tmp_path / "blob.py").write_bytes(b"\x00\x01\x02" * 100)
    (tmp_path / "latin.py").write_bytes(b"x = '\xe9'\n")
    (tmp_path / "huge.py").write_text("x = 1\n" * (10 * 1024 * 1024 // 6 + 1))
    (tmp_path / "bad_spec.yaml").write_text("openapi: 3.0.0\n")
    (tmp_path / "good.py").write_text(STRIPE + "client.v1.customers.fetch('c')\n")
    os.mkfifo(tmp_path / "pipe.py")  # reading it would block: it must not be opened
    report = check_paths([tmp_path, tmp_path / "missing.py"], specs=[tmp_path / "bad_spec.yaml"])
    text = "\n".join(report.problems)
    for expected in ("does not parse", "binary content", "not UTF-8", "byte limit",
                     "no `paths`", "no such file", "not a regular file"):  # fmt: skip
        assert expected in text
    assert _kinds(report) == [("unknown_method", "error", "retrieve")]


def test_other_languages_are_reported_until_they_have_an_extractor(tmp_path: Path) -> None:
    (tmp_path / "app.rb").write_text("Net::HTTP.get(URI('https://x'))\n")
    assert "no extractor" in check_paths([tmp_path / "app.rb"]).problems[0]
    assert check_paths([tmp_path]).problems == []  # walking a directory skips them quietly
    assert "no extractor" in check_source("x", "ruby").problems[0]


def test_common_real_world_stripe_calls_are_not_flagged() -> None:
    code = (
        "import stripe\nfrom stripe import StripeClient\n"
        "stripe.api_key = 'sk_test'\n"
        "stripe.Webhook.construct_event(payload, sig, secret)\n"
        "stripe.PaymentIntent.create(amount=100, currency='usd',"
        " automatic_payment_methods={'enabled': True})\n"
        "stripe.checkout.Session.retrieve('cs_1', expand=['line_items'])\n"
        "stripe.Subscription.modify('sub_1', items=[{'id': 'si_1', 'price': 'p'}])\n"
        "stripe.billing_portal.Session.create(customer='cus_1', return_url='x')\n"
        "stripe.Customer.list(limit=3).auto_paging_iter()\n"
        "stripe.Customer.list_payment_methods('cus_1', type='card')\n"
        "stripe.PaymentMethod.attach('pm_1', customer='cus_1')\n"
        "stripe.Price.create(product='p', unit_amount=1, currency='usd',"
        " recurring={'interval': 'month'})\n"
        "stripe.Account.create(type='express',"
        " capabilities={'card_payments': {'requested': True}})\n"
        "stripe.Product.search(query='active:\\'true\\'')\n"
        "stripe.StripeError('x')\n"
        "client = StripeClient('sk')\n"
        "client.v1.subscriptions.update('sub_1', params={'items': [{'id': 'si', 'price': 'p'}]})\n"
        "client.v1.invoices.create_preview(params={'customer': 'c'})\n"
        "client.v1.payment_methods.attach('pm', {'customer': 'c'})\n"
        "client.v1.test_helpers.test_clocks.create(params={'frozen_time': 1})\n"
        "client.v2.billing.meter_events.create(params={'event_name': 'e', 'payload': {'a': 'b'}})\n"
        "client.parse_event_notification(payload, sig, secret)\n"
        "client.v1.customers.list(options={'stripe_account': 'acct'})\n"
    )
    report = check_source(code)
    assert report.findings == []
    assert (report.calls_checked, report.calls_unresolved) == (19, 0)


def test_calls_the_installed_sdk_no_longer_has() -> None:
    """stripe 16 dropped the upcoming-invoice call and renamed payment_method_types."""
    code = (
        "import stripe\nstripe.Invoice.upcoming(customer='cus_1')\n"
        "stripe.SetupIntent.create(payment_method_types=['card'])\n"
    )
    assert _kinds(check_source(code)) == [
        ("unknown_method", "error", None),
        ("unknown_param", "error", "allowed_payment_method_types"),
    ]


def test_standard_library_submodules_and_classes_are_not_flagged() -> None:
    code = (
        "import xml.dom.minidom\nimport email.mime.text\nfrom os import path\nimport datetime\n"
        "import json, subprocess, collections\n"
        "xml.dom.minidom.parseString('<a/>')\n"
        "email.mime.text.MIMEText('x', _subtype='plain')\n"
        "path.join('a', 'b')\n"
        "datetime.datetime.now(tz=None)\n"
        "datetime.timedelta(days=1, hours=2)\n"
        "json.loads('{}', object_hook=dict)\n"
        "subprocess.run(['ls'], capture_output=True, check=True, text=True)\n"
        "collections.Counter('abc').most_common(1)\n"
        "datetime.datetime.fromisoformat('2020-01-01')\n"
    )
    report = check_source(code)
    assert report.findings == []
    assert report.calls_checked == 9


def test_computed_base_urls_are_checked_only_where_the_spec_knows_the_path(
    billing_spec: Path,
) -> None:
    code = (
        "import os, httpx\n"
        "BASE = os.environ['BILLING_URL']\n"
        "httpx.post(f'{BASE}/customers', data={'emial': 'x'})\n"
        "httpx.get(f'{BASE}/v1/refunds/re_1')\n"
        "httpx.get(f'{BASE}/health')\n"
        "client = httpx.Client(base_url=os.environ['BILLING_URL'])\n"
        "client.delete('/refunds/re_1')\n"
    )
    report = check_source(code, specs=[billing_spec])
    assert [(f.line, f.kind, f.suggestion) for f in report.findings] == [
        (3, "missing_required_param", None),
        (3, "unknown_param", "email"),
        (7, "wrong_verb", "GET"),
    ]
    assert (report.calls_checked, report.calls_unresolved) == (3, 1)


def test_names_the_code_expects_may_be_missing_are_not_flagged() -> None:
    """Real library code, run through the check, left these: none is an invented API."""
    code = (
        "import sys, os, base64, numbers, select\n"
        "if sys.platform == 'win32':\n"
        "    os.startfile('x')\n"
        "if hasattr(base64, 'decodebytes'):\n"
        "    base64.decodebytes(b'')\n"
        "else:\n"
        "    base64.decodestring(b'')\n"
        "try:\n"
        "    os.chflags('p', 0)\n"
        "except AttributeError:\n"
        "    pass\n"
        "x = select.kqueue() if sys.platform == 'darwin' else None\n"
        "numbers.Number.register(int)\n"  # ABCMeta.register, a metaclass method
        "os._private_helper()\n"
        "def f(lines):\n"
        "    os, rest = lines\n"
        "    os.anything()\n"
        "    return [os.also(x) for os in lines]\n"
        "def wait_pid_kqueue(pid):\n"  # named for the platforms it runs on
        "    return select.kqueue()\n"
        "import typing\n"
        "if typing.TYPE_CHECKING:\n"
        "    T = typing.TypeVar('T', default=str)\n"  # never runs; newer typing stubs
        "try:\n"
        "    os.invented_call()\n"
        "except Exception:\n"  # too broad to say the code expects the name to be missing
        "    pass\n"
    )
    report = check_source(code)
    assert [(f.line, f.kind) for f in report.findings] == [(25, "unknown_method")]


def test_a_stripe_index_that_cannot_be_built_is_a_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broken stripe install (its import raises) leaves Stripe calls unresolved, no crash."""
    broken = tmp_path / "shadow" / "stripe"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise ImportError('half-installed stripe')\n")
    monkeypatch.setenv("PYTHONPATH", str(broken.parent))  # seen by the child that builds
    monkeypatch.setenv("FLEETNB_CACHE_DIR", str(tmp_path / "cold-cache"))
    load_stripe_index.cache_clear()
    try:
        report = check_source(STRIPE + "client.v1.customers.fetch('cus_123')\n")
    finally:
        load_stripe_index.cache_clear()  # later tests load the good index again
    assert report.findings == []
    assert report.calls_unresolved == 1
    assert "half-installed stripe" in report.problems[0]


def test_params_passed_positionally_after_the_ids() -> None:
    code = STRIPE + (
        "client.v1.payment_intents.create(params_built_elsewhere)\n"
        "client.v1.customers.tax_ids.create('cus_1')\n"
        "client.v1.customers.update(cid, {'emial': 'x'})\n"
        "client.v1.customers.retrieve(cid)\n"
        "client.v1.customers.update(*args)\n"
    )
    found = [(f.line, f.kind, f.message.split("`")[-2]) for f in check_source(code).findings]
    assert found == [
        (4, "missing_required_param", "type"),
        (4, "missing_required_param", "value"),
        (5, "unknown_param", "emial"),
    ]


def test_legacy_named_arguments_are_not_params() -> None:
    code = (
        "import stripe\n"
        "stripe.Customer.retrieve(id='cus_1', expand=['default_source'])\n"
        "stripe.Customer.modify('cus_1', emial='x')\n"
    )
    assert [(f.line, f.suggestion) for f in check_source(code).findings] == [(3, "email")]
