"""Supabase queries (``TableCall``) checked against the project's own database schema.

Tables, columns in select strings, filters, ``order`` and written keys, and
``rpc`` functions are looked up in the schema the migrations (or PostgREST's
OpenAPI document) describe. What the schema cannot answer is counted as
unresolved and never flagged: a computed name, a schema the migrations do not
define, a view built on ``select *``, an embed through a foreign key's name.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from fleetnb.truth.calls import BuilderStep, ModuleCall, TableCall
from fleetnb.truth.findings import CheckReport, Finding, FindingKind, closest
from fleetnb.truth.postgrest_select import (
    Embed,
    SelectItem,
    base_column,
    filter_columns,
    parse_select,
)
from fleetnb.truth.sql_schema import (
    DEFAULT_SCHEMA,
    DbSchema,
    Relation,
    find_project_root,
    load_db_schema,
    migration_files,
)
from fleetnb.truth.supabase_client import check_client_call, load_builder_names, load_client_index
from fleetnb.truth.supabase_js import check_js_client_call, find_declarations, load_declarations

__all__ = ["COLUMN_METHODS", "SupabaseSurfaces", "check_table_calls"]

# Builder methods whose first argument names a column of the queried table.
COLUMN_METHODS = frozenset(
    {
        "eq", "neq", "gt", "gte", "lt", "lte", "like", "ilike", "is_", "is", "in_", "in",
        "contains", "contained_by", "containedBy", "order", "filter", "text_search",
        "textSearch", "fts", "plfts", "phfts", "wfts", "ov", "overlaps", "range_gt",
        "range_gte", "range_lt", "range_lte", "range_adjacent", "rangeGt", "rangeGte",
        "rangeLt", "rangeLte", "rangeAdjacent", "like_all_of", "like_any_of",
        "ilike_all_of", "ilike_any_of", "likeAllOf", "likeAnyOf", "ilikeAllOf",
        "ilikeAnyOf", "sl", "sr", "nxl", "nxr", "adj", "cs", "cd", "not",
    }
)  # fmt: skip
_WRITE_METHODS = frozenset({"insert", "update", "upsert", "match"})
_LOGIC_METHODS = frozenset({"or_", "or"})  # a filter string: "status.eq.done,id.gt.3"
# supabase-js options naming an embedded table: the column belongs to it, not to this one.
_EMBEDDED_OPTIONS = frozenset({"referencedTable", "foreignTable"})


class SupabaseSurfaces:
    """The schemas of the projects a check visits, and the supabase-py client's index.

    Each checked file's project (the nearest directory above it holding a Supabase
    project or ``.git``) contributes its ``supabase/migrations``; ``given``
    files (migrations, folders of them, PostgREST JSON) are applied after them.
    Problems reading them are reported once, with the first file that needs them.
    A schema is read again when its files change: an agent adds a migration, then
    the code that uses its table, under the same long-lived checker.
    """

    def __init__(self, given: Sequence[str | os.PathLike[str]] = ()) -> None:
        self.given = [Path(source) for source in given]
        self._schemas: dict[Path | None, tuple[_Stamp, DbSchema | None]] = {}

    def schema(self, path: str | None) -> tuple[DbSchema | None, list[str]]:
        """The schema for code at ``path``, and the problems met building it (first time only)."""
        root = find_project_root(path) if path is not None else None
        sources = [*(migration_files(root) if root is not None else []), *self.given]
        stamp = _stamp(sources)
        cached = self._schemas.get(root)
        if cached is not None and cached[0] == stamp:
            return cached[1], []
        schema = load_db_schema(sources) if sources else None
        self._schemas[root] = (stamp, schema)
        return schema, list(schema.problems) if schema is not None else []

    def check_tables(
        self, calls: Sequence[TableCall], path: str | None, lang: str = "python"
    ) -> CheckReport:
        if not calls:
            return CheckReport()
        schema, problems = self.schema(path)
        # supabase-py's builders by introspection; supabase-js's builder methods are not
        # indexed yet, so TypeScript chains are checked for tables and columns only.
        builders = load_builder_names() if lang == "python" else None
        report = check_table_calls(schema, calls, path, builders)
        report.problems.extend(problems)
        return report

    def check_client(self, call: ModuleCall, path: str | None) -> CheckReport:
        index = load_client_index()
        if index is None:
            return CheckReport(
                calls_unresolved=1,
                problems=[
                    "supabase is not installed, so supabase-py client calls were not checked; "
                    "install it (pip install 'fleetnb[truth]')"
                ],
            )
        report = check_client_call(index, call, path)
        report.problems.extend(index.problems)
        return report

    def check_js_client(self, call: ModuleCall, path: str | None) -> CheckReport:
        """Against ``node_modules/@supabase`` above ``path``; unresolved when none is installed."""
        scope = find_declarations(path) if path is not None else None
        if scope is None:
            return CheckReport(calls_unresolved=1)
        return check_js_client_call(load_declarations(scope), call, path)


_Stamp = tuple[tuple[str, int, int], ...]


def _stamp(sources: Sequence[Path]) -> _Stamp:
    """Each source's name, modification time and size: what tells that it changed."""
    stamps: list[tuple[str, int, int]] = []
    for source in sources:
        try:
            info = source.stat()
        except OSError:
            stamps.append((str(source), -1, -1))
            continue
        stamps.append((str(source), info.st_mtime_ns, info.st_size))
    return tuple(stamps)


def check_table_calls(
    schema: DbSchema | None,
    calls: Iterable[TableCall],
    path: str | None,
    builders: frozenset[str] | None = None,
) -> CheckReport:
    """Findings for ``calls`` against ``schema``; every call without a schema is unresolved,
    unless it chains a method no query builder has (``builders``: every builder's names)."""
    report = CheckReport()
    for call in calls:
        query = _Query(schema, call, path, report)
        if builders is None or not query.unknown_steps(builders):
            query.check()
    return report


# The client's own methods that start a query: a chain may hold them when the
# extractor could not tell where the query began (a computed schema).
_CLIENT_STARTS = frozenset({"table", "from_", "schema", "rpc"})


@dataclasses.dataclass(slots=True)
class _Query:
    schema: DbSchema | None
    call: TableCall
    path: str | None
    report: CheckReport

    @property
    def api(self) -> str:
        if self.call.steps[:1] and self.call.steps[0].name == "rpc":
            return f"supabase.rpc({self.call.table!r})"
        python = self.path is None or self.path.endswith((".py", ".pyi"))
        return f"supabase.{'table' if python else 'from'}({self.call.table!r})"

    def unknown_steps(self, builders: frozenset[str]) -> bool:
        """Flag chained methods no query builder has (``.where(...)``); True if any."""
        unknown = [s for s in self.call.steps if s.name not in builders | _CLIENT_STARTS]
        for step in unknown:
            self.report.findings.append(
                Finding(
                    self.path,
                    step.line,
                    step.column,
                    f"{self.api}.{step.name}",
                    "unknown_method",
                    "error",
                    f"the query builder has no method or attribute `{step.name}`",
                    closest(step.name, builders),
                )
            )
        if unknown:
            self.report.calls_checked += 1
        return bool(unknown)

    def check(self) -> None:
        schema, table, call = self.schema, self.call.table, self.call
        where = call.schema or DEFAULT_SCHEMA
        if schema is None or table is None or not schema.sources or where not in schema.schemas:
            self.report.calls_unresolved += 1
            return
        if call.steps[:1] and call.steps[0].name == "rpc":
            self._rpc(schema, where, table)
            return
        relation = schema.relation(where, table)
        if relation is None:
            self._unknown_table(schema, where, table)
            return
        self.report.calls_checked += 1
        for step in call.steps:
            self._step(schema, relation, step)

    def _unknown_table(self, schema: DbSchema, where: str, table: str) -> None:
        if not schema.complete:
            self.report.calls_unresolved += 1  # a migration we could not read may define it
            return
        self.report.calls_checked += 1
        self._finding(
            (self.call.line, self.call.column),
            "unknown_table",
            f"no table or view `{where}.{table}` in the project's schema ({_described(schema)})",
            closest(table, schema.names_in(where)),
        )

    def _rpc(self, schema: DbSchema, where: str, name: str) -> None:
        if (where, name) in schema.functions or not schema.complete:
            self._resolved((where, name) in schema.functions)
            self._rpc_arguments(schema.params.get((where, name)), f"{where}.{name}")
            return
        self.report.calls_checked += 1
        self._finding(
            (self.call.line, self.call.column),
            "unknown_method",
            f"no function `{where}.{name}` for rpc in the project's schema ({_described(schema)})",
            closest(name, schema.functions_in(where)),
        )

    def _rpc_arguments(self, accepted: frozenset[str] | None, function: str) -> None:
        """PostgREST finds the function by its argument names: an unknown one is a 404."""
        passed = self.call.steps[0].keys
        if accepted is None or passed is None:
            return
        for key, node in passed.keys.items():
            if key not in accepted:
                self._finding(
                    (node.line, node.column),
                    "unknown_param",
                    f"function `{function}` has no argument `{key}` "
                    f"(it takes {', '.join(sorted(accepted)) or 'none'})",
                    closest(key, accepted),
                )

    def _resolved(self, ok: bool) -> None:
        if ok:
            self.report.calls_checked += 1
        else:
            self.report.calls_unresolved += 1

    def _step(self, schema: DbSchema, relation: Relation, step: BuilderStep) -> None:
        at = (step.line, step.column)
        if step.name == "select" and step.strings and step.strings[0] is not None:
            items = parse_select(step.strings[0])
            if items is None:
                self.report.calls_unresolved += 1  # not PostgREST's grammar: let the server say
                return
            self._select(schema, relation, items, at)
        elif step.name == "select" and step.strings:
            self.report.calls_unresolved += 1  # a select string computed at run time
        elif step.keys is not None and _EMBEDDED_OPTIONS & step.keys.keys.keys():
            return
        elif step.name in _LOGIC_METHODS and step.strings and step.strings[0] is not None:
            named = filter_columns(step.strings[0])
            if named is None:
                self.report.calls_unresolved += 1
            for name in named or ():
                self._column(relation, name, at, f"`{step.name}`")
        elif step.name in COLUMN_METHODS and step.strings and step.strings[0] is not None:
            column = base_column(step.strings[0])
            if column is not None:
                self._column(relation, column, at, f"`{step.name}`")
        elif step.name in _WRITE_METHODS and step.keys is not None:
            for key, node in step.keys.keys.items():
                self._column(relation, key, (node.line, node.column), f"`{step.name}`")

    def _select(
        self,
        schema: DbSchema,
        relation: Relation,
        items: tuple[SelectItem, ...],
        at: tuple[int, int],
    ) -> None:
        for item in items:
            if isinstance(item, str):
                self._column(relation, item, at, "the select")
                continue
            embedded = _embedded(schema, relation, item)
            if embedded is not None:
                self._select(schema, embedded, item.items, at)
            elif _may_be_a_relationship(schema, relation, item.target):
                self.report.calls_unresolved += 1  # a foreign key's name or column, not a table
            else:
                self._finding(
                    at,
                    "unknown_table",
                    f"no table or view `{relation.schema}.{item.target}` to embed in the select "
                    f"on `{relation.schema}.{relation.name}` ({_described(schema)})",
                    closest(item.target, schema.names_in(relation.schema)),
                )

    def _column(self, relation: Relation, column: str, at: tuple[int, int], used: str) -> None:
        if relation.columns is None or column in relation.columns:
            return
        renamed = relation.renamed.get(column)
        note = f"; a migration renamed it to `{renamed}`" if renamed else ""
        self._finding(
            at,
            "unknown_column",
            f"{relation.kind} `{relation.schema}.{relation.name}` has no column `{column}` "
            f"(used in {used}){note}",
            renamed or closest(column, relation.columns),
        )

    def _finding(
        self, at: tuple[int, int], kind: FindingKind, message: str, suggestion: str | None
    ) -> None:
        line, column = at
        self.report.findings.append(
            Finding(self.path, line, column, self.api, kind, "error", message, suggestion)
        )


def _embedded(schema: DbSchema, relation: Relation, embed: Embed) -> Relation | None:
    """The table an embed reads, looked up in the schema of the table it hangs from."""
    return schema.relation(relation.schema, embed.target)


def _may_be_a_relationship(schema: DbSchema, relation: Relation, target: str) -> bool:
    """Whether an embed target that is no table may still be valid PostgREST.

    It may name a foreign-key column of the table (``author_id(name)``), a
    constraint (``posts_author_id_fkey``), or a function taking the row (a computed
    relationship); and an unread migration or unknown columns leave every one open.
    """
    return (
        not schema.complete
        or relation.columns is None
        or target in relation.columns
        or (relation.schema, target) in schema.functions
        or target in schema.constraints
        or "fkey" in target
        or target.endswith("_fk")
        or target.startswith("fk_")
    )


def _described(schema: DbSchema) -> str:
    count = len(schema.sources)
    return f"read from {count} migration or schema file{'s' if count != 1 else ''}"
