"""Labels for the Supabase rows from a real PostgreSQL and the real client packages.

Tables and columns: the fixture repo's migrations are loaded, in order, into a
throwaway PostgreSQL cluster (``initdb`` in a temporary directory, listening only on
a unix socket there, as the ``postgres`` user when run as root since initdb refuses
root), after a stand-in for the ``auth`` schema Supabase provides (``auth.users``,
``auth.uid()``); ``information_schema`` then says which tables, views and columns
``public`` has. Client methods: supabase-js rows from the npm packages' declarations
(``SupabaseClient`` of @supabase/supabase-js, ``GoTrueClient`` of @supabase/auth-js),
supabase-py rows by introspecting the installed ``supabase`` package.

A row's ``oracle`` record names what its snippet touches: ``refs`` (``[table,
column]`` pairs, column null for the table alone) or ``method`` (``chain`` from the
client, and the keyword names passed). Run as a script to print disagreements.
"""

from __future__ import annotations

import contextlib
import glob
import inspect
import os
import shutil
import subprocess
import sys
import tempfile
import typing
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from tests.truth.eval.dts import Decl, DeclFile, DeclTree
from tests.truth.eval.rows import SUPABASE_REPO, Row, disagreements, npm_package

__all__ = ["AUTH_STAND_IN", "MethodOracle", "Schema", "load_schema", "main", "postgres_bin"]

# What a Supabase project has before the app's first migration and plain PostgreSQL lacks.
AUTH_STAND_IN = """
create schema auth;
create table auth.users (id uuid primary key, email text);
create function auth.uid() returns uuid language sql stable as $$ select null::uuid $$;
"""
_START_TIMEOUT = 60  # seconds pg_ctl waits for the server to accept connections
_COMMAND_TIMEOUT = 120

Schema = dict[str, set[str]]  # table or view -> its columns, in schema public


def postgres_bin() -> Path | None:
    """The directory holding initdb, pg_ctl and psql: on PATH, or Debian's versioned one."""
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


def _as_owner(argv: Sequence[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the postgres user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return list(argv)


def _run(argv: Sequence[str], stdin: str | None = None) -> str:
    done = subprocess.run(
        argv, input=stdin, capture_output=True, text=True, timeout=_COMMAND_TIMEOUT, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:3])}... failed: {done.stderr.strip()[-2000:]}")
    return done.stdout


@contextlib.contextmanager
def _cluster(bindir: Path) -> Iterator[list[str]]:
    """A running throwaway cluster; yields the psql command that reaches it."""
    with tempfile.TemporaryDirectory(prefix="fleetnb-eval-pg-") as tmp:
        data, sockets = Path(tmp) / "data", Path(tmp) / "run"
        sockets.mkdir()
        if os.geteuid() == 0:
            shutil.chown(tmp, "postgres")
            shutil.chown(sockets, "postgres")
        _run(_as_owner([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]))
        options = f"-c listen_addresses='' -k {sockets} -F"
        start = [str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-w"]
        _run(_as_owner([*start, "-t", str(_START_TIMEOUT), "-l", str(Path(tmp) / "log"), "start"]))
        try:
            yield [str(bindir / "psql"), "-h", str(sockets), "-U", "postgres", "-X", "-q"]
        finally:
            _run(_as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]))


def load_schema(migrations: Path = SUPABASE_REPO / "supabase" / "migrations") -> Schema:
    """The public tables and columns the migrations leave, read back from PostgreSQL."""
    bindir = postgres_bin()
    if bindir is None:
        raise FileNotFoundError(
            "PostgreSQL (initdb) is not installed; run scripts/install-test-deps"
        )
    with _cluster(bindir) as psql:
        script = AUTH_STAND_IN + "".join(p.read_text() for p in sorted(migrations.glob("*.sql")))
        _run([*psql, "-v", "ON_ERROR_STOP=1", "-d", "postgres"], stdin=script)
        query = (
            "select table_name, column_name from information_schema.columns "
            "where table_schema = 'public'"
        )
        out = _run([*psql, "-d", "postgres", "-At", "-F", "\t", "-c", query])
    schema: Schema = {}
    for line in out.splitlines():
        table, _, column = line.partition("\t")
        schema.setdefault(table, set()).add(column)
    return schema


def label_refs(schema: Schema, refs: Sequence[Sequence[str | None]]) -> list[str]:
    kinds = set()
    for table, column in refs:
        if table not in schema:
            kinds.add("unknown_table")
        elif column is not None and column not in schema[table]:
            kinds.add("unknown_column")
    return sorted(kinds)


class MethodOracle:
    """The client surfaces of supabase-js (declarations) and supabase-py (introspection)."""

    def __init__(self) -> None:
        self._ts: tuple[DeclTree, tuple[DeclFile, Decl], tuple[DeclFile, Decl]] | None = None

    def _ts_surface(self) -> tuple[DeclTree, tuple[DeclFile, Decl], tuple[DeclFile, Decl]]:
        if self._ts is None:
            js = npm_package("supabase-js") / "dist"
            auth = npm_package("auth-js") / "dist" / "module"
            tree = DeclTree(js)
            client = tree.resolve(tree.file(js / "index.d.mts"), "SupabaseClient")
            gotrue = tree.resolve(tree.file(auth / "GoTrueClient.d.ts"), "GoTrueClient")
            if client is None or gotrue is None:
                raise LookupError("SupabaseClient or GoTrueClient not found in the declarations")
            self._ts = (tree, client, gotrue)
        return self._ts

    def label_ts(self, chain: Sequence[str]) -> list[str]:
        tree, client, gotrue = self._ts_surface()
        current: tuple[DeclFile, Decl] | None = client
        for position, name in enumerate(chain):
            if current is None:
                return []  # past what the declarations describe: not an invented name
            member = current[1].members.get(name)
            if member is None:
                return ["unknown_method"]
            if position == 0 and name == "auth":
                current = gotrue  # SupabaseAuthClient is auth-js's client, unchanged
            elif not member.method:
                current = tree.resolve(current[0], member.type.strip(), "")
        return []

    @staticmethod
    def label_py(chain: Sequence[str], kwargs: Sequence[str] = ()) -> list[str]:
        # supabase-py is imported only when a row needs it: a TypeScript-only run can go without.
        from supabase import Client  # noqa: PLC0415

        hints = typing.get_type_hints(Client._init_supabase_auth_client)
        current: Any = Client
        for position, name in enumerate(chain):
            if position == 0 and name == "auth":
                current = hints["return"]
                continue
            if not hasattr(current, name):
                return ["unknown_method"]
            current = getattr(current, name)
        if kwargs and callable(current):
            accepted = inspect.signature(current).parameters
            if any(name not in accepted for name in kwargs):
                return ["unknown_param"]
        return []

    def label(self, lang: str, call: Mapping[str, Any]) -> list[str]:
        if lang == "python":
            return self.label_py(call["chain"], call.get("kwargs") or ())
        return self.label_ts(call["chain"])


def label(row: Row, schema: Schema, methods: MethodOracle) -> list[str]:
    if "method" in row.oracle:
        return methods.label(row.lang, row.oracle["method"])
    return label_refs(schema, row.oracle.get("refs") or [])


def main() -> int:
    schema, methods = load_schema(), MethodOracle()
    return disagreements("supabase_*.yaml", lambda row: label(row, schema, methods))


if __name__ == "__main__":
    sys.exit(main())
