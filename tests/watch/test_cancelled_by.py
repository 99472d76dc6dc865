"""Who cancelled a job through the bot, kept on its watches: on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.tuning.refs import JobRef
from bot.tuning.states import JobState
from bot.watch.migrations import LATEST, STEPS
from bot.watch.model import NewWatch, WatchKind
from bot.watch.store import SqlWatchStore
from bot.watch.tables import schema_version, watches
from tests.fakes.watch_store import old_database

JOB = "projects/team-tuning/locations/us-central1/tuningJobs/{}"
BY_NUMBER = "projects/123456789012/locations/us-central1/tuningJobs/{}"
NOW = dt.datetime(2026, 12, 4, 2, 0, tzinfo=dt.UTC)


def _new(job: int, channel: str = "C0TEAM001", name: str = JOB) -> NewWatch:
    return NewWatch(
        job_name=name.format(job),
        channel_id=channel,
        started_by="U0STARTER",
        kind=WatchKind.CREATED,
        state=JobState.RUNNING,
    )


async def test_every_watch_of_the_job_learns_who_cancelled_it(store: SqlWatchStore) -> None:
    await store.add_watch(_new(1, "C0TEAM001"))
    await store.add_watch(_new(1, "C0OTHER01"))
    await store.add_watch(_new(2))

    # Google's name of the job (by project number) finds the watches made by project id.
    marked = await store.record_cancelled_by(JobRef.from_name(BY_NUMBER.format(1)), "U0BOB0002")

    assert marked == 2
    by_job = {(w.job_name, w.channel_id): w.cancelled_by for w in store.all_watches()}
    assert by_job == {
        (JOB.format(1), "C0TEAM001"): "U0BOB0002",
        (JOB.format(1), "C0OTHER01"): "U0BOB0002",
        (JOB.format(2), "C0TEAM001"): None,
    }


async def test_the_first_canceller_stays(store: SqlWatchStore) -> None:
    await store.add_watch(_new(1))
    await store.record_cancelled_by(JobRef.from_name(JOB.format(1)), "U0BOB0002")

    assert await store.record_cancelled_by(JobRef.from_name(JOB.format(1)), "U0ADMIN01") == 0
    (watch,) = await store.watches_for_job(JobRef.from_name(JOB.format(1)))
    assert watch.cancelled_by == "U0BOB0002"


async def test_a_job_nobody_watches_has_nothing_to_record(store: SqlWatchStore) -> None:
    assert await store.record_cancelled_by(JobRef.from_name(JOB.format(9)), "U0BOB0002") == 0
    assert store.all_watches() == []


async def test_watching_a_job_again_after_its_watch_finished_forgets_the_canceller(
    store: SqlWatchStore,
) -> None:
    watch = await store.add_watch(_new(1))
    await store.record_cancelled_by(watch.ref, "U0BOB0002")
    with store.engine.begin() as conn:
        conn.execute(watches.update().values(finished_at=NOW, end_reason="announced"))

    again = await store.add_watch(_new(1))

    assert again.cancelled_by is None


def _version_3_database(url: str) -> None:
    """A database as release 3 left it: no `cancelled_by` yet, one watch in it."""
    row = {
        "job_name": JOB.format(1),
        "job_key": JobRef.from_name(JOB.format(1)).key,
        "next_poll_at": NOW,
        "created_at": NOW,
        "message_ts": "1.1",
    }
    old_database(url, 3, [row])


async def test_a_version_3_database_gains_the_canceller_column(store_url: str) -> None:
    _version_3_database(store_url)
    store = SqlWatchStore.open(store_url)

    (watch,) = await store.watches_for_job(JobRef.from_name(JOB.format(1)))
    assert (watch.message_ts, watch.cancelled_by) == ("1.1", None)
    assert await store.record_cancelled_by(watch.ref, "U0BOB0002") == 1
    store.close()
    # The step is idempotent: run again on its own output, it changes nothing.
    again = SqlWatchStore.open(store_url)
    step = STEPS[4]  # the step that adds the canceller
    with again.engine.begin() as conn:
        step(conn)
        assert conn.execute(select(schema_version.c.version)).scalar_one() == LATEST
    (watch,) = await again.watches_for_job(JobRef.from_name(JOB.format(1)))
    assert watch.cancelled_by == "U0BOB0002"
    again.close()
