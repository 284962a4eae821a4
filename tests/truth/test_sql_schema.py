"""A Supabase project's schema read from real migrations with sqlglot, and from PostgREST JSON."""

from __future__ import annotations

from pathlib import Path

from fleetnb.truth.sql_schema import find_project_root, load_db_schema, migration_files

PROJECT = Path(__file__).parent / "supabase_project"
POSTGREST = Path(__file__).parent / "specs" / "postgrest.json"


def test_migrations_are_applied_in_filename_order() -> None:
    schema = load_db_schema(migration_files(PROJECT))
    posts = schema.relation("public", "posts")
    assert posts is not None
    # body was renamed to content, comment_count, published and slug were added later
    assert posts.columns == [
        "id", "author_id", "title", "content", "metadata", "created_at",
        "comment_count", "published", "slug",
    ]  # fmt: skip
    assert schema.relation("public", "legacy_notes") is None  # dropped
    profiles = schema.relation("public", "profiles")
    assert profiles is not None
    assert "avatarUrl" in (profiles.columns or [])  # a quoted identifier keeps its case
    invoices = schema.relation("billing", "invoices")
    assert invoices is not None
    assert invoices.columns == ["id", "profile_id", "amount_cents", "status"]
    assert schema.schemas == {"public", "billing"}


def test_views_functions_and_skipped_statements() -> None:
    schema = load_db_schema(migration_files(PROJECT))
    summaries = schema.relation("public", "post_summaries")
    assert summaries is not None
    assert (summaries.kind, summaries.columns) == ("view", ["id", "title", "author_name", "day"])
    everything = schema.relation("public", "everything")
    assert everything is not None
    assert everything.columns is None  # select *: not known, so never checked
    # the plpgsql body is skipped as a statement but its function is still named
    assert schema.functions == {("public", "bump_comment_count"), ("public", "search_posts")}
    # extension, RLS, two policies, the plpgsql function, the trigger, the DO block
    assert (schema.statements, schema.skipped) == (20, 7)
    assert schema.problems == []
    assert schema.complete


def test_if_not_exists_keeps_the_first_definition(tmp_path: Path) -> None:
    (tmp_path / "1.sql").write_text("create table t (a int);\n")
    (tmp_path / "2.sql").write_text(
        'create table if not exists t (b int);\nalter table t rename to "T2";\n'
    )
    schema = load_db_schema([tmp_path])
    renamed = schema.relation("public", "T2")
    assert renamed is not None
    assert renamed.columns == ["a"]
    assert schema.relation("public", "t") is None


def test_a_broken_migration_is_a_problem_not_an_error(tmp_path: Path) -> None:
    (tmp_path / "1_ok.sql").write_text("create table notes (id int, body text);\n")
    (tmp_path / "2_garbage.sql").write_text("this is not sql at all ( ;\nselect from where (;\n")
    (tmp_path / "3_unterminated.sql").write_text("create table x (a text default 'oops);\n")
    schema = load_db_schema([tmp_path])
    assert schema.relation("public", "notes") is not None
    assert len(schema.problems) == 2
    assert "2_garbage.sql" in schema.problems[0]
    assert "3_unterminated.sql" in schema.problems[1]
    assert "fix the quoting" in schema.problems[1]
    assert not schema.complete  # a table may hide in the unreadable file


def test_an_unreadable_create_table_leaves_its_columns_unknown(tmp_path: Path) -> None:
    (tmp_path / "1.sql").write_text(
        "create table events (id int) partition by range (id) with (fillfactor = 70) "
        "tablespace fast using heap extra nonsense;\n"
    )
    schema = load_db_schema([tmp_path])
    events = schema.relation("public", "events")
    assert events is not None
    assert events.columns is None


def test_postgrest_openapi_document() -> None:
    schema = load_db_schema([POSTGREST])
    orders = schema.relation("public", "orders")
    assert orders is not None
    assert orders.columns == ["id", "profile_id", "total_cents", "shipped_at"]
    assert schema.functions == {("public", "place_order")}


def test_a_document_that_is_not_postgrest_is_a_problem(tmp_path: Path) -> None:
    bad = tmp_path / "openapi.json"
    bad.write_text('{"openapi": "3.1.0", "paths": {}}')
    schema = load_db_schema([bad])
    assert "no `definitions`" in schema.problems[0]


def test_project_root_is_found_from_a_nested_file(tmp_path: Path) -> None:
    (tmp_path / "supabase" / "migrations").mkdir(parents=True)
    nested = tmp_path / "app" / "api"
    nested.mkdir(parents=True)
    (nested / "routes.py").write_text("")
    assert find_project_root(nested / "routes.py") == tmp_path
    assert find_project_root(nested) == tmp_path


def test_declarative_schema_files_follow_the_migrations(tmp_path: Path) -> None:
    (tmp_path / "supabase" / "migrations").mkdir(parents=True)
    (tmp_path / "supabase" / "schemas").mkdir()
    (tmp_path / "supabase" / "migrations" / "1_init.sql").write_text("create table t (a int);\n")
    (tmp_path / "supabase" / "schemas" / "t.sql").write_text("create table t (a int, b text);\n")
    schema = load_db_schema(migration_files(tmp_path))
    table = schema.relation("public", "t")
    assert table is not None
    assert table.columns == ["a", "b"]


def test_a_python_package_named_supabase_is_not_a_project(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    package = tmp_path / "src" / "supabase"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    assert find_project_root(package / "__init__.py") == tmp_path


def test_a_project_folder_or_a_missing_file_as_sources(tmp_path: Path) -> None:
    schema = load_db_schema([PROJECT, tmp_path / "missing.sql"])
    assert schema.relation("public", "posts") is not None
    (problem,) = schema.problems
    assert "missing.sql: cannot be read" in problem


def test_function_arguments(tmp_path: Path) -> None:
    (tmp_path / "1.sql").write_text(
        "create function f(a int, b text default null) returns int language sql as 'select a';\n"
        "create function f(c int) returns int language sql as $$ select c $$;\n"
        "create function g(int) returns int language sql as $$ select 1 $$;\n"
        "create function h(payload jsonb) returns void language plpgsql as $$ begin end; $$;\n"
        'create function k(in "Who" text, out n int) language plpgsql\n'
        "as $$ begin n := 1; end; $$;\n"
    )
    schema = load_db_schema([tmp_path])
    assert schema.params == {
        ("public", "f"): frozenset({"a", "b", "c"}),  # overloads: either's names go
        ("public", "g"): None,  # unnamed: not callable by name
        ("public", "h"): None,  # a lone json argument takes the whole body
        ("public", "k"): frozenset({"Who", "n"}),
    }
    project = load_db_schema(migration_files(PROJECT))
    assert project.params[("public", "search_posts")] == frozenset({"query"})
    assert load_db_schema([POSTGREST]).params == {
        ("public", "place_order"): frozenset({"product_id", "quantity"})
    }
