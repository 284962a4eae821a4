"""A reader of TypeScript declaration files (``.d.ts``), enough for the oracles.

The oracles label rows from the npm packages' declarations, a source independent of
the checker's own indexes (which read the Python SDKs). Generated declarations are
regular: one member per statement, blocks in braces, so a brace-matching reader is
enough; it merges namespaces declared several times, as TypeScript does.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

__all__ = ["Decl", "DeclFile", "DeclTree", "Member"]

_COMMENTS = re.compile(r"/\*.*?\*/|//[^\n]*", re.DOTALL)
_STRINGS = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"|`[^`]*`")
_HEAD = re.compile(
    r"(?:export\s+)?(?:declare\s+)?(?:abstract\s+)?"
    r"(class|interface|namespace|module|type|import|const|let|function|enum)\b"
)
_NAME = re.compile(r"\s*([\w$]+)")
_PROPERTY = re.compile(
    r"^(?:(?:readonly|static|public|protected)\s+)*([\w$]+)(\??)\s*:\s*(.*)$", re.S
)
_METHOD = re.compile(r"^(?:(?:static|public|async)\s+)*([\w$]+)\??\s*(?:<.*?>)?\s*\((.*)$", re.S)
_GETTER = re.compile(r"^get\s+([\w$]+)\s*\(\s*\)\s*:\s*(.*)$", re.S)
_IMPORT = re.compile(r"import\s*\{(.*?)\}\s*from\s*['\"](.+?)['\"]", re.S)
_ALIAS = re.compile(r"import\s+([\w$]+)\s*=\s*([\w$.]+)")
_OPEN = "({[<"
_CLOSE = ")}]>"


@dataclasses.dataclass(slots=True)
class Member:
    name: str
    optional: bool
    type: str  # a property's type, or a method's parameter list and return type
    method: bool


@dataclasses.dataclass(slots=True)
class Decl:
    """A class or interface (``members``), a type alias (``alias``) or an import alias."""

    kind: str
    name: str
    members: dict[str, Member] = dataclasses.field(default_factory=dict)
    extends: list[str] = dataclasses.field(default_factory=list)
    alias: str | None = None
    indexed: bool = False  # ``[key: string]: T``: any key is accepted


def _blank_strings(text: str) -> str:
    """Strings may hold braces; keep their length so positions stay valid."""
    return _STRINGS.sub(lambda m: m.group(0)[0] + " " * (len(m.group(0)) - 2) + m.group(0)[0], text)


def _matching(text: str, start: int) -> int:
    """The index just past the brace that closes the one at ``start``."""
    depth = 0
    for index in range(start, len(text)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return index + 1
    return len(text)


def _body_start(text: str, start: int) -> int:
    """The brace opening a declaration's body, past any braces in its generic parameters."""
    depth = 0
    for index in range(start, len(text)):
        char = text[index]
        if char == "<":
            depth += 1
        elif char == ">" and text[index - 1] != "=":
            depth -= 1
        elif char == "{" and depth == 0:
            return index
    return len(text)


def _split(body: str, separators: str = ";") -> list[str]:
    """Split at separators outside any bracket (``=>`` is not a closing angle bracket)."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for index, char in enumerate(body):
        if char in _OPEN:
            depth += 1
        elif char in _CLOSE and not (char == ">" and body[index - 1 : index] == "="):
            depth -= 1
        if char in separators and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return [part for part in parts if part]


class DeclFile:
    """One declaration file: its declarations by qualified name and its imports."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.decls: dict[str, Decl] = {}
        self.imports: dict[str, tuple[str, str]] = {}  # local name -> (module, exported name)
        text = path.read_text(encoding="utf-8")
        source = _COMMENTS.sub(" ", text)
        for names, module in _IMPORT.findall(source):
            for item in names.split(","):
                original, _, local = item.strip().partition(" as ")
                if original:
                    self.imports[(local or original).strip()] = (module, original.strip())
        self._block(_blank_strings(source), "")

    def _block(self, text: str, scope: str) -> None:
        position = 0
        while position < len(text):
            head = _HEAD.search(text, position)
            if head is None:
                return
            keyword = head.group(1)
            name_match = _NAME.match(text, head.end())
            name = name_match.group(1) if name_match else ""
            qualified = f"{scope}{name}"
            if keyword in ("class", "interface", "namespace", "module", "enum"):
                brace = _body_start(text, head.end())
                end = _matching(text, brace)
                body = text[brace + 1 : end - 1]
                if keyword in ("namespace", "module"):
                    self._block(body, f"{qualified}.")
                elif keyword != "enum":
                    self._record(keyword, qualified, text[head.end() : brace], body)
                position = end
                continue
            end = text.find(";", head.end())
            end = len(text) if end < 0 else end
            statement = text[head.start() : end]
            if keyword == "type" and "=" in statement:
                alias = statement.split("=", 1)[1].strip()
                self.decls[qualified] = Decl("type", qualified, alias=alias)
            elif keyword == "import" and (found := _ALIAS.search(statement)):
                self.decls[f"{scope}{found.group(1)}"] = Decl(
                    "type", found.group(1), alias=found.group(2)
                )
            position = end + 1

    def _record(self, keyword: str, qualified: str, header: str, body: str) -> None:
        decl = self.decls.setdefault(qualified, Decl(keyword, qualified))
        _, _, parents = header.partition(" extends ")
        parents = parents.split(" implements ")[0]
        decl.extends.extend(
            p.strip() for p in _split(re.sub(r"<.*>", "", parents), ",") if p.strip()
        )
        for statement in _split(body):
            self._member(decl, statement)

    @staticmethod
    def _member(decl: Decl, statement: str) -> None:
        if statement.startswith("["):
            decl.indexed = True
            return
        if statement.startswith(("private ", "constructor", "set ")):
            return
        getter = _GETTER.match(statement)
        if getter:  # ``get functions(): FunctionsClient`` reads as a property of that type
            decl.members[getter.group(1)] = Member(getter.group(1), False, getter.group(2), False)
            return
        method = _METHOD.match(statement)
        prop = _PROPERTY.match(statement)
        if method and (prop is None or method.start(2) < prop.start(3)):
            decl.members.setdefault(
                method.group(1), Member(method.group(1), False, method.group(2), True)
            )
        elif prop:
            decl.members[prop.group(1)] = Member(
                prop.group(1), bool(prop.group(2)), prop.group(3), False
            )


class DeclTree:
    """Declaration files of one package, parsed on demand and resolved across imports."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._files: dict[Path, DeclFile] = {}

    def file(self, path: Path) -> DeclFile:
        path = path.resolve()
        if path not in self._files:
            self._files[path] = DeclFile(path)
        return self._files[path]

    def resolve(self, where: DeclFile, name: str, scope: str = "") -> tuple[DeclFile, Decl] | None:
        """The declaration ``name`` (dotted) means inside ``scope`` of ``where``."""
        parts = scope.split(".") if scope else []
        for cut in range(len(parts), -1, -1):
            qualified = ".".join([*parts[:cut], name])
            if qualified in where.decls:
                return self._follow(where, where.decls[qualified], qualified)
        head, _, rest = name.partition(".")
        if head in where.imports:
            module, original = where.imports[head]
            target = self._module(where, module)
            if target is not None:
                return self.resolve(target, f"{original}.{rest}" if rest else original)
        return None

    def _follow(self, where: DeclFile, decl: Decl, qualified: str) -> tuple[DeclFile, Decl] | None:
        alias = decl.alias
        if decl.kind == "type" and alias is not None and re.fullmatch(r"[\w$.]+", alias):
            scope = qualified.rpartition(".")[0]
            return self.resolve(where, alias, scope)
        return where, decl

    def _module(self, where: DeclFile, module: str) -> DeclFile | None:
        if not module.startswith("."):
            return None
        base = (where.path.parent / module).resolve()
        for candidate in (
            base.with_suffix(".d.ts"),
            base.with_name(base.stem + ".d.ts"),
            base / "index.d.ts",
        ):
            if candidate.name.endswith(".d.ts") and candidate.exists():
                return self.file(candidate)
        stem = str(base)
        for suffix in (".js", ".mjs", ".cjs"):
            if stem.endswith(suffix):
                for ext in (".d.ts", ".d.mts", ".d.cts"):
                    candidate = Path(stem[: -len(suffix)] + ext)
                    if candidate.exists():
                        return self.file(candidate)
        return None
