"""Supabase queries and supabase-py client calls checked against a real project's migrations."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fleetnb.truth import Checker, CheckReport, check_paths, check_source

PROJECT = Path(__file__).parent / "supabase_project"
POSTGREST = Path(__file__).parent / "specs" / "postgrest.json"
HEAD = "from supabase import create_client, Client\nsupabase: Client = create_client(URL, KEY)\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(PROJECT / "supabase", tmp_path / "supabase")
    return tmp_path


def check(project: Path, body: str) -> CheckReport:
    app = project / "app" / "posts.py"
    app.parent.mkdir(exist_ok=True)
    app.write_text(HEAD + body)
    return check_paths([app])


def found(report: CheckReport) -> list[tuple[int, str, str | None]]:
    return [(f.line, f.kind, f.suggestion) for f in report.findings]


def test_unknown_table_suggests_the_closest(project: Path) -> None:
    report = check(project, 'supabase.table("post").select("*").execute()\n')
    (finding,) = report.findings
    assert (finding.kind, finding.suggestion, finding.line) == ("unknown_table", "posts", 3)
    assert "public.post" in finding.message
    assert finding.severity == "error"


def test_unknown_columns_in_select_filter_insert_and_order(project: Path) -> None:
    report = check(
        project,
        'supabase.table("posts").select("id, titel").eq("author", uid)'
        '.order("created", desc=True).execute()\n'
        'supabase.table("comments").insert({"post_id": 1, "contents": "hi"}).execute()\n'
        'supabase.table("profiles").update({"username": "a"}).match({"user_name": "b"}).execute()\n'
        'supabase.table("posts").select("id").not_.eq("publishd", True).execute()\n'
        'supabase.table("posts").upsert({"slug": "a"}, on_conflict="id,slugg").execute()\n',
    )
    assert found(report) == [
        (3, "unknown_column", "title"),
        (3, "unknown_column", "author_id"),
        (3, "unknown_column", "created_at"),
        (4, "unknown_column", "content"),
        (5, "unknown_column", "username"),
        (6, "unknown_column", "published"),
        (7, "unknown_column", "slug"),
    ]
    assert report.calls_checked == 1 + 5  # create_client, then the five queries


def test_column_findings_point_at_the_method_in_a_multiline_chain(project: Path) -> None:
    report = check(
        project,
        "rows = (\n"
        '    supabase.table("posts")\n'
        '    .select("id")\n'
        '    .eq("slugg", s)\n'
        "    .execute()\n"
        ")\n",
    )
    (finding,) = report.findings
    assert (finding.line, finding.column, finding.suggestion) == (6, 6, "slug")


def test_embeds_casts_json_paths_and_aggregates_are_valid(project: Path) -> None:
    report = check(
        project,
        'supabase.table("posts").select("*, author:profiles(username, \\"avatarUrl\\"),'
        " comments!inner(content, created_at), title::text, metadata->>tags,"
        ' metadata->seo->>title, count, n:comment_count.sum(), ...profiles(username)")'
        '.eq("metadata->>lang", "en").in_("id", [1, 2]).is_("slug", "null")'
        '.order("created_at", desc=True).execute()\n'
        'supabase.table("post_summaries").select("title, author_name, day").execute()\n'
        'supabase.table("everything").select("anything_at_all").execute()\n'
        'supabase.from_("comments").upsert([{"post_id": 1, "author_id": a, "content": "x"}])'
        ".execute()\n"
        'supabase.table("posts").delete().eq("id", 3).execute()\n',
    )
    assert report.findings == []
    assert report.calls_checked == 1 + 5


def test_embedded_table_columns_are_checked(project: Path) -> None:
    report = check(
        project, 'supabase.table("posts").select("id, author:profiles(username, avatar)")\n'
    )
    assert found(report) == [(3, "unknown_column", "avatarUrl")]
    assert "public.profiles" in report.findings[0].message


def test_embed_through_a_foreign_key_name_is_unresolved(project: Path) -> None:
    report = check(project, 'supabase.table("posts").select("id, author_id(username, x)")\n')
    assert report.findings == []
    assert (report.calls_checked, report.calls_unresolved) == (1 + 1, 1)


def test_embed_of_a_table_that_does_not_exist(project: Path) -> None:
    report = check(
        project,
        'supabase.table("posts").select("id, categories(name), commets(content)").execute()\n'
        'supabase.table("comments").select("id, comments_writer(username)").execute()\n'
        'supabase.table("comments").select("id, profiles!comments_writer(username)").execute()\n'
        'supabase.table("everything").select("id, whatever(x)").execute()\n',
    )
    assert found(report) == [(3, "unknown_table", None), (3, "unknown_table", "comments")]
    assert "to embed in the select on `public.posts`" in report.findings[0].message
    # the constraint named as a target, and an embed under a view whose columns are unknown
    assert report.calls_unresolved == 2


def test_renamed_column_and_dropped_table(project: Path) -> None:
    report = check(
        project,
        'supabase.table("posts").select("id, body").execute()\n'
        'supabase.table("legacy_notes").select("note").execute()\n',
    )
    assert found(report) == [(3, "unknown_column", "content"), (4, "unknown_table", None)]
    assert "renamed it to `content`" in report.findings[0].message


def test_schema_switch(project: Path) -> None:
    report = check(
        project,
        'supabase.schema("billing").table("invoices").select("id, amount").execute()\n'
        'supabase.schema("billing").table("posts").select("id").execute()\n'
        'supabase.schema("analytics").table("events").select("whatever").execute()\n',
    )
    assert found(report) == [
        (3, "unknown_column", "amount_cents"),
        (4, "unknown_table", None),  # billing holds only invoices: nothing close
    ]
    assert report.calls_unresolved == 1  # analytics is not defined in the migrations


def test_rpc_functions_and_their_arguments(project: Path) -> None:
    report = check(
        project,
        'supabase.rpc("search_post", {"query": "x"}).execute()\n'
        'supabase.rpc("search_posts", {"query": "x"}).execute()\n'
        'supabase.rpc("search_posts", {"q": "x"}).execute()\n'
        'supabase.rpc("bump_comment_count").execute()\n',
    )
    assert found(report) == [
        (3, "unknown_method", "search_posts"),
        (5, "unknown_param", "query"),
    ]
    assert "takes query" in report.findings[1].message


def test_computed_names_are_unresolved(project: Path) -> None:
    report = check(
        project,
        'name = pick()\ncols = f"id, {extra}"\n'
        'supabase.table(name).select("nope").execute()\n'
        'supabase.table("posts").select(cols).execute()\n'
        'supabase.schema(which).table("posts").select("nope").execute()\n',
    )
    assert report.findings == []
    assert report.calls_unresolved == 3


def test_query_built_in_steps(project: Path) -> None:
    report = check(
        project,
        'query = supabase.table("posts").select("id")\n'
        'if only_mine:\n    query = query.eq("author", uid)\n'
        "rows = query.execute()\n",
    )
    assert found(report) == [(5, "unknown_column", "author_id")]


def test_no_schema_means_unresolved(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    app = tmp_path / "app.py"
    app.write_text(HEAD + 'supabase.table("anything").select("at, all").execute()\n')
    report = check_paths([app])
    assert report.findings == []
    assert (report.calls_checked, report.calls_unresolved) == (1, 1)  # create_client, the query
    source = check_source(HEAD + 'supabase.table("anything").select("x").execute()\n')
    assert (source.findings, source.calls_unresolved) == ([], 1)


def test_a_broken_migration_is_reported_once_and_the_rest_checked(project: Path) -> None:
    (project / "supabase" / "migrations" / "20240104000000_oops.sql").write_text(
        "alter table posts add column 'unterminated;\n"
    )
    report = check(
        project,
        'supabase.table("posts").select("id, titel").execute()\n'
        'supabase.table("postz").select("id").execute()\n',
    )
    assert found(report) == [(3, "unknown_column", "title")]
    assert report.calls_unresolved == 1  # unknown tables are not flagged with a file unread
    (problem,) = report.problems
    assert "20240104000000_oops.sql" in problem


def test_postgrest_document_as_the_schema(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    app = tmp_path / "shop.py"
    app.write_text(
        HEAD + 'supabase.table("orders").select("id, total").execute()\n'
        'supabase.rpc("place_ordr", {}).execute()\n'
        'supabase.rpc("place_order", {"product_id": 1, "quantiy": 2}).execute()\n'
        'supabase.table("profiles").select("website").execute()\n'
    )
    report = check_paths([app], supabase_schema=[POSTGREST])
    assert found(report) == [
        (3, "unknown_column", "total_cents"),
        (4, "unknown_method", "place_order"),
        (5, "unknown_param", "quantity"),
    ]


def test_invented_supabase_py_auth_methods() -> None:
    report = check_source(
        HEAD + "supabase.auth.sign_in(email=e, password=p)\n"
        "session = supabase.auth.session()\n"
        'supabase.auth.sign_in_with_password({"email": e, "password": p})\n'
        "supabase.auth.get_session()\n"
        "supabase.auth.admin.list_users()\n"
        'supabase.storage.from_("avatars")\n'
        'supabase.functions.invoke("hello")\n',
        path="auth.py",
    )
    assert found(report) == [
        (3, "unknown_method", "sign_in_with_password"),
        (4, "unknown_method", "get_session"),
    ]
    assert report.findings[0].api == "supabase.auth.sign_in"
    assert report.findings[0].path == "auth.py"
    assert report.calls_checked >= 7


def test_keywords_the_v2_auth_methods_do_not_take() -> None:
    report = check_source(HEAD + "supabase.auth.sign_in_with_password(email=e, password=p)\n")
    assert [(f.kind, f.line) for f in report.findings] == [("unknown_param", 3)] * 2
    assert "credentials" in report.findings[0].message


def test_async_client_and_annotated_parameter() -> None:
    report = check_source(
        "from supabase import acreate_client, AsyncClient\n"
        "async def main(client: AsyncClient) -> None:\n"
        "    await client.auth.sign_in_with_password({})\n"
        "    await client.auth.signInWithPassword({})\n"
        "async def other() -> None:\n"
        "    sb = await acreate_client(URL, KEY)\n"
        "    await sb.auth.get_user()\n"
        "    sb.auth._private_thing()\n"
    )
    assert found(report) == [(4, "unknown_method", "sign_in_with_password")]


def test_cli_with_supabase_schema_and_json(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "app.py").write_text(
        HEAD + 'supabase.table("orders").select("id, shiped_at").execute()\n'
    )
    done = subprocess.run(
        [sys.executable, "-m", "fleetnb.cli", "check", str(tmp_path),
         "--supabase-schema", str(POSTGREST), "--json"],
        capture_output=True, text=True, timeout=100, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert [(f["line"], f["kind"], f["suggestion"]) for f in report["findings"]] == [
        (3, "unknown_column", "shipped_at")
    ]


def test_typescript_queries_use_the_same_schema(project: Path) -> None:
    app = project / "app.ts"
    app.write_text(
        "import { createClient } from '@supabase/supabase-js'\n"
        "const supabase = createClient(url, key)\n"
        "await supabase.from('posts').select('id, titel, author:profiles(username)')"
        ".not('slugg', 'is', null).in('id', [1]).is('slug', null)\n"
        "await supabase.from('comments').insert({ post_id: 1, content: 'x' })\n"
    )
    report = check_paths([app])
    assert found(report) == [(3, "unknown_column", "title"), (3, "unknown_column", "slug")]
    assert report.findings[0].api == "supabase.from('posts')"


def test_options_naming_an_embedded_table_leave_its_columns_alone(project: Path) -> None:
    report = check(
        project,
        'supabase.table("posts").select("id, comments(content)")'
        '.order("content", foreign_table="comments").execute()\n',
    )
    assert report.findings == []
    app = project / "app.ts"
    app.write_text(
        "await supabase.from('posts').select('id, comments(content)')"
        ".order('content', { referencedTable: 'comments' })\n"
    )
    assert check_paths([app]).findings == []


def test_columns_in_or_filters(project: Path) -> None:
    report = check(
        project,
        'supabase.table("posts").select("id")'
        '.or_("publishd.eq.true,and(author.eq.x,slug.is.null)").execute()\n'
        'supabase.table("posts").select("id")'
        '.or_("published.eq.true,not.and(title.ilike.*a*,metadata->>lang.eq.en)").execute()\n'
        'supabase.table("posts").select("id").or_("this is not a filter").execute()\n',
    )
    assert found(report) == [(3, "unknown_column", "published"), (3, "unknown_column", "author_id")]
    assert report.calls_unresolved == 1


def test_a_new_migration_is_read_by_the_same_checker(project: Path) -> None:
    app = project / "tags.py"
    app.write_text(HEAD + 'supabase.table("tags").select("id, label").execute()\n')
    checker = Checker()
    assert found(checker.check_paths([app])) == [(3, "unknown_table", None)]
    (project / "supabase" / "migrations" / "20240105000000_tags.sql").write_text(
        "create table public.tags (id bigint primary key, label text not null);\n"
    )
    assert checker.check_paths([app]).findings == []


def test_a_builder_method_no_query_builder_has_is_flagged(project: Path) -> None:
    report = check(
        project,
        'supabase.table("posts").select("id").where("title", "x").execute()\n'
        'supabase.table("posts").select("id").eq("title", "x").limt(5).execute()\n'
        'supabase.table("posts").select("id").not_.is_("title", "null").execute()\n'
        'supabase.table("posts").select("id").order("id", desc=True).range(0, 9).execute()\n'
        'supabase.table("posts").upsert({"id": 1}).execute()\n',
    )
    assert found(report) == [(3, "unknown_method", None), (4, "unknown_method", "limit")]
    assert "has no method or attribute `where`" in report.findings[0].message
