"""supabase-py query chains read from Python source as TableCall records."""

from __future__ import annotations

from fleetnb.truth.calls import SUPABASE_PY_CLIENT
from fleetnb.truth.extract_python import extract_python

HEAD = "from supabase import create_client\nsupabase = create_client(URL, KEY)\n"


def test_a_chain_is_one_table_call_with_a_step_per_method() -> None:
    calls = extract_python(
        HEAD + 'supabase.table("posts").select("id, title").eq("author_id", uid)'
        '.order("created_at", desc=True).not_.is_("slug", "null").execute()\n'
    )
    (call,) = calls.table_calls
    assert (call.table, call.schema, call.line) == ("posts", None, 3)
    assert [(s.name, s.strings) for s in call.steps] == [
        ("select", ("id, title",)),
        ("eq", ("author_id", None)),
        ("order", ("created_at",)),
        ("not_", ()),
        ("is_", ("slug", "null")),
        ("execute", ()),
    ]
    assert [m.chain for m in calls.module_calls] == [("create_client",)]  # no inner calls


def test_written_keys_schema_and_rpc() -> None:
    calls = extract_python(
        HEAD + 'supabase.from_("posts").insert([{"title": "a"}, {"body": "b"}]).execute()\n'
        'supabase.schema("billing").table("invoices").update({"amount": 1}).execute()\n'
        'supabase.rpc("search", {"query": "x"}).execute()\n'
    )
    insert, update, rpc = calls.table_calls
    assert insert.steps[0].keys is not None
    assert sorted(insert.steps[0].keys.keys) == ["body", "title"]
    assert (update.table, update.schema) == ("invoices", "billing")
    assert (rpc.table, rpc.steps[0].name, rpc.steps[0].strings) == (
        "search",
        "rpc",
        ("search", None),
    )
    assert rpc.steps[0].keys is not None
    assert list(rpc.steps[0].keys.keys) == ["query"]


def test_computed_names_and_queries_built_in_steps() -> None:
    calls = extract_python(
        HEAD + "supabase.table(name).select(f'id, {extra}').execute()\n"
        'q = supabase.table("posts").select("id")\n'
        'q = q.eq("slug", s)\n'
    )
    computed, _, second = calls.table_calls
    assert (computed.table, computed.steps[0].strings) == (None, (None,))
    assert (second.table, [s.name for s in second.steps]) == ("posts", ["eq"])


def test_client_methods_are_module_calls_on_the_client_root() -> None:
    calls = extract_python(
        "from supabase import Client\n"
        "def sign_in(client: Client) -> None:\n"
        "    client.auth.sign_in_with_password({'email': e, 'password': p})\n"
        "    client.channel('room').subscribe()\n"
    )
    assert [(m.root, m.chain) for m in calls.module_calls] == [
        (SUPABASE_PY_CLIENT, ("auth", "sign_in_with_password")),
        (SUPABASE_PY_CLIENT, ("channel",)),
    ]
    assert calls.table_calls == []
