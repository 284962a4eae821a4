"""The calls an extractor finds in source code, in any language.

Every extractor (Python with ``ast``, TypeScript and JavaScript with tree-sitter)
produces these records, so each index and check serves every language.
"""

from __future__ import annotations

import dataclasses

from fleetnb.truth.shapes import KeyTree

__all__ = [
    "STRIPE_CLIENT",
    "SUPABASE_JS_CLIENT",
    "SUPABASE_PY_CLIENT",
    "BuilderStep",
    "Calls",
    "HttpCall",
    "ModuleCall",
    "Ref",
    "TableCall",
    "Unresolved",
]

STRIPE_CLIENT = "stripe.StripeClient()"
SUPABASE_PY_CLIENT = "supabase.Client()"  # made by create_client, acreate_client or Client(...)
# A supabase-js client (createClient, createBrowserClient, createServerClient); chains keep
# the JavaScript names: ``auth.signInWithPassword``.
SUPABASE_JS_CLIENT = "@supabase/supabase-js:client"


@dataclasses.dataclass(frozen=True, slots=True)
class Ref:
    """What a name in the code stands for, as extractors follow bindings: a module or
    client root and the attributes after it (``customers = client.v1.customers``)."""

    root: str
    chain: tuple[str, ...] = ()
    base_url: str | None = None  # an HTTP client's base URL (HOLE when computed)


@dataclasses.dataclass(frozen=True, slots=True)
class ModuleCall:
    """A call through an imported module or an SDK client: ``root`` then attributes.

    ``root`` is a module name (``stripe``, ``os.path``) or ``stripe.StripeClient()``
    for a client instance. ``kwargs`` holds the keyword arguments (incomplete when
    ``**mapping`` is spread), ``params`` a ``params=``/positional dict literal
    (None when absent, ``params_dynamic`` when passed but not a literal).
    ``args`` keeps each positional argument's keys when it is a dict literal, since
    SDK methods also take params positionally after their IDs.
    ``guarded`` marks a call under a platform, version or ``hasattr`` test, or in a
    ``try`` that catches AttributeError or ImportError: the code expects it may be missing.
    ``shown`` is the call as its own language spells it (``stripe.paymentIntents.create``)
    when ``chain`` holds another SDK's names for the same method.
    """

    root: str
    chain: tuple[str, ...]
    line: int
    column: int
    kwargs: KeyTree
    params: KeyTree | None = None
    params_dynamic: bool = False
    guarded: bool = False
    args: tuple[KeyTree | None, ...] = ()  # positional arguments: a dict literal's keys or None
    spread: bool = False  # ``*args`` among them: positions are unknown
    shown: str | None = None

    @property
    def api(self) -> str:
        if self.shown is not None:
            return self.shown
        head = "client" if self.root == STRIPE_CLIENT else self.root
        return ".".join((head, *self.chain))


@dataclasses.dataclass(frozen=True, slots=True)
class HttpCall:
    """A raw HTTP call; ``url`` carries HOLE where the code computes a segment."""

    verb: str
    url: str
    line: int
    column: int
    keys: KeyTree
    library: str


@dataclasses.dataclass(frozen=True, slots=True)
class Unresolved:
    line: int
    column: int
    reason: str


@dataclasses.dataclass(frozen=True, slots=True)
class BuilderStep:
    """One method of a query-builder chain: ``.eq("status", x)`` is ``eq`` with its arguments.

    ``strings`` holds each positional argument that is a string literal (None for any
    other argument); ``keys`` the keys of an object/dict literal argument (``insert``,
    ``update``, ``upsert``, ``match``; a list of literals merged), None when absent or
    computed.
    """

    name: str
    line: int
    column: int
    strings: tuple[str | None, ...] = ()
    keys: KeyTree | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class TableCall:
    """A PostgREST query through a Supabase client.

    ``supabase.table("posts").select("id, title").eq("author", a)`` in Python,
    ``supabase.from('posts').select('id, title').eq('author', a)`` in TypeScript:
    ``table`` is None when the name is computed; ``schema`` is set by
    ``.schema("x")`` before the table; ``steps`` are the builder methods after it.
    ``supabase.rpc("fn", {...})`` is one too: ``table`` names the function and the
    first step is ``rpc`` itself, carrying the arguments' keys.
    """

    table: str | None
    line: int
    column: int
    steps: tuple[BuilderStep, ...] = ()
    schema: str | None = None


@dataclasses.dataclass(slots=True)
class Calls:
    module_calls: list[ModuleCall] = dataclasses.field(default_factory=list)
    http_calls: list[HttpCall] = dataclasses.field(default_factory=list)
    table_calls: list[TableCall] = dataclasses.field(default_factory=list)
    unresolved: list[Unresolved] = dataclasses.field(default_factory=list)
    imports: set[str] = dataclasses.field(default_factory=set)  # top-level names
    modules: set[str] = dataclasses.field(default_factory=set)  # every dotted module imported
    # Where each top-level package is first imported, (line, column); imports the code
    # expects may fail (``try: import x`` / ``except ImportError``) are left out.
    import_sites: dict[str, tuple[int, int]] = dataclasses.field(default_factory=dict)
    # Lines of the parts a parser skipped to recover (tree-sitter reads on past errors).
    syntax_errors: list[int] = dataclasses.field(default_factory=list)
