"""Checking TypeScript and JavaScript against the real Stripe SDK and OpenAPI specs."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from fleetnb.truth import CheckReport, check_paths, check_source

STRIPE = "import Stripe from 'stripe';\nconst stripe = new Stripe(process.env.STRIPE_KEY!);\n"


def _kinds(report: CheckReport) -> list[tuple[int, str, str | None]]:
    return [(f.line, f.kind, f.suggestion) for f in report.findings]


def _ts(code: str, specs: Sequence[Path] = ()) -> CheckReport:
    return check_source(code, "typescript", path="app.ts", specs=specs)


def test_invented_stripe_node_methods_are_named_as_written() -> None:
    report = _ts(
        STRIPE + "stripe.customers.fetch('cus_123');\n"
        "stripe.paymentIntent.create({ amount: 1, currency: 'usd' });\n"
        "stripe.v2.core.evnts.list();\n"
    )
    fetch, intent, events = report.findings
    assert (fetch.kind, fetch.suggestion, fetch.api) == (
        "unknown_method",
        "retrieve",
        "stripe.customers.fetch",
    )
    assert (fetch.path, fetch.line, fetch.column) == ("app.ts", 3, 1)
    assert fetch.message == "`stripe.customers` has no method or attribute `fetch`"
    assert (intent.suggestion, intent.message) == (
        "paymentIntents",  # the Python index's payment_intents, as stripe-node spells it
        "`stripe` has no method or attribute `paymentIntent`",
    )
    assert (events.suggestion, events.message) == (
        "events",
        "`stripe.v2.core` has no method or attribute `evnts`",
    )
    assert report.calls_checked == 3


def test_invented_nested_and_missing_params() -> None:
    report = _ts(
        STRIPE + "await stripe.customers.create({ emial: 'a@b.c',\n"
        "  address: { line1: 'x', cty: 'Paris' } });\n"
        "stripe.paymentIntents.create({ amount: 100 });\n"
        "stripe.customers.update('cus_1', { nmae: 'n' });\n"
    )
    assert _kinds(report) == [
        (3, "unknown_param", "email"),
        (4, "unknown_param", "city"),
        (5, "missing_required_param", None),
        (6, "unknown_param", "name"),
    ]
    assert report.findings[1].message == (
        "`stripe.customers.create` does not accept the parameter `address.cty`"
    )
    assert report.findings[2].message == (
        "`stripe.paymentIntents.create` requires the parameter `currency`"
    )


def test_valid_stripe_node_calls_are_not_flagged() -> None:
    code = STRIPE + (
        "const customers = stripe.customers;\n"
        "await customers.create({ email: 'a@b.c', metadata: { any: 'key' } });\n"
        "await stripe.customers.retrieve('cus_1', { expand: ['default_source'] });\n"
        "await stripe.customers.del('cus_1');\n"
        "await stripe.customers.createTaxId('cus_1', { type: 'eu_vat', value: 'x' });\n"
        "await stripe.customers.listPaymentMethods('cus_1', { type: 'card' });\n"
        "await stripe.paymentIntents.create({ amount: 1, currency: 'usd',"
        " automatic_payment_methods: { enabled: true } });\n"
        "await stripe.checkout.sessions.create({ mode: 'payment',"
        " line_items: [{ price: 'price_1', quantity: 1 }] });\n"
        "await stripe.subscriptions.update('sub_1', { items: [{ id: 'si', price: 'p' }] });\n"
        "await stripe.v2.core.events.list({ object_id: 'x' });\n"
        "await stripe.billingPortal.sessions.create({ customer: 'cus_1', return_url: 'x' });\n"
        "stripe.customers.list({ limit: 3 }).autoPagingEach((c) => console.log(c.id));\n"
        "stripe.webhooks.constructEvent(body, signature, secret);\n"
        "await stripe.customers.create(params);\n"
        "await stripe.customers.create({ ...base, email: 'x' });\n"
        "await stripe.customers.list({ stripeAccount: 'acct_1' });\n"  # request options
        "await stripe.refunds.create({ charge: 'ch_1' }, { idempotencyKey: 'k' });\n"
    )
    report = _ts(code)
    assert report.findings == []
    assert (report.calls_checked, report.calls_unresolved) == (15, 0)  # constructEvent is a helper


def test_stripe_node_names_the_python_client_spells_differently() -> None:
    """Every method of stripe-node 23's resources maps onto stripe-python's client but one;
    these are the spellings that needed more than camelCase to snake_case."""
    code = STRIPE + (
        "await stripe.threeDSecure.authentications.list();\n"  # three_d_secure
        "await stripe.oauth.token({ grant_type: 'authorization_code', code: 'c' });\n"  # no v1
        "await stripe.sources.listSourceTransactions('src_1');\n"  # sources.transactions.list
        "await stripe.creditNotes.listPreviewLineItems({ invoice: 'in_1' });\n"
        "await stripe.accounts.createExternalAccount('acct_1', { external_account: 'tok' });\n"
        "await stripe.oauth.tokn({});\n"
    )
    report = _ts(code)
    assert [(f.line, f.message, f.suggestion) for f in report.findings] == [
        (8, "`stripe.oauth` has no method or attribute `tokn`", "token")
    ]
    assert report.calls_checked == 6


def test_names_stripe_node_spells_otherwise_are_flagged() -> None:
    """The Python names exist, but stripe-node has none of these spellings."""
    code = STRIPE + (
        "await stripe.customers.delete('cus_1');\n"
        "await stripe.payment_intents.create({ amount: 1, currency: 'usd' });\n"
        "await stripe.customers.createTaxIds('cus_1', { type: 'eu_vat', value: 'x' });\n"
        "await stripe.customers.listPaymentMethod('cus_1');\n"
        "await stripe.checkout.sessions.lineItems('cs_1');\n"
    )
    report = _ts(code)
    assert [(f.line, f.kind, f.message.split("`")[-2], f.suggestion) for f in report.findings] == [
        (3, "unknown_method", "delete", "del"),
        (4, "unknown_method", "payment_intents", "paymentIntents"),
        (5, "unknown_method", "createTaxIds", "createTaxId"),  # plural only to list
        (6, "unknown_method", "listPaymentMethod", "listPaymentMethods"),
        (7, "unknown_method", "lineItems", "listLineItems"),
    ]
    assert report.findings[4].message == (
        "`stripe.checkout.sessions` has no method or attribute `lineItems`"
    )
    assert report.calls_checked == 5


def test_fetch_and_axios_to_stripe() -> None:
    code = (
        "import axios from 'axios';\n"
        "const API = 'https://api.stripe.com';\n"
        "await fetch(`${API}/v1/customers/${cid}/fetch`, { method: 'POST' });\n"
        "await fetch('https://api.stripe.com/v1/refunds/create', { method: 'POST' });\n"
        "await axios.delete(API + '/v1/charges');\n"
        "await fetch(`${API}/v1/customers/${cid}`, { method: 'POST',"
        " body: new URLSearchParams({ email: 'x' }) });\n"
        "await axios.post(`${API}/v1/checkout/sessions`, new URLSearchParams({"
        " mode: 'payment', 'line_items[0][price]': 'p', 'expand[]': 'x' }));\n"
        "await fetch('https://api.stripe.com/v1/customers?limit=3&emial=x');\n"
        "await fetch(url);\n"
        "await fetch('https://example.org/anything');\n"
    )
    report = _ts(code)
    assert [(f.line, f.kind, f.severity) for f in report.findings] == [
        (3, "unknown_endpoint", "error"),
        (4, "unknown_endpoint", "warning"),
        (5, "wrong_verb", "error"),
        (8, "unknown_param", "error"),
    ]
    assert report.findings[0].suggestion == "/v1/customers/{customer}"
    assert report.findings[0].api == "POST https://api.stripe.com/v1/customers/{…}/fetch"
    assert (report.calls_checked, report.calls_unresolved) == (6, 2)


def test_raw_http_against_an_openapi_spec(billing_spec: Path) -> None:
    code = (
        "import axios from 'axios';\n"
        "const http = axios.create({ baseURL: 'https://api.billing.test/v1' });\n"
        "await http.post('/customers', new URLSearchParams({ email: 'a', 'address[cty]': 'x' }));\n"
        "await http.post('/customers', { name: 'n' });\n"
        "await http.get('/customers/search?query=x');\n"
        "await http.put(`/customers/${cid}`);\n"
        "await http.post('/checkout/sessions', { mode: 'payment',"
        " line_items: [{ price: 'p', quantity: 1 }], expand: ['a'], metadata: { order: '7' } });\n"
        "await http.delete(`/customers/${cid}`);\n"
        "await http.get('/refunds/create');\n"
        "const BASE = process.env.BILLING_URL;\n"
        "await fetch(`${BASE}/refunds`, { method: 'POST', body: JSON.stringify({ amout: 1 }) });\n"
    )
    report = _ts(code, specs=[billing_spec])
    assert [(f.line, f.kind, f.severity, f.suggestion) for f in report.findings] == [
        (3, "unknown_param", "error", "city"),
        (4, "missing_required_param", "error", None),
        (6, "wrong_verb", "error", None),
        (9, "unknown_endpoint", "warning", "/refunds"),
        (11, "missing_required_param", "error", None),
        (11, "unknown_param", "error", "amount"),
    ]


def test_supabase_records_are_counted_not_crashed_on() -> None:
    code = (
        "import { createClient } from '@supabase/supabase-js';\n"
        "const supabase = createClient(url, key);\n"
        "await supabase.from('posts').select('id, title').eq('status', 'x');\n"
        "await supabase.auth.signInWithPassword({ email, password });\n"
        "await supabase.storage.from('avatars').upload(path, file);\n"
    )
    report = _ts(code)
    assert report.findings == []
    assert report.calls_checked + report.calls_unresolved >= 2  # every client call is counted


def test_syntax_errors_are_a_problem_and_the_rest_is_checked() -> None:
    code = STRIPE + "const x = ;\nstripe.customers.fetch('cus_1');\nif (a { b }\n"
    report = _ts(code)
    assert report.problems == [
        "app.ts:3: 2 syntax error(s) in typescript; only the calls in the parts that parse "
        "were checked"
    ]
    assert _kinds(report) == [(4, "unknown_method", "retrieve")]


def test_minified_javascript_of_a_megabyte(tmp_path: Path) -> None:
    unit = (
        "var s=require('stripe')('sk');function f(n){return s.customers.fetch('cus_'+n)"
        ".then(function(c){return fetch('https://api.stripe.com/v1/customers/'+n,"
        "{method:'POST',body:JSON.stringify({emial:c.email})})})};"
    )
    (tmp_path / "bundle.min.js").write_text(unit * (1_000_000 // len(unit)))
    report = check_paths([tmp_path])
    copies = 1_000_000 // len(unit)
    assert report.problems == []
    assert len(report.findings) == 2 * copies  # each copy: the invented method, the invented key
    assert {(f.line, f.kind) for f in report.findings} == {
        (1, "unknown_method"),
        (1, "unknown_param"),
    }


def test_every_suffix_is_read_with_its_grammar(tmp_path: Path) -> None:
    call = "fetch('https://api.stripe.com/v1/refunds/create', { method: 'POST' });\n"
    component = "export const Pay = () => <button onClick={() => " + call.rstrip(";\n") + "} />;\n"
    files = {
        "a.ts": "const n: number = 1;\n" + call,
        "b.mts": call,
        "c.cts": call,
        "d.js": call,
        "e.mjs": call,
        "f.cjs": call,
        "g.tsx": "type P = { a: number };\n" + component,
        "h.jsx": component,
    }
    for name, code in files.items():
        (tmp_path / name).write_text(code)
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "dep.js").write_text(call)  # never walked
    report = check_paths([tmp_path])
    assert report.problems == []
    assert sorted(Path(f.path or "").name for f in report.findings) == sorted(files)


def test_fleetnb_check_reads_typescript_files(tmp_path: Path) -> None:
    (tmp_path / "app.ts").write_text(
        STRIPE + "await stripe.customers.fetch('cus_1');\n"
        "await stripe.customers.create({ emial: 'a@b.c' });\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "fleetnb.cli", "check", str(tmp_path), "--json"],
        capture_output=True, text=True, timeout=100, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert [(f["line"], f["kind"], f["api"], f["suggestion"]) for f in report["findings"]] == [
        (3, "unknown_method", "stripe.customers.fetch", "retrieve"),
        (4, "unknown_param", "stripe.customers.create", "email"),
    ]
