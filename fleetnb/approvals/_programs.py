"""What each program does, rated for :mod:`fleetnb.approvals.classify`.

A handler gets the argv of one simple command, after quote removal and with
any wrapper (``sudo``, ``env`` …) peeled off, and the context it runs in. It
adds its findings to the report and returns the traits that matter to its
neighbours in a pipeline: whether it prints what it downloads, runs its input
as code, or talks to a database. ``HANDLERS`` maps program names to handlers;
``""`` is the handler for programs it does not know.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from fleetnb.approvals._files import FILE_HANDLERS, options, verb_of
from fleetnb.approvals._paths import base_name, program
from fleetnb.approvals._wrappers import UNWRAPPING, WRAPPER_HANDLERS, after_options
from fleetnb.approvals.classify import (
    Risk,
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

__all__ = ["HANDLERS", "UNWRAPPING"]

_NONE = _Trait.NONE


def _fixed(risk: Risk, why: str) -> _Handler:
    def handler(argv: list[str], ctx: _Ctx) -> _Trait:
        ctx.report.add(risk, f"{_show(argv)}: {why}")
        return _NONE

    return handler


def _read_only(argv: list[str], ctx: _Ctx) -> _Trait:
    return _NONE


def _unknown(argv: list[str], ctx: _Ctx) -> _Trait:
    sql = _destructive_sql(argv[1:])
    if sql:
        ctx.report.add(Risk.CRITICAL, f"{_show(argv)}: passes destructive SQL ({sql})")
    else:
        name = program(argv[0])
        ctx.report.add(Risk.MEDIUM, f"{_show(argv)}: {name} is not known to be read-only")
    return _NONE


def _awk(argv: list[str], ctx: _Ctx) -> _Trait:
    takes_value = frozenset({"F", "v", "f", "--field-separator", "--assign", "--file"})
    _, operands, values = options(argv[1:], takes_value)
    from_file = bool(values.keys() & {"f", "--file"})
    script = operands[0] if operands and not from_file else ""
    if re.search(r"system|\|", script):  # system("…"), print | "sh", "cmd" | getline
        ctx.report.add(Risk.HIGH, f"{_show(argv)}: the awk program runs commands")
    elif from_file or ">" in script:
        ctx.report.add(Risk.MEDIUM, f"{_show(argv)}: the awk program may write files")
    return _NONE


# -------------------------------------------------------------------- interpreters

_CODE_LETTERS = {
    "python": "c", "pypy": "c", "py": "c", "node": "ep", "nodejs": "ep", "ruby": "e",
    "perl": "eE", "php": "r", "lua": "e", "luajit": "e", "rscript": "e", "osascript": "e",
    "pwsh": "c", "powershell": "c",
}  # fmt: skip  # the option letters that take inline code: python -c, node -e, perl -pe
_INTERPRETER_VALUES = frozenset({"-W", "-X", "-r", "--require", "--import", "--loader"})


def _interpreter(argv: list[str], ctx: _Ctx) -> _Trait:
    letters = set(_CODE_LETTERS[base_name(program(argv[0]))])
    args, i = argv[1:], 0
    while i < len(args) and args[i] != "-" and args[i].startswith("-"):
        arg = args[i]
        if arg in ("-V", "--version", "-h", "--help"):
            return _NONE
        if arg == "-m" and letters == {"c"}:
            return _python_module(args[i + 1 :], ctx)
        short = not arg.startswith("--")
        if (short and letters & set(arg[1:])) or arg in ("--eval", "--print", "-Command"):
            return _inline(argv, args[i + 1] if i + 1 < len(args) else "", ctx)
        i += 2 if arg in _INTERPRETER_VALUES else 1
    if i < len(args) and args[i] != "-":
        ctx.report.add(Risk.MEDIUM, f"{_show(argv)}: runs the script {args[i]!r}")
        return _Trait.RUNS_CODE
    if ctx.stdin:
        return _inline(argv, "\n".join(ctx.stdin), ctx) | _Trait.CODE_STDIN
    ctx.report.add(Risk.MEDIUM, f"{_show(argv)}: runs the code it reads")
    return _Trait.CODE_STDIN | _Trait.RUNS_CODE


def _inline(argv: list[str], code: str, ctx: _Ctx) -> _Trait:
    sql = _destructive_sql([code])
    if sql:
        ctx.report.add(Risk.CRITICAL, f"{verb_of(argv)}: inline code runs destructive SQL ({sql})")
    else:
        ctx.report.add(Risk.HIGH, f"{_show(argv)}: runs inline code, which is not analysed")
    return _Trait.RUNS_CODE


def _python_module(args: list[str], ctx: _Ctx) -> _Trait:
    module = args[0] if args else ""
    if module in ("pip", "ensurepip"):
        return _packages(["pip", *args[1:]], ctx)
    ctx.report.add(Risk.MEDIUM, f"python -m {module}: runs a Python module")
    return _Trait.RUNS_CODE


# ---------------------------------------------------------- packages and the network

_PACKAGE_MANAGERS = (
    "pip pipx uv uvx npm npx yarn pnpm bun bunx gem cargo go brew apt apt-get aptitude yum dnf"
    " zypper apk snap flatpak port conda mamba micromamba poetry pipenv pdm hatch rye composer"
    " bundle nix-env choco winget scoop rustup pacman"
)
_INSTALLING = _words(
    "install i ci add remove rm uninstall un upgrade update up purge autoremove dist-upgrade"
    " full-upgrade reinstall publish upload push get sync tap inject link dlx global create"
)
_QUERYING = _words("list ls show view info search outdated freeze why help doctor")
_ENV_RUNNERS = _words("uv poetry pipenv pdm hatch rye conda mamba bundle")
_RUNNER_VALUES = _words("-n --name -p --prefix --with --python -e --env --directory")
_DOWNLOADERS = _words("curl wget http https xh aria2c fetch lwp-request")
_NETWORK = (
    "scp sftp ftp nc ncat netcat socat telnet ping ping6 traceroute tracepath mtr dig"
    " nslookup host whois mosh rclone aws gcloud az gsutil s3cmd gh glab ngrok twine"
)


def _packages(argv: list[str], ctx: _Ctx) -> _Trait:
    name = program(argv[0])
    operands = [arg for arg in argv[1:] if not arg.startswith("-")]
    if name in _ENV_RUNNERS and operands[:1] in (["run"], ["exec"]):
        ctx.report.add(Risk.MEDIUM, f"{_show(argv)}: runs a command in the project environment")
        inner = after_options(argv[argv.index(operands[0]) + 1 :], _RUNNER_VALUES)
        return _classify_argv(inner, ctx.deeper()) if inner else _NONE
    if name in ("npx", "bunx", "uvx") or (name == "pipx" and operands[:1] == ["run"]):
        ctx.report.add(Risk.HIGH, f"{_show(argv)}: may download a package and run it")
    elif name == "pacman":
        changes = any(arg[:2] in ("-S", "-R", "-U") for arg in argv[1:])
        queries = any(arg[:3] in ("-Ss", "-Si", "-Sl", "-Sg") for arg in argv[1:])
        if changes and not queries:
            ctx.report.add(Risk.HIGH, f"{_show(argv)}: installs or removes packages")
    elif (not operands and name in ("yarn", "bundle")) or _INSTALLING & set(operands[:2]):
        ctx.report.add(Risk.HIGH, f"{_show(argv)}: installs, removes or publishes packages")
    elif operands and operands[0] not in _QUERYING:
        ctx.report.add(Risk.MEDIUM, f"{_show(argv)}: runs {name} {operands[0]}")
    return _NONE


def _network(argv: list[str], ctx: _Ctx) -> _Trait:
    name = program(argv[0])
    ctx.report.add(Risk.HIGH, f"{_show(argv)}: reaches the network")
    if name not in _DOWNLOADERS:
        return _NONE
    outputs = ("o", "--output", "O", "--output-document") if name == "wget" else ("o", "--output")
    _, _, values = options(argv[1:], frozenset(outputs))
    for key in outputs:
        if values.get(key, "-") != "-":
            _write(name, values[key], ctx.resolve(values[key]), ctx)
    return _Trait.FETCH  # whatever it prints was downloaded


def _database(argv: list[str], ctx: _Ctx) -> _Trait:
    name = program(argv[0])
    sql = _destructive_sql([*argv[1:], *ctx.stdin])
    if sql or (name == "mysqladmin" and "drop" in argv):
        ctx.report.add(Risk.CRITICAL, f"{name} runs destructive SQL ({sql or 'drop'})")
    elif name in ("sqlite3", "duckdb"):
        ctx.report.add(Risk.MEDIUM, f"{_show(argv)}: opens a local database")
    else:
        ctx.report.add(Risk.HIGH, f"{_show(argv)}: connects to a database")
    return _Trait.SQL_CLIENT


# ----------------------------------------------------------------------------- git

_GIT_VALUES = frozenset({"-C", "-c", "--git-dir", "--work-tree", "--namespace", "--config-env"})
_GIT_READS = _words(
    "status diff log show blame annotate shortlog describe rev-parse rev-list ls-files ls-tree"
    " grep cat-file whatchanged cherry name-rev merge-base for-each-ref show-ref show-branch"
    " count-objects check-ignore check-attr var help version range-diff"
)
_GIT_RUNS = re.compile(r"(?i)^alias\.|\.(pager|editor|sshcommand|fsmonitor|hookspath|textconv)$")
_BRANCH_CHANGES = _words(
    "d D m M c C u f --delete --move --copy --force --set-upstream-to --unset-upstream"
)
_BRANCH_LISTS = _words("l --list a --all r --remotes --contains --merged --no-merged")
_PROTECTED = frozenset({"main", "master", "trunk", "production"})
_GitCheck = Callable[[set[str], list[str]], bool]
_GIT_LISTINGS: dict[str, _GitCheck] = {
    "branch": lambda f, o: not f & _BRANCH_CHANGES and (not o or bool(f & _BRANCH_LISTS)),
    "tag": lambda f, o: not f & {"d", "a", "s", "f", "m"} and (not o or bool(f & {"l"})),
    "remote": lambda f, o: not o or o[0] in ("show", "get-url"),
    "stash": lambda f, o: o[:1] in (["list"], ["show"]),
    "worktree": lambda f, o: o[:1] == ["list"],
    "submodule": lambda f, o: o[:1] in (["status"], ["summary"]),
    "reflog": lambda f, o: o[:1] in ([], ["show"]),
    "config": lambda f, o: bool(f & {"l", "--list", "--get", "--get-all"}) or len(o) == 1,
}


_GitRule = tuple[Risk, str, Callable[[str, set[str], list[str]], bool]]
_GIT_DANGERS: tuple[_GitRule, ...] = (
    (Risk.CRITICAL, "rewrites the whole history",
     lambda s, f, o: s in ("filter-branch", "filter-repo")),
    (Risk.HIGH, "downloads a repository from the network", lambda s, f, o: s == "clone"),
    (Risk.HIGH, "deletes a branch even if it is not merged",
     lambda s, f, o: s == "branch" and ("D" in f or (bool(f & {"d", "--delete"}) and "f" in f))),
    (Risk.HIGH, "--hard discards uncommitted changes",
     lambda s, f, o: s == "reset" and "--hard" in f),
    (Risk.HIGH, "discards uncommitted changes",
     lambda s, f, o: s in ("checkout", "restore") and "--staged" not in f
     and bool(f & {"f", "--force"} or {".", ":/", "*"} & set(o))),
    (Risk.HIGH, "deletes untracked files",
     lambda s, f, o: s == "clean" and bool(f & {"f", "--force"}) and not f & {"n", "--dry-run"}),
    (Risk.HIGH, "deletes what recovers lost work",
     lambda s, f, o: s in ("stash", "reflog") and o[:1] in (["drop"], ["clear"], ["expire"])),
    (Risk.HIGH, "sets a command that git will run",
     lambda s, f, o: s == "config" and len(o) > 1 and bool(_GIT_RUNS.search(o[0]))),
    (Risk.HIGH, "changes configuration outside the repository",
     lambda s, f, o: s == "config" and bool(f & {"--global", "--system"})),
)  # fmt: skip  # the first that applies, after push, reads and listings


def _git(argv: list[str], ctx: _Ctx) -> _Trait:
    args, i = argv[1:], 0
    while i < len(args) and args[i].startswith("-"):
        value = args[i + 1] if i + 1 < len(args) else ""
        if args[i] == "-c" and _GIT_RUNS.search(value.partition("=")[0]):
            ctx.report.add(Risk.HIGH, f"git -c {value!r} can make git run a command")
        i += 2 if args[i] in _GIT_VALUES else 1
    if i < len(args):
        risk, why = _git_risk(args[i], args[i + 1 :])
        if risk > Risk.LOW:
            ctx.report.add(risk, f"git {args[i]}: {why}")
        for script in _git_scripts(args[i], args[i + 1 :]):
            _classify_script(script, ctx.deeper())
    return _NONE


def _git_scripts(sub: str, rest: list[str]) -> list[str]:
    """What ``git rebase --exec``, ``bisect run`` and ``submodule foreach`` run."""
    if sub in ("bisect", "submodule") and rest[:1] in (["run"], ["foreach"]):
        return [" ".join(rest[1:])]
    _, _, values = options(rest, frozenset({"x", "--exec"})) if sub == "rebase" else ({}, [], {})
    return [values[key] for key in ("x", "--exec") if key in values]


def _git_risk(sub: str, rest: list[str]) -> tuple[Risk, str]:
    flags, operands, _ = options(rest)
    if sub == "push":
        return _git_push(flags, operands)
    listing = _GIT_LISTINGS.get(sub)
    if sub in _GIT_READS or (listing and listing(flags, operands)):
        return Risk.LOW, ""
    for risk, why, applies in _GIT_DANGERS:
        if applies(sub, flags, operands):
            return risk, why
    return Risk.MEDIUM, "changes the repository"


def _git_push(flags: set[str], operands: list[str]) -> tuple[Risk, str]:
    refspecs = operands[1:]  # the first operand is the remote
    forced = flags & {"f", "--force", "--force-with-lease", "--force-if-includes"}
    if forced or any(refspec.startswith("+") for refspec in refspecs):
        return Risk.CRITICAL, "force-pushing rewrites the remote history"
    if "--mirror" in flags:
        return Risk.CRITICAL, "--mirror overwrites and deletes remote refs"
    deleted = [refspec[1:] for refspec in refspecs if refspec.startswith(":")]
    deleted += refspecs if flags & {"d", "--delete"} else []
    if any(refspec.rpartition("/")[2] in _PROTECTED for refspec in deleted):
        return Risk.CRITICAL, "deletes a main branch on the remote"
    if deleted or "--prune" in flags:
        return Risk.HIGH, "deletes branches on the remote"
    return Risk.HIGH, "publishes commits to a remote"


# -------------------------------------------------------------------------- system

_SERVICE_STOPS = _words("poweroff reboot halt kexec soft-reboot rescue emergency")
_SERVICE_QUERIES = _words(
    "status show cat list-units list-unit-files list-timers is-active is-enabled is-failed"
    " list-dependencies list print help"
)
_CONTAINER_GROUPS = _words("compose container image volume network system config")
_CONTAINER_QUERIES = _words(
    "ps images logs inspect version info stats top port diff history events search ls get"
    " describe explain api-resources api-versions cluster-info view current-context"
)


def _kill(argv: list[str], ctx: _Ctx) -> _Trait:
    # `kill -1` alone names a signal; after one, -1 means every process (and 1 is init)
    targets = [arg for arg in argv[1:2] if not arg.startswith("-")] + argv[2:]
    if "-1" in targets or "1" in targets:
        ctx.report.add(Risk.CRITICAL, f"{_show(argv)}: signals every process, or init")
    else:
        ctx.report.add(Risk.HIGH, f"{_show(argv)}: stops other processes")
    return _NONE


def _services(argv: list[str], ctx: _Ctx) -> _Trait:
    operands = [arg for arg in argv[1:] if not arg.startswith("-")]
    runlevel = program(argv[0]) in ("init", "telinit") and operands[:1] in (["0"], ["6"])
    if runlevel or _SERVICE_STOPS & set(operands[:2]):
        ctx.report.add(Risk.CRITICAL, f"{_show(argv)}: shuts down or restarts the machine")
    elif operands and not _SERVICE_QUERIES & set(operands[:2]):
        ctx.report.add(Risk.HIGH, f"{_show(argv)}: changes system services")
    return _NONE


def _disk(argv: list[str], ctx: _Ctx) -> _Trait:
    args = [arg.lower() for arg in argv[1:]]
    if program(argv[0]) == "diskutil":
        erases = any(arg.startswith(("erase", "zero", "secure", "partition")) for arg in args)
        if not erases and args[:1] not in (["list"], ["info"]):
            ctx.report.add(Risk.HIGH, f"{_show(argv)}: changes disks")
        if not erases:
            return _NONE
    elif {"-l", "--list"} & set(args):
        return _NONE
    ctx.report.add(Risk.CRITICAL, f"{_show(argv)}: formats, partitions or wipes a disk")
    return _NONE


def _containers(argv: list[str], ctx: _Ctx) -> _Trait:
    operands = [arg for arg in argv[1:] if not arg.startswith("-")]
    grouped = len(operands) > 1 and operands[0] in _CONTAINER_GROUPS  # docker compose up
    sub = operands[1] if grouped else operands[0] if operands else ""
    sql = _destructive_sql(argv[1:])  # `docker exec db psql -c 'DROP TABLE …'`
    if sql:
        ctx.report.add(Risk.CRITICAL, f"{_show(argv)}: passes destructive SQL ({sql})")
    elif sub and sub not in _CONTAINER_QUERIES:
        ctx.report.add(Risk.HIGH, f"{_show(argv)}: changes containers or a cluster")
    return _NONE


def _infrastructure(argv: list[str], ctx: _Ctx) -> _Trait:
    operands = [arg for arg in argv[1:] if not arg.startswith("-")]
    if operands[:1] == ["destroy"]:
        ctx.report.add(Risk.CRITICAL, f"{_show(argv)}: destroys infrastructure")
    elif operands[:1] in (["apply"], ["up"], ["deploy"], ["import"], ["state"]):
        ctx.report.add(Risk.HIGH, f"{_show(argv)}: changes infrastructure")
    else:
        ctx.report.add(Risk.MEDIUM, f"{_show(argv)}: reads or plans infrastructure")
    return _NONE


def _clock_or_name(argv: list[str], ctx: _Ctx) -> _Trait:
    """``date`` and ``hostname`` print, unless asked to set the clock or the name."""
    flags, operands, _ = options(argv[1:], frozenset({"d", "f", "r", "--date", "--file"}))
    if flags & {"s", "--set"} or (program(argv[0]) == "hostname" and operands):
        ctx.report.add(Risk.HIGH, f"{_show(argv)}: changes the system")
    return _NONE


def _crontab(argv: list[str], ctx: _Ctx) -> _Trait:
    if "-l" not in argv:
        ctx.report.add(Risk.HIGH, f"{_show(argv)}: changes scheduled jobs")
    return _NONE


# ------------------------------------------------------------------------ registry

_READ_ONLY = (
    "ls ll la dir vdir cat tac nl head tail bat batcat grep egrep fgrep zgrep rg ag ack"
    " pwd echo printf wc which whereis type file stat tree du df printenv whoami id groups users"
    " who w uname cal true false test [ [[ ]] : basename dirname realpath readlink"
    " uniq cut tr diff cmp comm jq yq column od hexdump md5sum md5 sha1sum sha256sum sha512sum"
    " shasum cksum b2sum ps pgrep pstree free uptime vmstat iostat lsof apropos help"
    " locale nproc tty seq expr sleep wait set shopt unset read history jobs hash ulimit umask"
    " let return exit break continue shift getopts times for select fold fmt paste join look"
    " strings nm objdump ldd otool lsblk lscpu lsusb lspci arch sw_vers lsb_release getconf"
    " tput clear zcat zless gzcat bzcat xzcat unalias logname whatis cloc tokei"
)
_SYSTEM_CHANGES = (
    "mount umount useradd userdel usermod groupadd groupdel passwd chpasswd visudo sysctl"
    " modprobe insmod rmmod iptables ip6tables nft ufw firewall-cmd swapon swapoff hostnamectl"
    " timedatectl update-alternatives setcap chattr defaults scutil nvram csrutil spctl"
)
_DATABASES = (
    "psql mysql mariadb sqlite3 sqlcmd clickhouse-client duckdb cqlsh mongosh mongo redis-cli"
    " cockroach snowsql mysqladmin"
)
_CRITICAL = _fixed(Risk.CRITICAL, "shuts down or restarts the machine")

HANDLERS: dict[str, _Handler] = {
    "": _unknown,
    **dict.fromkeys(_READ_ONLY.split(), _read_only),
    **FILE_HANDLERS,
    **WRAPPER_HANDLERS,
    **dict.fromkeys(("awk", "gawk", "mawk", "nawk"), _awk),
    **dict.fromkeys(_CODE_LETTERS, _interpreter),
    **dict.fromkeys(_PACKAGE_MANAGERS.split(), _packages),
    **dict.fromkeys(_DATABASES.split(), _database),
    **dict.fromkeys([*_DOWNLOADERS, *_NETWORK.split()], _network),
    **dict.fromkeys(("shutdown", "reboot", "halt", "poweroff"), _CRITICAL),
    **dict.fromkeys(("systemctl", "service", "launchctl", "init", "telinit"), _services),
    **dict.fromkeys(("mkfs", "mke2fs", "mkswap", "wipefs", "diskutil"), _disk),
    **dict.fromkeys(("fdisk", "sfdisk", "cfdisk", "parted", "gdisk", "sgdisk"), _disk),
    **dict.fromkeys(("docker", "podman", "nerdctl", "kubectl", "oc", "helm"), _containers),
    **dict.fromkeys(("terraform", "tofu", "pulumi", "cdk"), _infrastructure),
    **dict.fromkeys(("pkill", "killall", "xkill"), _fixed(Risk.HIGH, "stops other processes")),
    **dict.fromkeys(_SYSTEM_CHANGES.split(), _fixed(Risk.HIGH, "changes the system")),
    **dict.fromkeys(("at", "batch", "setx"), _fixed(Risk.HIGH, "runs or sets things for later")),
    "dropdb": _fixed(Risk.CRITICAL, "drops a database"),
    **dict.fromkeys(("date", "hostname"), _clock_or_name),
    "kill": _kill,
    "crontab": _crontab,
    "git": _git,
}
