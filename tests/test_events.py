"""The state fold is a pure function: events in, status out."""

from __future__ import annotations

from typing import Any

import pytest

from fleetnb.events import Event, EventKind, State, Usage, fold, truth_columns


def _events(*items: tuple[str, dict[str, Any]], start: float = 100.0) -> list[Event]:
    return [
        Event("a", seq, start + seq, kind, payload)
        for seq, (kind, payload) in enumerate(items, start=1)
    ]


LAUNCH = (EventKind.LAUNCHED, {"task": "t", "model": "m"})
SESSION = (EventKind.SESSION_STARTED, {"session_id": "s-1", "model": "m-2"})
TURN = (EventKind.TURN_FINISHED, {"is_error": False})


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([LAUNCH], State.STARTING),
        ([LAUNCH, SESSION], State.RUNNING),
        ([LAUNCH, SESSION, (EventKind.APPROVAL_REQUESTED, {"request_id": "r"})], State.WAITING),
        (
            [
                LAUNCH,
                SESSION,
                (EventKind.APPROVAL_REQUESTED, {"request_id": "r"}),
                (EventKind.APPROVAL_DECIDED, {"request_id": "r", "decision": "allow"}),
            ],
            State.RUNNING,
        ),
        ([LAUNCH, SESSION, TURN], State.IDLE),
        ([LAUNCH, SESSION, TURN, (EventKind.USER_MESSAGE, {"text": "more"})], State.RUNNING),
        ([LAUNCH, SESSION, (EventKind.LIMIT_HIT, {"resets_at": 5.0})], State.LIMITED),
        (
            [LAUNCH, SESSION, (EventKind.LIMIT_HIT, {}), (EventKind.ASSISTANT_TEXT, {"text": "x"})],
            State.RUNNING,
        ),
        ([LAUNCH, SESSION, (EventKind.AGENT_FINISHED, {"status": "done"})], State.DONE),
        ([LAUNCH, (EventKind.AGENT_FINISHED, {"status": "failed"})], State.FAILED),
        ([LAUNCH, (EventKind.AGENT_FINISHED, {"status": "stopped"})], State.STOPPED),
        ([LAUNCH, (EventKind.AGENT_FINISHED, {"status": "???"})], State.FAILED),
        (
            [LAUNCH, (EventKind.AGENT_FINISHED, {"status": "done"}), SESSION],
            State.DONE,
        ),
    ],
)
def test_state_follows_the_events(items: list[tuple[str, dict[str, Any]]], expected: State) -> None:
    assert fold(_events(*items)).state is expected


def test_silent_running_agent_is_stalled_only_past_the_threshold() -> None:
    events = _events(LAUNCH, SESSION)  # last event at ts 102
    assert fold(events, now=150.0, stall_after=60).state is State.RUNNING
    assert fold(events, now=200.0, stall_after=60).state is State.STALLED
    idle = _events(LAUNCH, SESSION, TURN)
    assert fold(idle, now=10_000.0, stall_after=60).state is State.IDLE


def test_incremental_fold_equals_full_fold() -> None:
    events = _events(
        LAUNCH,
        SESSION,
        (EventKind.USAGE, {"input_tokens": 10, "output_tokens": 5, "cache_read_tokens": 2}),
        (EventKind.TOOL_CALL, {"tool": "Bash", "input": {"command": "ls -la"}}),
        (EventKind.USAGE, {"input_tokens": 1, "output_tokens": 1, "cache_write_tokens": 7}),
        (EventKind.TURN_FINISHED, {"session_cost_usd": 0.25}),
        (EventKind.USER_MESSAGE, {"text": "again"}),
        (EventKind.TURN_FINISHED, {"session_cost_usd": 0.5}),
    )
    whole = fold(events)
    stepwise = fold(events[:3], now=1e9, stall_after=1)  # a stall must not stick
    for event in events[3:]:
        stepwise = fold([event], status=stepwise)
    assert stepwise == whole
    assert whole.usage == Usage(11, 6, 2, 7)
    assert whole.session_id == "s-1"
    assert whole.model == "m-2"
    assert whole.cost_usd == 0.5  # cumulative session cost, not a sum of turns
    assert whole.turns == 2
    assert whole.last_action == "Bash: ls -la"


def test_priced_usage_is_summed_when_no_cost_is_reported() -> None:
    events = _events(
        LAUNCH,
        (EventKind.USAGE, {"input_tokens": 1, "cost_usd": 0.1}),
        (EventKind.USAGE, {"input_tokens": 1, "cost_usd": 0.2}),
    )
    assert fold(events).cost_usd == pytest.approx(0.3)


def test_parse_errors_are_counted_and_the_agent_goes_on() -> None:
    status = fold(_events(LAUNCH, SESSION, (EventKind.PARSE_ERROR, {"raw": "{oops"})))
    assert status.parse_errors == 1
    assert status.state is State.RUNNING


def test_a_launch_after_the_end_starts_a_new_run() -> None:
    done = (EventKind.AGENT_FINISHED, {"status": "done"})
    resume = (EventKind.LAUNCHED, {"task": "more", "resume": "s-1"})
    usage = (EventKind.USAGE, {"input_tokens": 10, "output_tokens": 1})
    events = _events(LAUNCH, SESSION, usage, TURN, done, resume)
    status = fold(events)
    assert status.state is State.STARTING
    assert status.finished is None
    assert status.session_id == "s-1"
    assert status.usage.input_tokens == 10  # usage and turns keep counting across runs
    assert fold(_events(LAUNCH, SESSION, usage, TURN, done, resume, SESSION, usage)).state is (
        State.RUNNING
    )
    again = fold(_events(LAUNCH, SESSION, TURN, done, resume, SESSION, TURN, done))
    assert (again.state, again.turns) == (State.DONE, 2)
    stepwise = fold(events[:5])
    assert fold(events[5:], status=stepwise).state is State.STARTING


def test_the_current_runs_runner_and_request_times_are_folded() -> None:
    events = _events(
        LAUNCH,
        (EventKind.RUNNER_STARTED, {"pid": 11}),
        (EventKind.APPROVAL_REQUESTED, {"request_id": "r", "tool": "Bash"}),
        (EventKind.AGENT_FINISHED, {"status": "failed"}),
        (EventKind.LAUNCHED, {"task": "again", "resume": "s-1"}),
    )
    before_resume = fold(events[:3])
    assert before_resume.runner == {"pid": 11}
    assert before_resume.pending_approvals[0]["requested_ts"] == events[2].ts
    resumed = fold(events)
    assert resumed.runner is None  # the new run's runner has not started yet
    assert resumed.run_launched_ts == events[4].ts


def test_the_latest_api_check_is_folded_even_after_the_end() -> None:
    checked = {"trigger": "turn", "errors": 2, "warnings": 1, "findings": []}
    events = _events(
        (EventKind.LAUNCHED, {"task": "t"}),
        (EventKind.TRUTH_CHECKED, {"skipped": "API checks are off for this run"}),
        (EventKind.TRUTH_CHECKED, checked),
        (EventKind.AGENT_FINISHED, {"status": "done"}),
        (EventKind.TRUTH_CHECKED, {"trigger": "manual", "errors": 0, "warnings": 0}),
    )
    status = fold(events[:2])
    assert (status.truth, truth_columns(status)) == (
        None,
        {"api_errors": None, "api_warnings": None},
    )
    assert truth_columns(fold(events[:3])) == {"api_errors": 2, "api_warnings": 1}
    done = fold(events)
    assert done.state is State.DONE  # a check after the end changes the column, not the state
    assert truth_columns(done) == {"api_errors": 0, "api_warnings": 0}
