"""The ``fleetnb`` command: the fleet from a shell.

Exit codes: 0 success, 1 a fleetnb error (message on stderr), 2 bad usage,
3 an awaited agent ended ``failed`` or ``stopped``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from fleetnb.errors import FleetError

__all__ = ["main"]

EXIT_ERROR = 1

_Register = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser(_command_of(argv))
    args = parser.parse_args(argv)
    try:
        result: int = args.handler(args)
        return result
    except FleetError as exc:
        print(f"fleetnb: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130


def _command_of(argv: Sequence[str] | None) -> str | None:
    """The command named in ``argv``, found without building every command's parser."""
    first = argparse.ArgumentParser(add_help=False)
    first.add_argument("--root")
    first.add_argument("command", nargs="?")
    return first.parse_known_args(argv)[0].command  # type: ignore[no-any-return]


def _parser(command: str | None) -> argparse.ArgumentParser:
    """The parser with ``command``'s group only when it has one: ``fleetnb cost``
    runs on every prompt for some, and must not pay for the fleet's imports."""
    parser = argparse.ArgumentParser(prog="fleetnb", description=__doc__.splitlines()[0])
    parser.add_argument("--root", help="the fleet's root directory (default: $FLEETNB_HOME or .)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    groups = _groups()
    for register in [groups[command]] if command in groups else _all(groups):
        register(commands)
    return parser


def _groups() -> dict[str, _Register]:
    def cost(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
        from fleetnb.cost.cli import register_cost_commands  # noqa: PLC0415

        register_cost_commands(commands)

    def check(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
        from fleetnb.truth.cli import register_check_command  # noqa: PLC0415 - an HTTP stack

        register_check_command(commands)

    return {"cost": cost, "check": check}


def _all(groups: dict[str, _Register]) -> list[_Register]:
    from fleetnb.cli_fleet import register_fleet_commands  # noqa: PLC0415

    return [register_fleet_commands, *groups.values()]


if __name__ == "__main__":
    sys.exit(main())
