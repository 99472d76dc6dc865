"""The store's "watches of user U" query (the Home tab's), on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt

from bot.tuning.states import JobState
from bot.watch.model import WatchKind, WatchUpdate
from bot.watch.store import SqlWatchStore
from tests.watch.test_store import NOW, _new


async def _finish(store: SqlWatchStore, watch_id: int, at: dt.datetime) -> None:
    lease = at + dt.timedelta(seconds=30)
    await store.claim_due("replica-a", now=at, lease_until=lease, limit=100, due_by=lease)
    ended = WatchUpdate(finished_at=at, end_reason="announced", last_state=JobState.SUCCEEDED)
    assert await store.update_fenced(watch_id, "replica-a", ended, release=True)


async def test_a_users_watches_are_the_active_ones_newest_first_then_the_last_ended(
    store: SqlWatchStore,
) -> None:
    for job in range(1, 4):  # active, created an hour apart
        await store.add_watch(_new(job, started_by="U0ALICE01"), now=NOW + dt.timedelta(hours=job))
    await store.add_watch(
        _new(4, started_by="U0ALICE01", kind=WatchKind.WATCHED), now=NOW + dt.timedelta(hours=4)
    )
    await store.add_watch(_new(9, started_by="U0BOB0001"), now=NOW)  # someone else's
    ended = []
    for job in range(10, 15):
        ended.append(await store.add_watch(_new(job, started_by="U0ALICE01"), now=NOW))
    for minutes, watch in enumerate(ended):
        await _finish(store, watch.id, NOW + dt.timedelta(minutes=minutes))

    found = await store.watches_of_user("U0ALICE01", ended_limit=3)

    jobs = [w.ref.job_id for w in found]
    assert jobs == ["4", "3", "2", "1", "14", "13", "12"]
    assert all(w.started_by == "U0ALICE01" for w in found)
    assert [w.finished_at is None for w in found] == [True] * 4 + [False] * 3
    assert await store.watches_of_user("U0NOBODY1", ended_limit=10) == []
