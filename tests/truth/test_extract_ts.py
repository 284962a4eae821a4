"""Reading API calls out of TypeScript and JavaScript with tree-sitter."""

from __future__ import annotations

import threading

import pytest

from fleetnb.truth.calls import (
    STRIPE_CLIENT,
    SUPABASE_JS_CLIENT,
    BuilderStep,
    Calls,
    HttpCall,
    ModuleCall,
    TableCall,
)
from fleetnb.truth.extract_ts import extract_javascript, extract_ts, extract_tsx
from fleetnb.truth.routes import HOLE
from fleetnb.truth.shapes import KeyTree
from fleetnb.truth.ts_stripe import camel, snake
from fleetnb.truth.ts_syntax import parser

STRIPE_TS = "import Stripe from 'stripe';\nconst stripe = new Stripe(process.env.STRIPE_KEY!);\n"
SUPABASE_TS = (
    "import { createClient } from '@supabase/supabase-js';\n"
    "const supabase = createClient(url, key);\n"
)


def _keys(tree: KeyTree | None) -> object:
    """A key tree as nested dicts (None for a leaf), with its completeness when partial."""
    if tree is None:
        return None
    found = {key: _keys(node.child) for key, node in tree.keys.items()}
    return found if tree.complete else (found, "incomplete")


def _stripe(calls: Calls) -> list[tuple[tuple[str, ...], str | None]]:
    return [(c.chain, c.shown) for c in calls.module_calls if c.root == STRIPE_CLIENT]


def _http(calls: Calls) -> list[tuple[str, str, str, object]]:
    return [(h.library, h.verb, h.url, _keys(h.keys)) for h in calls.http_calls]


def test_stripe_node_calls_map_onto_the_python_client_names() -> None:
    code = STRIPE_TS + (
        "await stripe.customers.create({ email: 'a@b.c', address: { city: 'P' } });\n"
        "stripe.paymentIntents.retrieve('pi_1', { expand: ['customer'] });\n"
        "stripe.checkout.sessions.create({ mode: 'payment', line_items: [{ price: 'p' }] });\n"
        "stripe.customers.del('cus_1');\n"
        "stripe.customers.listPaymentMethods('cus_1', { type: 'card' });\n"
        "stripe.v2.core.events.list({ object_id: 'x' });\n"
    )
    calls = extract_ts(code)
    assert _stripe(calls) == [
        (("v1", "customers", "create"), "stripe.customers.create"),
        (("v1", "payment_intents", "retrieve"), "stripe.paymentIntents.retrieve"),
        (("v1", "checkout", "sessions", "create"), "stripe.checkout.sessions.create"),
        (("v1", "customers", "delete"), "stripe.customers.del"),
        (("v1", "customers", "list_payment_methods"), "stripe.customers.listPaymentMethods"),
        (("v2", "core", "events", "list"), "stripe.v2.core.events.list"),
    ]
    first, second, third = calls.module_calls[:3]
    assert [_keys(arg) for arg in first.args] == [{"email": None, "address": {"city": None}}]
    assert [_keys(arg) for arg in second.args] == [None, {"expand": None}]
    assert _keys(third.args[0]) == {"mode": None, "line_items": {"price": None}}
    assert first.kwargs == KeyTree()  # no keyword arguments in JavaScript
    assert (first.line, first.column) == (3, 7)
    assert first.api == "stripe.customers.create"


@pytest.mark.parametrize(
    "binding",
    [
        "const Stripe = require('stripe');\nconst stripe = Stripe(key);\n",
        "const stripe = require('stripe')(key);\n",
        "import { Stripe } from 'stripe';\nexport const stripe = new Stripe(key, {});\n",
        "import * as S from 'stripe';\nconst stripe = new S(key);\n",
    ],
)
def test_every_way_of_making_a_stripe_client(binding: str) -> None:
    calls = extract_ts(binding + "stripe.refunds.create({ charge: 'ch_1' });\n")
    assert _stripe(calls) == [(("v1", "refunds", "create"), "stripe.refunds.create")]


def test_aliases_destructuring_and_class_fields() -> None:
    code = STRIPE_TS + (
        "const customers = stripe.customers;\n"
        "const { paymentIntents } = stripe;\n"
        "class Billing {\n"
        "  constructor() { this.client = new Stripe(key); }\n"
        "  charge() { return this.client.charges.capture('ch_1'); }\n"
        "}\n"
        "class Payments {\n"
        "  private stripe = new Stripe(key);\n"
        "  constructor(private readonly other: Stripe) {}\n"
        "  pay() { this.stripe.payouts.list(); return this.other.topups.list(); }\n"
        "}\n"
        "customers.update('cus_1', { name: 'n' });\n"
        "paymentIntents.confirm('pi_1');\n"
        "stripe.webhooks.constructEvent(body, signature, secret);\n"
        "stripe.customers.list().autoPagingEach((c) => c);\n"
        "stripe[resource].create({});\n"
    )
    calls = extract_ts(code)
    assert [chain for chain, _ in _stripe(calls)] == [
        ("v1", "charges", "capture"),
        ("v1", "payouts", "list"),
        ("v1", "topups", "list"),
        ("v1", "customers", "update"),
        ("v1", "payment_intents", "confirm"),
        ("v1", "customers", "list"),
    ]
    assert [u.reason for u in calls.unresolved] == ["the call's target is computed"]


def test_function_scopes_shadow_and_forget_names() -> None:
    code = (
        "import Stripe from 'stripe';\n"
        "import type { SupabaseClient } from '@supabase/supabase-js';\n"
        "const stripe = new Stripe(key);\n"
        "const customers = stripe.customers;\n"
        "const API = 'https://api.stripe.com';\n"
        "function handler(customers: Customer[], { API }: Config) {\n"
        "  customers.map((c) => c.id);\n"  # an array parameter, not the service
        "  fetch(API + '/v1/x');\n"  # the parameter, not the constant
        "  const stripe = makeFake();\n"
        "  stripe.anything();\n"
        "}\n"
        "const each = (stripe) => stripe.charges.list();\n"
        "customers.list();\n"
        "stripe.refunds.list();\n"
        "let lazy;\n"
        "function init() { lazy = new Stripe(key); }\n"
        "async function use(client: Stripe, db: SupabaseClient) {\n"
        "  lazy.payouts.list();\n"
        "  client.charges.capture('ch_1');\n"
        "  await db.from('posts').select('id');\n"
        "}\n"
    )
    calls = extract_ts(code)
    assert [chain[1:] for chain, _ in _stripe(calls)] == [
        ("customers", "list"),
        ("refunds", "list"),
        ("payouts", "list"),
        ("charges", "capture"),
    ]
    assert _http(calls) == [("fetch", "get", f"{HOLE}/v1/x", {})]
    assert [t.table for t in calls.table_calls] == ["posts"]


def test_names_between_stripe_node_and_python() -> None:
    assert [snake(n) for n in ("paymentIntents", "del", "listPaymentMethods", "v2")] == [
        "payment_intents",
        "delete",
        "list_payment_methods",
        "v2",
    ]
    assert [camel(n) for n in ("payment_intents", "delete", "retrieve")] == [
        "paymentIntents",
        "del",
        "retrieve",
    ]


def test_fetch_bodies_queries_and_holes() -> None:
    code = (
        "const API = 'https://api.stripe.com';\n"
        "fetch(`${API}/v1/customers/${id}`, { method: 'POST',"
        " body: JSON.stringify({ email: 'x', address: { line1: 'l' } }) });\n"
        "fetch(API + '/v1/customers?limit=3');\n"
        "fetch('https://api.stripe.com/v1/customers/' + id, { method: 'delete' });\n"
        "fetch(`${API}/v1/checkout/sessions`, { method: 'POST',"
        " body: new URLSearchParams({ mode: 'payment', 'line_items[0][price]': 'p' }) });\n"
        "fetch('https://x.test/a', { method: 'POST', body: formData });\n"
        "fetch('https://x.test/a', { method: 'POST', body: 'a=1&b[c]=2' });\n"
        "fetch(url);\n"
        "fetch('https://x.test/a', { method: verb });\n"
        "fetch('https://x.test/a', options);\n"
    )
    calls = extract_javascript(code)
    assert _http(calls) == [
        (
            "fetch",
            "post",
            f"https://api.stripe.com/v1/customers/{HOLE}",
            {"email": None, "address": {"line1": None}},
        ),
        ("fetch", "get", "https://api.stripe.com/v1/customers?limit=3", {"limit": None}),
        ("fetch", "delete", f"https://api.stripe.com/v1/customers/{HOLE}", {}),
        (
            "fetch",
            "post",
            "https://api.stripe.com/v1/checkout/sessions",
            {"mode": None, "line_items": ({"price": None}, "incomplete")},
        ),
        ("fetch", "post", "https://x.test/a", ({}, "incomplete")),
        ("fetch", "post", "https://x.test/a", {"a": None, "b": ({"c": None}, "incomplete")}),
    ]
    assert len(calls.unresolved) == 3  # a URL in a variable, a computed verb, opaque options


def test_axios_forms_and_instances() -> None:
    code = (
        "import axios from 'axios';\n"
        "const billing = axios.create({ baseURL: 'https://api.billing.test/v1' });\n"
        "const other = axios.create({ baseURL: process.env.API_URL });\n"
        "axios.post('https://api.stripe.com/v1/refunds', { charge: 'ch_1' });\n"
        "axios.get('https://api.stripe.com/v1/customers', { params: { limit: 3 } });\n"
        "axios({ method: 'put', url: 'https://x.test/a', data: { a: 1 } });\n"
        "axios('https://x.test/b', { method: 'PATCH' });\n"
        "billing.delete(`/customers/${id}`);\n"
        "billing.post('/customers', payload);\n"
        "other.get('/pets');\n"
        "billing.interceptors.request.use((c) => c);\n"
        "axios(config);\n"
    )
    calls = extract_ts(code)
    assert _http(calls) == [
        ("axios", "post", "https://api.stripe.com/v1/refunds", {"charge": None}),
        ("axios", "get", "https://api.stripe.com/v1/customers", {"limit": None}),
        ("axios", "put", "https://x.test/a", {"a": None}),
        ("axios", "patch", "https://x.test/b", {}),
        ("axios", "delete", f"https://api.billing.test/v1/customers/{HOLE}", {}),
        ("axios", "post", "https://api.billing.test/v1/customers", ({}, "incomplete")),
        ("axios", "get", f"{HOLE}/pets", {}),
    ]
    assert len(calls.unresolved) == 1


def test_ky_and_got() -> None:
    code = (
        "import ky from 'ky';\nimport got from 'got';\n"
        "const api = ky.create({ prefixUrl: 'https://api.billing.test/v1' });\n"
        "api.post('customers', { json: { email: 'x' } });\n"
        "got.post('https://x.test/a', { form: { 'a[b]': 1 }, searchParams: { q: 1 } });\n"
        "got('https://x.test/a', { method: 'DELETE' });\n"
    )
    assert _http(extract_ts(code)) == [
        ("ky", "post", "https://api.billing.test/v1/customers", {"email": None}),
        ("got", "post", "https://x.test/a", {"a": ({"b": None}, "incomplete"), "q": None}),
        ("got", "delete", "https://x.test/a", {}),
    ]


def test_supabase_query_chains() -> None:
    first = (
        "const { data } = await supabase.from('posts')"
        ".select('id, title, author:users(name)').eq('status', 'x').order('created_at');\n"
    )
    code = (
        SUPABASE_TS
        + first
        + (
            "await supabase.from('posts').insert([{ title: 't' }, { body: 'b' }]);\n"
            "await supabase.from('posts').update({ title: 't' }).eq('id', id);\n"
            "await supabase.from('posts').delete().match({ id: 1 });\n"
            "await supabase.schema('other').from(`t`).upsert({ a: 1 });\n"
            "await supabase.from(table).select();\n"
        )
    )
    tables = extract_ts(code).table_calls
    assert tables[0] == TableCall(
        "posts",
        3,
        first.index("supabase") + 1,  # where the chain starts, as in Python
        (
            BuilderStep("select", 3, first.index("select") + 1, ("id, title, author:users(name)",)),
            BuilderStep("eq", 3, first.index("eq(") + 1, ("status", "x")),
            BuilderStep("order", 3, first.index("order") + 1, ("created_at",)),
        ),
    )
    assert [(t.table, t.schema, [s.name for s in t.steps]) for t in tables[1:]] == [
        ("posts", None, ["insert"]),
        ("posts", None, ["update", "eq"]),
        ("posts", None, ["delete", "match"]),
        ("t", "other", ["upsert"]),
        (None, None, ["select"]),
    ]
    assert _keys(tables[1].steps[0].keys) == {"title": None, "body": None}
    assert tables[2].steps[1].strings == ("id", None)
    assert _keys(tables[3].steps[1].keys) == {"id": None}


def test_supabase_rpc_bound_queries_and_client_calls() -> None:
    code = SUPABASE_TS + (
        "await supabase.rpc('add_post', { title: 't' }).select('id');\n"
        "let query = supabase.from('posts').select('*');\n"
        "if (author) query = query.eq('author', author);\n"
        "await supabase.auth.signInWithPassword({ email, password });\n"
        "const { data: { user } } = await supabase.auth.getUser();\n"
        "await supabase.storage.from('avatars').upload(path, file, { upsert: true });\n"
        "await supabase.functions.invoke('hello', { body: { name: 'x' } });\n"
        "supabase.from('posts').select().then(({ data }) => data.map((p) => p.id));\n"
    )
    calls = extract_ts(code)
    rpc, bound, filtered, thenned = calls.table_calls
    assert (rpc.table, [(s.name, s.strings) for s in rpc.steps]) == (
        "add_post",
        [("rpc", ("add_post", None)), ("select", ("id",))],
    )
    assert _keys(rpc.steps[0].keys) == {"title": None}
    assert (bound.table, [s.name for s in bound.steps]) == ("posts", ["select"])
    assert (filtered.table, [s.name for s in filtered.steps]) == ("posts", ["eq"])
    assert [s.name for s in thenned.steps] == ["select"]  # `.then` works on the result
    assert [(c.root, c.chain, c.api) for c in calls.module_calls] == [
        (SUPABASE_JS_CLIENT, ("auth", "signInWithPassword"), "supabase.auth.signInWithPassword"),
        (SUPABASE_JS_CLIENT, ("auth", "getUser"), "supabase.auth.getUser"),
        (SUPABASE_JS_CLIENT, ("storage", "from", "upload"), "supabase.storage.from.upload"),
        (SUPABASE_JS_CLIENT, ("functions", "invoke"), "supabase.functions.invoke"),
    ]
    assert _keys(calls.module_calls[2].args[2]) == {"upsert": None}


def test_syntax_errors_leave_the_rest_readable() -> None:
    code = STRIPE_TS + (
        "stripe.customers.create({ email: 'x' });\n"
        "const x = ;\n"
        "stripe.refunds.create({ charge: 'c' });\n"
        "if (a { b }\n"
        "stripe.charges.create({});\n"
    )
    calls = extract_ts(code)
    assert calls.syntax_errors == [4, 6]
    assert [chain[1] for chain, _ in _stripe(calls)] == ["customers", "refunds", "charges"]


def test_tsx_and_jsx() -> None:
    component = (
        "export function Pay({ amount }: { amount: number }) {\n"
        "  const pay = () => fetch('/api/pay', { method: 'POST',"
        " body: JSON.stringify({ amount }) });\n"
        "  return <button onClick={pay}>Pay {amount}</button>;\n"
        "}\n"
    )
    tsx = extract_tsx(component)
    assert tsx.syntax_errors == []
    assert _http(tsx) == [("fetch", "post", "/api/pay", {"amount": None})]
    jsx = extract_javascript(component.replace(": { amount: number }", ""))
    assert (jsx.syntax_errors, len(jsx.http_calls)) == ([], 1)
    assert extract_ts(component).syntax_errors  # plain TypeScript has no JSX


def test_imports_are_recorded() -> None:
    calls = extract_ts(SUPABASE_TS + "import x from './local';\nimport y from '@scope/pkg/sub';\n")
    assert calls.imports == {"@supabase/supabase-js", "@scope/pkg"}


def test_minified_javascript_of_a_megabyte_and_a_half() -> None:
    unit = (
        "var s=require('stripe')('sk');function f(n){return s.customers.retrieve('cus_'+n)"
        ".then(function(c){return fetch('https://api.stripe.com/v1/customers/'+n,"
        "{method:'POST',body:JSON.stringify({email:c.email})})})};"
    )
    code = unit * (1_500_000 // len(unit))  # over a megabyte: the query reads it in two windows
    calls = extract_javascript(code)
    copies = len(code) // len(unit)
    assert (len(calls.module_calls), len(calls.http_calls)) == (copies, copies)
    assert "\n" not in code


def test_deep_nesting_does_not_exhaust_the_stack() -> None:
    code = (
        "const x = " + "[" * 5000 + "]" * 5000 + ";\n"
        "const y = " + "{a: " * 3000 + "1" + "}" * 3000 + ";\n"
        "p" + ".then(f)" * 5000 + ";\n" + "f(" * 3000 + ")" * 3000 + ";\n"
        "fetch('/a'" + " + 'b'" * 1000 + ");\n"
    )
    calls = extract_javascript(code)
    assert calls.syntax_errors == []
    assert _http(calls) == [("fetch", "get", "/a" + "b" * 1000, {})]


def test_module_call_records_are_the_shared_type() -> None:
    (call,) = extract_ts(STRIPE_TS + "stripe.customers.list();\n").module_calls
    assert isinstance(call, ModuleCall)
    (http,) = extract_ts("fetch('/x');\n").http_calls
    assert isinstance(http, HttpCall)


def test_each_thread_parses_with_its_own_parser() -> None:
    """A parser holds its running parse; checks after agents' edits run in threads."""
    parsers: dict[int, object] = {}
    counts: dict[int, int] = {}
    code = "fetch('https://x.test/a', { method: 'POST', body: JSON.stringify({ a: 1 }) });\n" * 2000

    def work(index: int) -> None:
        parsers[index] = parser("javascript")
        counts[index] = len(extract_javascript(code).http_calls)

    threads = [threading.Thread(target=work, args=(index,)) for index in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counts == {0: 2000, 1: 2000, 2: 2000}
    assert len({id(p) for p in [*parsers.values(), parser("javascript")]}) == 4
    assert parser("javascript") is parser("javascript")
