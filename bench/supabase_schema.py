"""Benchmark: reading a Supabase project's migrations, and the supabase-py client index.

Generates a migrations tree of ``--files`` files (tables, column changes, policies,
plpgsql functions, views), then times ``load_db_schema`` over it against a baseline
in the same process: only tokenizing the same files with sqlglot, which any reading
of them must do. Then times a cold build of the supabase-py client index (a child
interpreter importing supabase) against reading it back from the cache.
Asserts nothing. Run: ``python bench/supabase_schema.py [--files 200]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import sqlglot

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fleetnb.truth import supabase_client
from fleetnb.truth.sql_schema import load_db_schema, migration_files


def _migration(number: int) -> str:
    table = f"table_{number}"
    return f"""
create table public.{table} (
  id bigint generated always as identity primary key,
  owner_id uuid not null references auth.users (id),
  name text not null,
  data jsonb not null default '{{}}'::jsonb,
  created_at timestamptz not null default now()
);
alter table public.{table} enable row level security;
create policy "{table} owners" on public.{table} for all using (auth.uid() = owner_id);
alter table public.{table} add column status text not null default 'new';
alter table public.{table} rename column name to title;
create or replace function public.touch_{table}() returns trigger language plpgsql as $$
begin
  new.created_at := now();
  return new;
end;
$$;
create view public.{table}_titles as select id, title, status from public.{table};
"""


def _timed(run: Callable[[], object], repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def bench_migrations(files: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "supabase" / "migrations"
        folder.mkdir(parents=True)
        for number in range(files):
            (folder / f"2024{number:010d}_step.sql").write_text(_migration(number))
        paths = migration_files(Path(tmp))
        schema = load_db_schema(paths)
        read = _timed(lambda: load_db_schema(paths))
        tokens = _timed(lambda: [sqlglot.tokenize(p.read_text(), read="postgres") for p in paths])
    print(
        f"{files} migrations, {schema.statements} statements ({schema.skipped} skipped), "
        f"{len(schema.relations)} relations, {len(schema.functions)} functions"
    )
    print(f"  load_db_schema  {read * 1000:8.1f} ms  ({read / files * 1000:.2f} ms a file)")
    print(f"  tokenize only   {tokens * 1000:8.1f} ms  (baseline)")
    print(f"  ratio           {read / tokens:8.1f} x")


def _reload_client_index() -> None:
    supabase_client.load_client_index.cache_clear()  # in-process cache off: the disk cache
    supabase_client.load_client_index()


def bench_client_index() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["FLEETNB_CACHE_DIR"] = tmp
        start = time.perf_counter()
        index = supabase_client.load_client_index()
        cold = time.perf_counter() - start
        supabase_client.load_client_index.cache_clear()
        warm = _timed(_reload_client_index)
    classes = len(index.classes) if index is not None else 0
    print(f"supabase-py client index: {classes} classes")
    print(f"  cold build      {cold * 1000:8.1f} ms")
    print(f"  from the cache  {warm * 1000:8.1f} ms  ({cold / warm:.0f} x faster)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--files", type=int, default=200)
    args = parser.parse_args()
    bench_migrations(args.files)
    bench_client_index()


if __name__ == "__main__":
    main()
