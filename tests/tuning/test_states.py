"""Job states: Google's names, which ones are final, and what `/tune list` filters select."""

from __future__ import annotations

import pytest

from bot.tuning.states import ACTIVE_STATES, LIST_FILTERS, TERMINAL_STATES, JobState

GOOGLE_NAMES = {
    "JOB_STATE_UNSPECIFIED": JobState.UNSPECIFIED,
    "JOB_STATE_QUEUED": JobState.QUEUED,
    "JOB_STATE_PENDING": JobState.PENDING,
    "JOB_STATE_RUNNING": JobState.RUNNING,
    "JOB_STATE_SUCCEEDED": JobState.SUCCEEDED,
    "JOB_STATE_FAILED": JobState.FAILED,
    "JOB_STATE_CANCELLING": JobState.CANCELLING,
    "JOB_STATE_CANCELLED": JobState.CANCELLED,
    "JOB_STATE_PAUSED": JobState.PAUSED,
    "JOB_STATE_EXPIRED": JobState.EXPIRED,
    "JOB_STATE_UPDATING": JobState.UPDATING,
    "JOB_STATE_PARTIALLY_SUCCEEDED": JobState.PARTIALLY_SUCCEEDED,
}


@pytest.mark.parametrize(("wire", "state"), GOOGLE_NAMES.items())
def test_every_google_state_name_parses(wire: str, state: JobState) -> None:
    assert JobState.from_wire(wire) is state
    assert state.value == wire


def test_the_enum_holds_exactly_googles_states() -> None:
    assert {s.value for s in JobState} == set(GOOGLE_NAMES)


@pytest.mark.parametrize(
    "wire", [None, "", "RUNNING", "job_state_running", "JOB_STATE_RUNNING ", "JOB_STATE_NEW"]
)
def test_unknown_or_missing_states_are_unspecified(wire: str | None) -> None:
    assert JobState.from_wire(wire) is JobState.UNSPECIFIED


def test_has_ended_is_exactly_the_sdk_set() -> None:
    ended = {s for s in JobState if s.has_ended}
    assert ended == {
        JobState.SUCCEEDED,
        JobState.PARTIALLY_SUCCEEDED,
        JobState.FAILED,
        JobState.CANCELLED,
        JobState.EXPIRED,
    }
    assert ended == TERMINAL_STATES


def test_paused_is_not_ended() -> None:
    assert JobState.PAUSED.is_paused
    assert not JobState.PAUSED.has_ended
    assert JobState.PAUSED in ACTIVE_STATES
    assert not JobState.CANCELLING.has_ended


def test_succeeded_includes_partial_success() -> None:
    assert {s for s in JobState if s.succeeded} == {
        JobState.SUCCEEDED,
        JobState.PARTIALLY_SUCCEEDED,
    }


def test_every_state_is_active_or_ended_never_both() -> None:
    assert set(JobState) == ACTIVE_STATES | TERMINAL_STATES
    assert not ACTIVE_STATES & TERMINAL_STATES


def test_short_names() -> None:
    assert JobState.PARTIALLY_SUCCEEDED.short == "partially_succeeded"
    assert JobState.RUNNING.short == "running"


def test_list_filters() -> None:
    assert set(LIST_FILTERS) == {"active", "succeeded", "failed", "cancelled", "all"}
    assert LIST_FILTERS["all"] is None
    assert LIST_FILTERS["active"] == ACTIVE_STATES
    assert LIST_FILTERS["succeeded"] == frozenset(
        {JobState.SUCCEEDED, JobState.PARTIALLY_SUCCEEDED}
    )
    assert LIST_FILTERS["failed"] == frozenset({JobState.FAILED, JobState.EXPIRED})
    assert LIST_FILTERS["cancelled"] == frozenset({JobState.CANCELLED, JobState.CANCELLING})
    # Every state is reachable through some filter other than `all`.
    covered = set().union(*(s for s in LIST_FILTERS.values() if s is not None))
    assert covered == set(JobState)
