"""The fleet's own commands: launch, status, events, approvals and the rest.

Exit codes: 0 success, 1 a fleetnb error, 2 bad usage, 3 an awaited agent ended
``failed`` or ``stopped``.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime

from fleetnb.agent import Agent
from fleetnb.errors import FleetError
from fleetnb.events import Event, State
from fleetnb.fleet import APPROVAL_MODES, Fleet
from fleetnb.quickstart import run_quickstart

__all__ = ["register_fleet_commands"]


_TABLE_COLUMNS = [
    "name", "harness", "model", "state", "elapsed_s", "total_tokens", "cost_usd",
    "pending_approvals", "last_action",
]  # fmt: skip

EXIT_OK, EXIT_AGENT_FAILED = 0, 3


def register_fleet_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    launch = _command(commands, "launch", "start an agent on a task", _launch)
    launch.add_argument("task")
    launch.add_argument("--harness", default="claude", help="claude, codex, demo, …")
    launch.add_argument("--cwd", default=".", help="the agent's working directory")
    launch.add_argument("--model")
    launch.add_argument("--name")
    launch.add_argument(
        "--approvals", choices=APPROVAL_MODES, help="one answer for everything (default: policy)"
    )
    launch.add_argument("--policy", help="a policy TOML file (default: the default policy)")
    launch.add_argument("--env", action="append", default=[], metavar="KEY=VALUE")
    launch.add_argument("--binary", help="the CLI to run instead of the one on PATH")
    launch.add_argument("--wait", action="store_true", help="wait until it is idle or done")
    launch.add_argument(
        "--worktree", action="store_true", help="work in a new git worktree on fleetnb/NAME"
    )
    launch.add_argument(
        "--budget", type=float, metavar="USD", help="stop the agent once it has spent this much"
    )
    launch.add_argument(
        "--no-check",
        dest="check",
        action="store_false",
        help="do not check the agent's changed lines against the real APIs",
    )
    launch.add_argument(
        "--fix-findings",
        action="store_true",
        help="send the API check's errors back to the agent at the end of each turn",
    )

    status = _command(commands, "status", "one line per agent", _status)
    status.add_argument("--json", action="store_true")

    events = _command(commands, "events", "an agent's events", _events)
    events.add_argument("agent")
    events.add_argument("--json", action="store_true", help="one JSON object per line")
    events.add_argument("--follow", "-f", action="store_true", help="keep printing new events")

    search = _command(commands, "search", "search every agent's events", _search)
    search.add_argument("query")
    search.add_argument("--agent", help="only this agent's events (name or id)")
    search.add_argument("--kind", help="only events of this kind, e.g. assistant_text")
    search.add_argument("--limit", type=int, default=50)
    search.add_argument("--json", action="store_true", help="one JSON object per line")

    send = _command(commands, "send", "a follow-up message", _send)
    send.add_argument("agent")
    send.add_argument("message")

    resume = _command(commands, "resume", "continue a finished agent's session", _resume)
    resume.add_argument("agent")
    resume.add_argument("instruction")
    resume.add_argument("--wait", action="store_true", help="wait until it is idle or done")

    stop = _command(commands, "stop", "stop an agent and its CLI", _stop)
    stop.add_argument("agent")

    wait = _command(commands, "wait", "wait until an agent is idle or done", _wait)
    wait.add_argument("agent")
    wait.add_argument("--timeout", type=float)

    approvals = _command(commands, "approvals", "pending approval requests", _approvals)
    approvals.add_argument("--json", action="store_true")

    approve = _command(commands, "approve", "approve a pending request", _approve)
    approve.add_argument("id")

    deny = _command(commands, "deny", "deny a pending request", _deny)
    deny.add_argument("id")
    deny.add_argument("--reason")

    quick = _command(commands, "quickstart", "run the demo fleet (no API key)", _quickstart)
    quick.add_argument("--dir", default="fleetnb-quickstart", help="scratch repo to work in")


def _command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    help_text: str,
    handler: Callable[[argparse.Namespace], int],
) -> argparse.ArgumentParser:
    sub = commands.add_parser(name, help=help_text, description=help_text)
    sub.set_defaults(handler=handler)
    return sub


def _fleet(args: argparse.Namespace) -> Fleet:
    return Fleet(args.root)


def _launch(args: argparse.Namespace) -> int:
    env = {}
    for item in args.env:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise FleetError(f"--env {item!r} must look like KEY=VALUE")
        env[key] = value
    agent = _fleet(args).launch(
        args.task,
        harness=args.harness,
        cwd=args.cwd,
        model=args.model,
        name=args.name,
        env=env,
        approvals=args.approvals,
        policy=args.policy,
        binary=args.binary,
        worktree=args.worktree,
        budget_usd=args.budget,
        check=args.check,
        fix_findings=args.fix_findings,
    )
    print(f"{agent.name}\t{agent.id}")
    return _wait_exit(agent, None) if args.wait else EXIT_OK


def _status(args: argparse.Namespace) -> int:
    frame = _fleet(args).status()
    if args.json:
        print(frame.to_json(orient="records", indent=2))
    elif frame.empty:
        print("no agents yet; start one with `fleetnb launch TASK --harness demo`")
    else:
        print(frame[_TABLE_COLUMNS].to_string(index=False))
    return EXIT_OK


def _events(args: argparse.Namespace) -> int:
    agent = _fleet(args)[args.agent]
    last = 0
    while True:
        for event in agent.events(after_seq=last):
            print(event.to_json() if args.json else _event_line(event), flush=True)
            last = event.seq
        if not args.follow or agent.state.is_final:
            return EXIT_OK
        time.sleep(0.2)


def _search(args: argparse.Namespace) -> int:
    frame = _fleet(args).search(args.query, agent=args.agent, kind=args.kind, limit=args.limit)
    if frame.empty and not args.json:
        print(f"no events match {args.query!r}")
    for row in frame.to_dict(orient="records"):
        if args.json:
            print(json.dumps(row, ensure_ascii=False))
        else:
            when = datetime.fromtimestamp(row["ts"], UTC).strftime("%H:%M:%S")
            print(f"{row['agent']:<14} {row['seq']:>5} {when} {row['kind']:<19} {row['snippet']}")
    return EXIT_OK


def _send(args: argparse.Namespace) -> int:
    _fleet(args)[args.agent].send(args.message)
    return EXIT_OK


def _resume(args: argparse.Namespace) -> int:
    agent = _fleet(args)[args.agent].resume(args.instruction)
    return _wait_exit(agent, None) if args.wait else EXIT_OK


def _stop(args: argparse.Namespace) -> int:
    state = _fleet(args)[args.agent].stop()
    print(state)
    return EXIT_OK


def _wait(args: argparse.Namespace) -> int:
    return _wait_exit(_fleet(args)[args.agent], args.timeout)


def _approvals(args: argparse.Namespace) -> int:
    pending = _fleet(args).approvals
    if args.json:
        print(json.dumps([request.to_dict() for request in pending], indent=2))
    elif not pending:
        print("no approval requests are waiting")
    for request in [] if args.json else pending:
        when = request.requested_at.astimezone().strftime("%H:%M:%S")
        what = json.dumps(request.input, ensure_ascii=False)[:100]
        print(f"{request.id}  {when}  {request.agent.name:<14} {request.risk:<8} "
              f"{request.tool:<8} {what}")  # fmt: skip
    return EXIT_OK


def _approve(args: argparse.Namespace) -> int:
    _fleet(args).approval(args.id).approve()
    print(f"approved {args.id}")
    return EXIT_OK


def _deny(args: argparse.Namespace) -> int:
    _fleet(args).approval(args.id).deny(args.reason)
    print(f"denied {args.id}")
    return EXIT_OK


def _quickstart(args: argparse.Namespace) -> int:
    return run_quickstart(args.dir)


def _wait_exit(agent: Agent, timeout: float | None) -> int:
    state = agent.wait(timeout)
    print(state)
    return EXIT_AGENT_FAILED if state in (State.FAILED, State.STOPPED) else EXIT_OK


def _event_line(event: Event) -> str:
    when = datetime.fromtimestamp(event.ts, UTC).strftime("%H:%M:%S")
    payload = json.dumps(event.payload, ensure_ascii=False)
    if len(payload) > 160:
        payload = payload[:159] + "…"
    return f"{event.seq:>5} {when} {event.kind:<19} {payload}"
