"""Programs that write, move and delete files, rated by the paths they touch.

Paths are resolved against the working directory (following ``cd``) and the
home directory; ``find -delete`` and ``find -exec`` act on what ``find``
searches. What makes a deletion critical is in :func:`_catastrophe`.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence

from fleetnb.approvals._paths import program, within
from fleetnb.approvals.classify import (
    Risk,
    _classify_argv,
    _Ctx,
    _Handler,
    _show,
    _Trait,
    _words,
    _write,
)

__all__ = ["FILE_HANDLERS", "options", "verb_of"]

_NONE = _Trait.NONE
_SYSTEM_DIRECTORIES = (
    "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/sbin",
    "/sys", "/usr", "/var/lib", "/System", "/Library", "/private/etc",
)  # fmt: skip
_VALUE_OPTIONS = {
    "cp": frozenset({"t", "S", "--target-directory", "--suffix"}),
    "mv": frozenset({"t", "S", "--target-directory", "--suffix"}),
    "ln": frozenset({"t", "S", "--target-directory", "--suffix"}),
    "install": frozenset({"m", "o", "g", "t", "S", "--mode", "--owner", "--group"}),
    "mkdir": frozenset({"m", "--mode"}),
    "touch": frozenset({"d", "t", "r", "--date", "--reference"}),
    "truncate": frozenset({"s", "r", "--size", "--reference"}),
}
# GNU sed's `e` command and `s///e` run shell commands; `w` writes a file
_SED_RUNS = re.compile(r"(?:^|[;\n{}])\s*[\d,$]*\s*[ew](?:\s|$)|s(.).*?\1.*?\1[gpiImM\d]*[ew]")
_MODE = re.compile(r"-[rwxXst]+")  # `chmod -x file`: a mode, not an option
_FIND_NARROWING = _words(
    "-name -iname -path -ipath -wholename -iwholename -regex -iregex -lname -ilname"
)


def _remove(argv: list[str], ctx: _Ctx) -> _Trait:
    flags, operands, _ = options(argv[1:])
    verb, recursive = verb_of(argv), bool(flags & {"r", "R", "--recursive"})
    if "--no-preserve-root" in flags:
        ctx.report.add(Risk.CRITICAL, f"{verb}: --no-preserve-root turns off rm's guard for '/'")
    for word, path in _targets(operands, ctx):
        _delete(verb, word, path, ctx, recursive=recursive)
    return _NONE


def _create(argv: list[str], ctx: _Ctx) -> _Trait:
    name = program(argv[0])
    flags, operands, values = options(argv[1:], _VALUE_OPTIONS.get(name, frozenset()))
    if name in ("ln", "install") and "d" not in flags:  # only the last operand is written
        target = values.get("t") or values.get("--target-directory")
        operands = [target] if target else operands[-1:] if len(operands) > 1 else ["."]
    for word, path in _targets(operands, ctx):
        _write(name, word, path, ctx)
    return _NONE


def _copy(argv: list[str], ctx: _Ctx) -> _Trait:
    name = program(argv[0])
    _, operands, values = options(argv[1:], _VALUE_OPTIONS[name])
    destination = values.get("t") or values.get("--target-directory")
    if destination is None and len(operands) > 1:
        destination, operands = operands[-1], operands[:-1]
    if name == "mv":  # the sources are gone from where they were
        for word, path in _targets(operands, ctx):
            _delete("mv", word, path, ctx, recursive=False, action="moves")
    for word, path in _targets([destination] if destination else [], ctx):
        _write(name, word, path, ctx)
    return _NONE


def _sed(argv: list[str], ctx: _Ctx) -> _Trait:
    takes_value = frozenset({"e", "f", "l", "--expression", "--file", "--line-length"})
    flags, operands, values = options(argv[1:], takes_value)
    scripted = values.keys() & {"e", "f", "--expression", "--file"}
    script = values.get("e") or values.get("--expression")
    if _SED_RUNS.search(script or ("" if scripted or not operands else operands[0])):
        ctx.report.add(Risk.HIGH, f"{_show(argv)}: the sed program runs commands or writes files")
    if flags & {"i", "--in-place"}:
        for word, path in _targets(operands if scripted else operands[1:], ctx):
            _write("sed -i", word, path, ctx)
    return _NONE


def _sort(argv: list[str], ctx: _Ctx) -> _Trait:
    takes_value = frozenset({"o", "k", "t", "S", "T", "--output", "--key", "--field-separator"})
    _, _, values = options(argv[1:], takes_value)
    output = values.get("o") or values.get("--output")
    if output:
        _write("sort -o", output, ctx.resolve(output), ctx)
    return _NONE


def _dd(argv: list[str], ctx: _Ctx) -> _Trait:
    for arg in argv[1:]:
        if arg.startswith("of="):
            _write("dd", arg[3:], ctx.resolve(arg[3:]), ctx)
    return _NONE


def _permissions(argv: list[str], ctx: _Ctx) -> _Trait:
    name, verb = program(argv[0]), verb_of(argv)
    args = [f"a{arg}" if name == "chmod" and _MODE.fullmatch(arg) else arg for arg in argv[1:]]
    flags, operands, _ = options(args, frozenset({"--reference"}))
    recursive = bool(flags & {"R", "--recursive"})
    what = "permissions" if name == "chmod" else "ownership"
    for word, path in _targets(operands if "--reference" in flags else operands[1:], ctx):
        inside = path is not None and ctx.inside(path)  # `chmod -R` of cwd can be undone
        why = _catastrophe(path, ctx, recursive=True) if path and recursive and not inside else None
        if why:
            ctx.report.add(Risk.CRITICAL, f"{verb} changes the {what} of {word!r}, {why}")
        elif name == "chmod" and inside:
            ctx.report.add(Risk.MEDIUM, f"{verb} changes permissions inside the working directory")
        else:
            ctx.report.add(Risk.HIGH, f"{verb} changes the {what} of {word!r}")
    return _NONE


def _find(argv: list[str], ctx: _Ctx) -> _Trait:
    """``-delete`` and ``-exec`` act on what ``find`` finds: under its roots, or the roots."""
    args, i = argv[1:], 0
    while i < len(args) and (args[i] in ("-H", "-L", "-P") or args[i].startswith("-O")):
        i += 1
    roots = []
    while i < len(args) and not args[i].startswith(("-", "(", "!", ")")):
        roots.append(args[i])
        i += 1
    expression = args[i:]
    narrowed = not _FIND_NARROWING.isdisjoint(expression)  # -name …: not everything
    found = _targets(roots or ["."], ctx)
    matched = tuple(posixpath.join(p, "{}") if p and narrowed else p for _, p in found)
    if "-delete" in expression:
        for (word, _), path in zip(found, matched, strict=True):
            _delete("find -delete", word, path, ctx, recursive=not narrowed)
    for j, arg in enumerate(expression):
        if arg in ("-exec", "-execdir", "-ok", "-okdir"):
            ends = [k for k in range(j + 1, len(expression)) if expression[k] in (";", "+")]
            inner = expression[j + 1 : ends[0] if ends else len(expression)]
            if inner:
                _classify_argv(inner, ctx.deeper(placeholders={"{}": matched}))
        elif arg in ("-fprint", "-fprint0", "-fprintf", "-fls") and j + 1 < len(expression):
            _write(f"find {arg}", expression[j + 1], ctx.resolve(expression[j + 1]), ctx)
    return _NONE


def _fd(argv: list[str], ctx: _Ctx) -> _Trait:
    for j, arg in enumerate(argv):
        if arg in ("-x", "--exec", "-X", "--exec-batch") and argv[j + 1 :]:
            inner = argv[j + 1 :]
            inner = inner[: inner.index(";")] if ";" in inner else inner
            sub = ctx.deeper(placeholders={"{}": (None,)}, from_input=True)
            return _classify_argv(inner, sub)
    return _NONE


def verb_of(argv: Sequence[str]) -> str:
    """The program and its flags, for reasons: ``rm -rf``."""
    return " ".join([program(argv[0]), *[arg for arg in argv[1:] if arg.startswith("-")][:3]])


def options(
    args: Sequence[str], takes_value: frozenset[str] = frozenset()
) -> tuple[set[str], list[str], dict[str, str]]:
    """Flags (letters and ``--names``), operands and option values, the GNU getopt way."""
    flags: set[str] = set()
    operands: list[str] = []
    values: dict[str, str] = {}
    i = 0
    while i < len(args):
        arg, i = args[i], i + 1
        if arg == "--":
            operands += args[i:]
            break
        if arg.startswith("--"):
            name, eq, value = arg.partition("=")
            if not eq and name in takes_value and i < len(args):
                value, i = args[i], i + 1
            flags.add(name)
            values[name] = value
        elif arg.startswith("-") and len(arg) > 1:
            for j, letter in enumerate(arg[1:], start=2):
                flags.add(letter)
                if letter in takes_value:
                    value = arg[j:]
                    if not value and i < len(args):
                        value, i = args[i], i + 1
                    values[letter] = value
                    break
        else:
            operands.append(arg)
    return flags, operands, values


def _targets(words: Sequence[str], ctx: _Ctx) -> list[tuple[str, str | None]]:
    """Each path word with the path it names (None: known only at run time)."""
    found: list[tuple[str, str | None]] = []
    for word in words:
        paths = ctx.placeholders.get(word)
        found += [(path or word, path) for path in paths] if paths else [(word, ctx.resolve(word))]
    if ctx.from_input:
        found.append(("the arguments it reads", None))
    return found


def _delete(
    verb: str, word: str, path: str | None, ctx: _Ctx, *, recursive: bool, action: str = "deletes"
) -> None:
    add = ctx.report.add
    if path is None:
        empty = re.match(r"\$\{?(\w+)\}?/", word)
        hint = f"; if ${empty.group(1)} is empty, that is '/'" if empty else ""
        add(
            Risk.HIGH if recursive else Risk.MEDIUM,
            f"{verb} {action} {word!r}, known only at run time{hint}",
        )
    elif why := _catastrophe(path, ctx, recursive=recursive):
        add(Risk.CRITICAL, f"{verb} targets {word!r}, {why}")
    elif any(within(path, posixpath.join(root, ".git")) for root in ctx.roots):
        add(Risk.HIGH, f"{verb} {action} {word!r}, the repository's history")
    elif ctx.inside(path):
        add(Risk.MEDIUM, f"{verb} {action} {word!r} inside the working directory")
    else:
        add(Risk.HIGH, f"{verb} {action} {word!r}, outside the working directory")


def _catastrophe(path: str, ctx: _Ctx, *, recursive: bool) -> str | None:
    """Why deleting ``path`` would be a disaster, or None."""
    if path == "/":
        return "the filesystem root"
    why = _place(path, ctx.homes, "home directory") or _place(path, ctx.roots, "working directory")
    if why or ctx.inside(path):
        return why
    if any(within(path, system) for system in _SYSTEM_DIRECTORIES):
        return "in a system directory"
    if path.count("/") == 1:
        return "a top-level directory"
    if recursive and posixpath.dirname(path) in ctx.homes:
        return "a directory in the home directory"
    return None


def _place(path: str, places: Sequence[str], name: str) -> str | None:
    """``path`` is one of ``places``, or a parent of one: deleting it deletes that."""
    for place in places:
        if within(place, path):
            return f"the {name}" if path == place else f"a parent of the {name}"
    return None


def _rsync(argv: list[str], ctx: _Ctx) -> _Trait:
    ctx.report.add(Risk.HIGH, f"{_show(argv)}: copies files, maybe over the network")
    flags, operands, _ = options(argv[1:], frozenset({"e", "f", "--rsh", "--filter"}))
    destination = operands[-1] if len(operands) > 1 else ""
    if ":" not in destination and any(flag.startswith("--delete") for flag in flags):
        path = ctx.resolve(destination)  # `rsync -a --delete empty/ ~` empties the home directory
        _delete("rsync --delete", destination, path, ctx, recursive=True)
    return _NONE


def _archive(argv: list[str], ctx: _Ctx) -> _Trait:
    """``tar -C /``, ``unzip -d ~``: where an archive is unpacked."""
    name = program(argv[0])
    takes_value = frozenset({"C", "f", "--directory", "--file"} if name == "tar" else {"d"})
    _, _, values = options(argv[1:], takes_value)
    target = values.get("C") or values.get("--directory") or values.get("d") or "."
    _write(name, target, ctx.resolve(target), ctx)
    return _NONE


FILE_HANDLERS: dict[str, _Handler] = {
    **dict.fromkeys(_words("rm unlink shred rmdir srm"), _remove),
    **dict.fromkeys(_words("touch mkdir tee truncate ln install"), _create),
    **dict.fromkeys(_words("cp mv"), _copy),
    **dict.fromkeys(_words("chmod chown chgrp"), _permissions),
    **dict.fromkeys(_words("sed gsed"), _sed),
    **dict.fromkeys(_words("find gfind"), _find),
    **dict.fromkeys(_words("fd fdfind"), _fd),
    **dict.fromkeys(_words("tar gtar bsdtar unzip"), _archive),
    "rsync": _rsync,
    "sort": _sort,
    "dd": _dd,
}
