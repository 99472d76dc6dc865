"""`WatchUpdate`: the poller's typed change of one watch."""

from __future__ import annotations

import datetime as dt

from bot.tuning.states import JobState
from bot.watch.model import KEEP, WatchUpdate

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def test_fields_are_left_alone_unless_set() -> None:
    update = WatchUpdate(error_count=0)
    assert update.error_count == 0
    assert update.missing_since is KEEP
    assert WatchUpdate() == WatchUpdate()
    assert update != WatchUpdate()


def test_a_later_update_wins_where_it_sets_a_field_and_none_is_a_value() -> None:
    first = WatchUpdate(last_state=JobState.RUNNING, missing_since=NOW, missing_count=2)
    later = WatchUpdate(missing_since=None, card_state=JobState.RUNNING)

    merged = first | later

    assert merged == WatchUpdate(
        last_state=JobState.RUNNING,
        missing_since=None,
        missing_count=2,
        card_state=JobState.RUNNING,
    )
    assert first | WatchUpdate() == first
    assert WatchUpdate() | first == first
