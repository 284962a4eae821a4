"""Commands that run other commands, or change the shell that runs them.

``sudo``, ``env``, ``nice``, ``timeout``, ``xargs`` … are peeled off and the
command they run is classified in their place (``sudo`` adds a high floor);
``bash -c``, ``eval``, ``watch``, ``su -c``, ``ssh host …``, ``trap`` and
``alias`` hold scripts, which are classified as scripts; ``cd`` and ``export``
change where later paths point and what later variables hold.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from fleetnb.approvals._files import options
from fleetnb.approvals._paths import program
from fleetnb.approvals.classify import (
    _ASSIGNMENT,
    Risk,
    _assignment,
    _check_variables,
    _classify_argv,
    _classify_script,
    _Ctx,
    _destructive_sql,
    _Handler,
    _show,
    _Trait,
    _words,
    _write,
)

__all__ = ["UNWRAPPING", "WRAPPER_HANDLERS", "after_options"]

_NONE = _Trait.NONE


def after_options(args: Sequence[str], takes_value: frozenset[str], skip: int = 0) -> list[str]:
    """The command a wrapper runs: what follows its options, ``skip`` operands and ``VAR=x``."""
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "-":
        if args[i] == "--":
            i += 1
            break
        i += 2 if args[i] in takes_value else 1
    i += skip
    while i < len(args) and _ASSIGNMENT.match(args[i]):
        i += 1
    return list(args[i:])


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


# name: (options that take a value, operands before the command, risk floor, why)
_WRAPPERS: dict[str, tuple[frozenset[str], int, Risk, str]] = {
    "sudo": (_words("-u -g -C -D -h -p -r -t -T -U -R --user --group --chdir --prompt --role"
                    " --type --host --other-user --close-from --command-timeout"),
             0, Risk.HIGH, "runs as root"),
    "doas": (frozenset({"-u", "-C"}), 0, Risk.HIGH, "runs as root"),
    "pkexec": (frozenset({"--user"}), 0, Risk.HIGH, "runs as root"),
    "run0": (frozenset({"-u", "--user", "-D", "--chdir"}), 0, Risk.HIGH, "runs as root"),
    "chroot": (frozenset({"--userspec", "--groups"}), 1, Risk.HIGH, "changes the root directory"),
    "nice": (frozenset({"-n", "--adjustment"}), 0, Risk.LOW, ""),
    "timeout": (frozenset({"-s", "-k", "--signal", "--kill-after"}), 1, Risk.LOW, ""),
    "time": (frozenset({"-f", "-o", "--format", "--output"}), 0, Risk.LOW, ""),
    "exec": (frozenset({"-a"}), 0, Risk.LOW, ""),
    "stdbuf": (frozenset({"-i", "-o", "-e", "--input", "--output", "--error"}), 0, Risk.LOW, ""),
    "ionice": (frozenset({"-c", "-n", "-p", "-P", "-u", "--class"}), 0, Risk.LOW, ""),
    "caffeinate": (frozenset({"-t", "-w"}), 0, Risk.LOW, ""),
    "flock": (frozenset({"-w", "-E", "--timeout", "--conflict-exit-code"}), 1, Risk.LOW, ""),
    **dict.fromkeys(_words("taskset chrt"), (frozenset(), 1, Risk.LOW, "")),
    **dict.fromkeys(_words("nohup command builtin setsid unbuffer busybox"),
                    (frozenset(), 0, Risk.LOW, "")),
}  # fmt: skip
_ENV_VALUES = frozenset({"-u", "--unset", "-C", "--chdir", "-S", "--split-string", "-P"})
_XARGS_VALUES = _words(
    "-n -P -L -d -E -s -a --arg-file --delimiter --max-args --max-procs --max-lines --eof"
)
_SHELL_VALUES = frozenset({"-o", "+o", "-O", "+O", "--rcfile", "--init-file"})
_SSH_VALUES = _words("-B -b -c -D -E -e -F -I -i -J -L -l -m -O -o -p -Q -R -S -W -w")


def _wrapper(argv: list[str], ctx: _Ctx) -> _Trait:
    name = program(argv[0])
    takes_value, skip, floor, why = _WRAPPERS[name]
    if name == "command" and argv[1:2] in (["-v"], ["-V"]):
        ctx.report.record(argv)  # only looks the name up
        return _NONE
    inner = after_options(argv[1:], takes_value, skip)
    if name == "time":  # GNU time -o FILE writes its report there
        _, _, values = options(argv[1 : len(argv) - len(inner)], frozenset({"o", "--output"}))
        output = values.get("o") or values.get("--output")
        if output:
            _write("time -o", output, ctx.resolve(output), ctx)
    if floor > Risk.LOW:
        ctx.report.add(floor, f"{name} {why}: {_show(inner) if inner else 'a shell'}")
    return _classify_argv(inner, ctx.deeper()) if inner else _NONE


def _env(argv: list[str], ctx: _Ctx) -> _Trait:
    args, i, cwd = list(argv[1:]), 0, ctx.cwd
    while i < len(args) and args[i].startswith("-") and args[i] != "-":
        arg, i = args[i], i + 1
        if arg == "--":
            break
        name, eq, value = arg.partition("=")
        if name in _ENV_VALUES and not eq and i < len(args):
            value, i = args[i], i + 1
        elif name.startswith("-S") and len(name) > 2:
            name, value = "-S", arg[2:]
        if name in ("-C", "--chdir"):
            cwd = ctx.resolve(value)
        elif name in ("-S", "--split-string"):
            args[i:i] = _split(value)  # `env -S "rm -rf /"` splits it into argv
    count = next((k for k, arg in enumerate(args[i:]) if not _ASSIGNMENT.match(arg)), len(args) - i)
    assigned = dict(_assignment(arg) for arg in args[i : i + count])
    _check_variables(assigned, ctx)
    inner = args[i + count :]
    if not inner:
        ctx.report.record(argv)  # prints the environment
        return _NONE
    return _classify_argv(inner, ctx.deeper(cwd=cwd, env={**ctx.env, **assigned}))


def _xargs(argv: list[str], ctx: _Ctx) -> _Trait:
    args, i, replace = argv[1:], 0, None
    while i < len(args) and args[i].startswith("-"):
        arg = args[i]
        if arg == "--":
            i += 1
            break
        if arg == "-I" and i + 1 < len(args):
            replace, i = args[i + 1], i + 2
            continue
        if arg.startswith(("-I", "-i", "--replace")):
            replace = (arg.partition("=")[2] if arg.startswith("--") else arg[2:]) or "{}"
        i += 2 if arg in _XARGS_VALUES else 1
    placeholders = {replace: (None,)} if replace else {}
    inner = args[i:] or ["echo"]
    return _classify_argv(inner, ctx.deeper(placeholders=placeholders, from_input=not replace))


def _eval(argv: list[str], ctx: _Ctx) -> _Trait:
    """``eval`` and ``watch`` join their arguments into a script."""
    args = argv[1:]
    if program(argv[0]) == "watch":
        args = after_options(args, frozenset({"-n", "--interval"}))
    return _classify_script(" ".join(args), ctx.deeper()) | _Trait.RUNS_CODE


def _shell_run(argv: list[str], ctx: _Ctx) -> _Trait:
    args, i = argv[1:], 0
    command = from_stdin = False
    while i < len(args) and args[i].startswith(("-", "+")) and args[i] not in ("-", "--"):
        if args[i] in _SHELL_VALUES:
            i += 2
            continue
        if not args[i].startswith("--"):
            command = command or (args[i][0] == "-" and "c" in args[i])
            from_stdin = from_stdin or "s" in args[i]
        i += 1
    operands = args[i + 1 :] if args[i : i + 1] in (["-"], ["--"]) else args[i:]
    if command:
        sql = _destructive_sql(operands[1:])  # the script's $0, $1 …: it may well run them
        if sql:
            ctx.report.add(Risk.CRITICAL, f"{_show(argv)}: passes destructive SQL ({sql})")
        script = operands[0] if operands else ""
        return _classify_script(script, ctx.deeper()) | _Trait.RUNS_CODE
    ctx.report.record(argv)
    if operands and not from_stdin:
        ctx.report.add(Risk.MEDIUM, f"{_show(argv)}: runs the script {operands[0]!r}")
        return _Trait.RUNS_CODE
    return _runs_stdin(argv, ctx)


def _runs_stdin(argv: list[str], ctx: _Ctx) -> _Trait:
    for body in ctx.stdin:
        _classify_script(body, ctx.deeper())
    if not ctx.stdin:
        ctx.report.add(Risk.MEDIUM, f"{_show(argv)}: runs the commands it reads")
    return _Trait.SHELL_STDIN | _Trait.RUNS_CODE


def _source(argv: list[str], ctx: _Ctx) -> _Trait:
    operands = [arg for arg in argv[1:] if not arg.startswith("-")]
    if operands[:1] in ([], ["/dev/stdin"]):
        return _runs_stdin(argv, ctx)
    ctx.report.add(Risk.MEDIUM, f"{_show(argv)}: runs the script {operands[0]!r} in this shell")
    return _Trait.RUNS_CODE


def _su(argv: list[str], ctx: _Ctx) -> _Trait:
    ctx.report.add(Risk.HIGH, f"{_show(argv)}: runs commands as another user")
    _, _, values = options(argv[1:], frozenset({"c", "--command", "s", "--shell", "g", "G"}))
    script = values.get("c") or values.get("--command")
    return _classify_script(script, ctx.deeper()) if script else _NONE


def _ssh(argv: list[str], ctx: _Ctx) -> _Trait:
    ctx.report.add(Risk.HIGH, f"{_show(argv)}: runs commands on another machine")
    operands = after_options(argv[1:], _SSH_VALUES)
    if len(operands) > 1:  # the remote shell runs the rest; its working directory is unknown
        _classify_script(" ".join(operands[1:]), ctx.deeper(cwd=None))
    return _NONE


def _trap(argv: list[str], ctx: _Ctx) -> _Trait:
    if len(argv) > 2 and not argv[1].startswith("-"):
        _classify_script(argv[1], ctx.deeper())
    return _NONE


def _alias(argv: list[str], ctx: _Ctx) -> _Trait:
    for arg in argv[1:]:
        _, eq, value = arg.partition("=")
        if eq:  # judged now: the alias runs later, disguised as its name
            _classify_script(value, ctx.deeper())
    return _NONE


def _cd(argv: list[str], ctx: _Ctx) -> _Trait:
    operands = [arg for arg in argv[1:] if not arg.startswith("-") or arg == "-"]
    if program(argv[0]) == "popd" or operands[:1] == ["-"]:
        ctx.shell.cwds[ctx.scope] = None
    else:
        ctx.shell.cwds[ctx.scope] = ctx.resolve(operands[0]) if operands else ctx.home
    return _NONE


def _declare(argv: list[str], ctx: _Ctx) -> _Trait:
    assigned = dict(_assignment(arg) for arg in argv[1:] if _ASSIGNMENT.match(arg))
    _check_variables(assigned, ctx)
    ctx.shell.variables.update(assigned)
    return _NONE


WRAPPER_HANDLERS: dict[str, _Handler] = {
    **dict.fromkeys(_WRAPPERS, _wrapper),
    **dict.fromkeys(_words("sh bash zsh dash ksh mksh ash fish csh tcsh yash"), _shell_run),
    **dict.fromkeys(("eval", "watch"), _eval),
    **dict.fromkeys(("source", "."), _source),
    **dict.fromkeys(("cd", "pushd", "popd"), _cd),
    **dict.fromkeys(("export", "declare", "typeset", "local", "readonly"), _declare),
    "env": _env,
    "xargs": _xargs,
    "su": _su,
    "ssh": _ssh,
    "trap": _trap,
    "alias": _alias,
}
UNWRAPPING = frozenset({_wrapper, _env, _xargs, _eval, _shell_run, _su})
"""Handlers that leave the commands they run, not themselves, in ``commands``."""
