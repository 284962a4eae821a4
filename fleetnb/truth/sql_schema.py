"""A Supabase project's database schema, read from its SQL migrations or PostgREST document.

Migrations (``supabase/migrations/*.sql``) are applied in filename order with
sqlglot's Postgres dialect: tables and their columns, views, functions (for
``rpc``) and schemas. Statements sqlglot cannot parse (plpgsql bodies, policies,
``create extension``, ``do`` blocks) are skipped and counted; when a skipped
statement may have changed a table, that table's columns become unknown rather
than wrong, so the check never flags a column a migration really added.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import TokenType, exp
from sqlglot.errors import ParseError, TokenError

from fleetnb.truth.sql_arguments import text_params, tree_params

__all__ = [
    "DEFAULT_SCHEMA",
    "DbSchema",
    "Relation",
    "find_project_root",
    "load_db_schema",
    "migration_files",
]

DEFAULT_SCHEMA = "public"
_MAX_SQL_BYTES = 8 * 1024 * 1024  # a migration this large is a data dump, not schema


@dataclasses.dataclass(slots=True)
class Relation:
    """A table or view; ``columns`` None when they cannot be known (``select *``)."""

    schema: str
    name: str
    kind: str  # "table" or "view"
    columns: list[str] | None
    renamed: dict[str, str] = dataclasses.field(default_factory=dict)  # old column -> new


@dataclasses.dataclass(slots=True)
class DbSchema:
    """Relations by (schema, name), functions by (schema, name), and what was skipped.

    ``complete`` is False when a statement that may have created a table could not
    be read: an unknown table is then left unresolved instead of flagged.
    """

    relations: dict[tuple[str, str], Relation] = dataclasses.field(default_factory=dict)
    functions: set[tuple[str, str]] = dataclasses.field(default_factory=set)
    # Each function's argument names (overloads merged); None when they cannot be told.
    params: dict[tuple[str, str], frozenset[str] | None] = dataclasses.field(default_factory=dict)
    # Named constraints: PostgREST embeds may name a foreign key instead of a table.
    constraints: set[str] = dataclasses.field(default_factory=set)
    schemas: set[str] = dataclasses.field(default_factory=lambda: {DEFAULT_SCHEMA})
    complete: bool = True
    statements: int = 0
    skipped: int = 0
    sources: list[str] = dataclasses.field(default_factory=list)
    problems: list[str] = dataclasses.field(default_factory=list)

    def relation(self, schema: str, name: str) -> Relation | None:
        return self.relations.get((schema, name))

    def names_in(self, schema: str) -> list[str]:
        return [name for (where, name) in self.relations if where == schema]

    def functions_in(self, schema: str) -> list[str]:
        return [name for (where, name) in self.functions if where == schema]

    def add_function(self, key: tuple[str, str], params: frozenset[str] | None) -> None:
        """Another definition of ``key`` is an overload: either's arguments are accepted."""
        if key in self.functions:
            known = self.params.get(key)
            params = None if known is None or params is None else known | params
        self.functions.add(key)
        self.params[key] = params


def find_project_root(path: str | os.PathLike[str]) -> Path | None:
    """The nearest directory at or above ``path`` holding a Supabase project or ``.git``.

    A ``supabase/`` folder counts only with ``migrations``, ``schemas`` or ``config.toml``
    in it: a Python package named supabase is not a project.
    """
    start = Path(path).resolve()
    for directory in (start, *start.parents) if start.is_dir() else start.parents:
        project = directory / "supabase"
        if any((project / part).exists() for part in ("migrations", "schemas", "config.toml")):
            return directory
        if (directory / ".git").exists():
            return directory
    return None


def migration_files(root: Path) -> list[Path]:
    """``supabase/migrations/*.sql`` in the order the Supabase CLI applies them: by name.

    Declarative schema files (``supabase/schemas/*.sql``) follow: they state the
    schema the next migration will reach, so they win over the migrations so far.
    """
    found: list[Path] = []
    for folder in ("migrations", "schemas"):
        directory = root / "supabase" / folder
        found.extend(sorted(directory.glob("*.sql")) if directory.is_dir() else [])
    return found


def load_db_schema(sources: Iterable[str | os.PathLike[str]]) -> DbSchema:
    """Apply ``sources`` in order: ``.sql`` migrations, folders of them, PostgREST JSON.

    A folder is read as a project (its ``supabase/migrations``) when it is one.
    Unreadable inputs are recorded in ``problems``, never raised.
    """
    schema = DbSchema()
    for raw in sources:
        path = Path(raw)
        files = (migration_files(path) or sorted(path.glob("*.sql"))) if path.is_dir() else [path]
        for file in files:
            schema.sources.append(str(file))
            if file.suffix.lower() == ".json":
                _apply_postgrest(schema, file)
            else:
                _apply_migration(schema, file)
    return schema


# -- migrations ------------------------------------------------------------------


def _apply_migration(schema: DbSchema, file: Path) -> None:
    try:
        if file.stat().st_size > _MAX_SQL_BYTES:
            raise OSError(0, f"over the {_MAX_SQL_BYTES}-byte limit for a migration")
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        schema.problems.append(f"{file}: cannot be read ({reason}); its schema was not applied")
        schema.complete = False
        return
    try:
        chunks = list(_statements(text))
    except TokenError as exc:
        schema.problems.append(
            f"{file}: is not SQL that can be split into statements ({exc}); its tables "
            "were not read, so unknown tables are not reported; fix the quoting in the file"
        )
        schema.complete = False
        return
    read = sum(_apply_statement(schema, chunk) for chunk in chunks)
    if chunks and not read:
        schema.complete = False  # whatever it meant to create is unknown
        schema.problems.append(
            f"{file}: none of its {len(chunks)} statement(s) could be read as Postgres SQL, "
            "so unknown tables are not reported; check that it is a SQL migration"
        )


def _statements(text: str) -> Iterator[str]:
    """Each statement's text, split on the semicolons the tokenizer sees outside strings."""
    start = 0
    for token in sqlglot.tokenize(text, read="postgres"):
        if token.token_type == TokenType.SEMICOLON:
            chunk = text[start : token.start].strip()
            if chunk:
                yield chunk
            start = token.end + 1
    rest = text[start:].strip()
    if rest:
        yield rest


def _apply_statement(schema: DbSchema, sql: str) -> bool:
    """Apply one statement; False when sqlglot could not read it (skipped, counted)."""
    schema.statements += 1
    schema.constraints.update(_ident_text(name) for name in _CONSTRAINT.findall(sql))
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)  # sqlglot logs each fallback to a raw command
    try:
        tree = sqlglot.parse_one(sql, read="postgres")
    except (ParseError, TokenError, ValueError, RecursionError):
        tree = None
    finally:
        logger.setLevel(level)
    if tree is None or isinstance(tree, exp.Command):
        schema.skipped += 1
        _skipped(schema, sql)
        return tree is not None
    if isinstance(tree, exp.Create):
        _create(schema, tree)
    elif isinstance(tree, exp.Alter):
        _alter(schema, tree)
    elif isinstance(tree, exp.Drop):
        _drop(schema, tree)
    return True


_FUNCTION = re.compile(
    r"^\s*create\s+(?:or\s+replace\s+)?function\s+((?:\"[^\"]+\"|[\w$]+)(?:\s*\.\s*(?:\"[^\"]+\"|[\w$]+))?)",
    re.IGNORECASE,
)
_LEADING_COMMENTS = re.compile(r"^(?:\s*(?:--[^\n]*|/\*.*?\*/))*\s*", re.DOTALL)
_CONSTRAINT = re.compile(r'\bconstraint\s+("(?:[^"]|"")+"|[\w$]+)', re.IGNORECASE)
_IDENT = re.compile(r'"(?:[^"]|"")+"|[\w$]+')
_TABLE_CHANGE = re.compile(
    r"^\s*(?:create|alter)\s+(?:or\s+replace\s+)?(?:(?:temp|temporary|unlogged|materialized)\s+)?"
    r"(?:table|view)\s+(?:if\s+(?:not\s+)?exists\s+)?(?:only\s+)?"
    r"((?:\"[^\"]+\"|[\w$]+)(?:\s*\.\s*(?:\"[^\"]+\"|[\w$]+))?)",
    re.IGNORECASE,
)
# ALTER TABLE forms that never change the columns a query can name.
_HARMLESS_ALTER = re.compile(
    r"\b(row\s+level\s+security|owner\s+to|replica\s+identity|set\s+\(|reset\s+\()", re.IGNORECASE
)


def _skipped(schema: DbSchema, sql: str) -> None:
    """Keep what a statement sqlglot does not model still tells: a function's name.

    A table statement it cannot read makes that table's columns unknown.
    """
    sql = _LEADING_COMMENTS.sub("", sql)
    function = _FUNCTION.match(sql)
    if function:
        schema.add_function(_split_name(function.group(1)), text_params(sql[function.end() :]))
        return
    change = _TABLE_CHANGE.match(sql)
    if change is None:
        return
    if sql.lstrip()[:5].lower() == "alter" and _HARMLESS_ALTER.search(sql):
        return
    where, name = _split_name(change.group(1))
    found = schema.relation(where, name)
    if found is not None:
        found.columns = None
    elif sql.lstrip()[:6].lower() == "create":
        schema.relations[(where, name)] = Relation(where, name, "table", None)


def _split_name(text: str) -> tuple[str, str]:
    parts = [_ident_text(part) for part in _IDENT.findall(text)]
    return (parts[0], parts[1]) if len(parts) == 2 else (DEFAULT_SCHEMA, parts[-1])


def _ident_text(text: str) -> str:
    """Postgres folds unquoted identifiers to lower case; quoted ones keep their case."""
    return text[1:-1].replace('""', '"') if text.startswith('"') else text.lower()


def _ident(node: exp.Expression | None) -> str:
    if isinstance(node, exp.Identifier):
        text = str(node.this)
        return text if node.quoted else text.lower()
    if isinstance(node, exp.Expression):
        return node.name.lower()
    return ""


def _table_key(table: exp.Table) -> tuple[str, str]:
    db = table.args.get("db")
    return (_ident(db) if db is not None else DEFAULT_SCHEMA), _ident(table.this)


def _create(schema: DbSchema, tree: exp.Create) -> None:
    kind = str(tree.args.get("kind") or "").upper()
    target = tree.this
    if kind == "SCHEMA" and isinstance(target, exp.Table):
        db = target.args.get("db")
        schema.schemas.add(_ident(db if db is not None else target.this))
    elif kind == "FUNCTION" and isinstance(target, exp.UserDefinedFunction):
        if isinstance(target.this, exp.Table):
            schema.add_function(_table_key(target.this), tree_params(target.expressions))
    elif kind in ("TABLE", "VIEW"):
        _create_relation(schema, tree, "table" if kind == "TABLE" else "view")


def _create_relation(schema: DbSchema, tree: exp.Create, kind: str) -> None:
    target = tree.this
    listed: list[str] | None = None
    if isinstance(target, exp.Schema):
        listed = _listed_columns(target)
        target = target.this
    if not isinstance(target, exp.Table):
        return
    key = _table_key(target)
    if tree.args.get("exists") and key in schema.relations:
        return  # CREATE ... IF NOT EXISTS leaves the existing one alone
    query = tree.args.get("expression")
    columns = listed if listed else None
    if columns is None and isinstance(query, exp.Query):
        columns = _select_columns(query)
    elif columns is None and kind == "table" and listed is not None:
        columns = []
    schema.relations[key] = Relation(key[0], key[1], kind, columns)
    schema.schemas.add(key[0])


def _listed_columns(target: exp.Schema) -> list[str] | None:
    columns: list[str] = []
    for item in target.expressions:
        if isinstance(item, exp.ColumnDef):
            columns.append(_ident(item.this))
        elif isinstance(item, exp.Identifier):
            columns.append(_ident(item))
        elif isinstance(item, exp.LikeProperty):
            return None  # CREATE TABLE t (LIKE other): columns copied from elsewhere
    return columns


def _select_columns(query: exp.Query) -> list[str] | None:
    """The names Postgres gives a select list's columns; None when a ``*`` hides them."""
    if not isinstance(query, exp.Select):
        return None  # a UNION's names are its first branch's; rare enough to leave unknown
    names: list[str] = []
    for projection in query.expressions:
        name = _output_name(projection)
        if name is None:
            return None
        names.append(name)
    return names


def _output_name(node: exp.Expression) -> str | None:
    if isinstance(node, exp.Star) or (isinstance(node, exp.Column) and node.is_star):
        return None
    if isinstance(node, exp.Alias):
        return _ident(node.args.get("alias"))
    if isinstance(node, exp.Column):
        return _ident(node.this)
    if isinstance(node, exp.Cast):
        return _output_name(node.this)
    if isinstance(node, exp.Func):
        return str(node.this).lower() if isinstance(node, exp.Anonymous) else node.key.lower()
    return "?column?"


def _alter(schema: DbSchema, tree: exp.Alter) -> None:
    if str(tree.args.get("kind") or "").upper() not in ("TABLE", "VIEW"):
        return
    if not isinstance(tree.this, exp.Table):
        return
    key = _table_key(tree.this)
    relation = schema.relations.get(key)
    if relation is None:
        return  # altering a table created outside the migrations (auth.users)
    for action in tree.args.get("actions") or []:
        relation = _alter_action(schema, relation, action)


def _alter_action(schema: DbSchema, relation: Relation, action: exp.Expression) -> Relation:
    columns = relation.columns
    if isinstance(action, exp.AlterRename) and isinstance(action.this, exp.Table):
        del schema.relations[(relation.schema, relation.name)]
        new_schema = action.this.args.get("db")
        renamed = Relation(
            _ident(new_schema) if new_schema is not None else relation.schema,
            _ident(action.this.this),
            relation.kind,
            columns,
            relation.renamed,
        )
        schema.relations[(renamed.schema, renamed.name)] = renamed
        return renamed
    if columns is None:
        return relation
    if isinstance(action, exp.ColumnDef):
        name = _ident(action.this)
        if name not in columns:
            columns.append(name)
    elif isinstance(action, exp.RenameColumn):
        old, new = _ident(action.this.this), _ident(action.args["to"].this)
        relation.columns = [new if column == old else column for column in columns]
        relation.renamed = {k: new if v == old else v for k, v in relation.renamed.items()}
        relation.renamed[old] = new
    elif isinstance(action, exp.Drop) and str(action.args.get("kind") or "").upper() == "COLUMN":
        gone = {_ident(column.this) for column in action.args.get("tables") or []}
        relation.columns = [column for column in columns if column not in gone]
    return relation


def _drop(schema: DbSchema, tree: exp.Drop) -> None:
    kind = str(tree.args.get("kind") or "").upper()
    for target in tree.args.get("tables") or []:
        if not isinstance(target, exp.Table):
            continue
        key = _table_key(target)
        if kind in ("TABLE", "VIEW", "MATERIALIZED VIEW"):
            schema.relations.pop(key, None)
        elif kind == "FUNCTION":
            schema.functions.discard(key)
            schema.params.pop(key, None)
        elif kind == "SCHEMA":
            schema.schemas.discard(key[1])


# -- PostgREST's OpenAPI document ---------------------------------------------------


def _apply_postgrest(schema: DbSchema, file: Path) -> None:
    """``GET /rest/v1/`` (Swagger 2): ``definitions`` are tables and views, ``/rpc/<fn>`` paths.

    The document describes the one schema the API exposes by default: ``public``.
    """
    try:
        document: Any = json.loads(file.read_bytes())
    except (OSError, ValueError) as exc:
        schema.problems.append(
            f"{file}: not a readable PostgREST OpenAPI document ({exc.__class__.__name__}); "
            "save the JSON that GET /rest/v1/ returns with your anon key"
        )
        schema.complete = False
        return
    definitions = document.get("definitions") if isinstance(document, dict) else None
    if not isinstance(definitions, dict):
        schema.problems.append(
            f"{file}: has no `definitions`, so it is not PostgREST's OpenAPI output; "
            "save the JSON that GET /rest/v1/ returns"
        )
        schema.complete = False
        return
    for name, definition in definitions.items():
        properties = definition.get("properties") if isinstance(definition, dict) else None
        columns = list(properties) if isinstance(properties, dict) else None
        schema.relations[(DEFAULT_SCHEMA, name)] = Relation(DEFAULT_SCHEMA, name, "table", columns)
    for path, item in (document.get("paths") or {}).items():
        if isinstance(path, str) and path.startswith("/rpc/"):
            schema.add_function((DEFAULT_SCHEMA, path.removeprefix("/rpc/")), _body_params(item))


def _body_params(item: Any) -> frozenset[str] | None:
    """The argument names of ``POST /rpc/fn``: its body schema's properties."""
    post = item.get("post") if isinstance(item, dict) else None
    if not isinstance(post, dict):
        return None
    for parameter in post.get("parameters") or []:
        body = parameter.get("schema") if isinstance(parameter, dict) else None
        if isinstance(body, dict) and isinstance(body.get("properties"), dict):
            return frozenset(body["properties"])
    return None
