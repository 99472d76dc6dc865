"""The watch store's contract, each test on a real SQLite file and on the real PostgreSQL server."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot.tuning.refs import JobRef
from bot.tuning.states import JobState
from bot.watch.migrations import LATEST
from bot.watch.model import UPDATE_FIELDS, AuditEntry, NewWatch, Watch, WatchKind, WatchUpdate
from bot.watch.store import SqlWatchStore, make_engine
from bot.watch.tables import schema_version, watches
from tests.fakes.watch_store import old_database

JOB = "projects/team-tuning/locations/us-central1/tuningJobs/{}"
# The same jobs as Google names them: by project number.
BY_NUMBER = "projects/123456789012/locations/us-central1/tuningJobs/{}"


def ref(job: int, template: str = JOB) -> JobRef:
    return JobRef.from_name(template.format(job))


NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def _new(job: int, channel: str = "C0TEAM001", **kw: object) -> NewWatch:
    values: dict[str, object] = {
        "job_name": JOB.format(job),
        "channel_id": channel,
        "started_by": "U0STARTER",
        "kind": WatchKind.CREATED,
        "state": JobState.PENDING,
        **kw,
    }
    return NewWatch(**values)  # type: ignore[arg-type]


async def test_schema_is_created_once_and_reopening_keeps_the_data(store_url: str) -> None:
    store = SqlWatchStore.open(store_url)
    await store.add_watch(_new(1, message_ts="1.1"))
    store.close()

    again = SqlWatchStore.open(store_url)
    with again.engine.connect() as conn:
        assert conn.execute(select(schema_version.c.version)).scalars().all() == [LATEST]
    assert [w.message_ts for w in await again.watches_for_job(ref(1))] == ["1.1"]
    assert await again.ping()
    again.close()


async def test_one_watch_per_job_and_channel(store: SqlWatchStore) -> None:
    first = await store.add_watch(_new(1, started_by="U0FIRST01"))
    again = await store.add_watch(_new(1, started_by="U0OTHER01", message_ts="2.2"))
    other = await store.add_watch(_new(1, channel="C0OTHER01"))

    assert again.id == first.id
    assert again.message_ts == "2.2"
    assert again.started_by == "U0FIRST01"
    assert other.id != first.id
    assert [w.channel_id for w in await store.watches_for_job(ref(1))] == [
        "C0TEAM001",
        "C0OTHER01",
    ]
    assert await store.remove_watch(ref(1), "C0OTHER01")
    assert not await store.remove_watch(ref(1), "C0OTHER01")


async def test_a_job_named_by_project_id_or_number_is_one_watch(store: SqlWatchStore) -> None:
    first = await store.add_watch(_new(7, message_ts="1.1"))
    again = await store.add_watch(_new(7, job_name=BY_NUMBER.format(7)))

    assert again.id == first.id
    assert again.job_name == BY_NUMBER.format(7)  # Google's spelling wins
    assert again.message_ts == "1.1"
    assert [w.id for w in await store.watches_for_job(ref(7))] == [first.id]
    assert [w.id for w in await store.watches_for_job(ref(7, BY_NUMBER))] == [first.id]
    # Another project number with the same job id is another job.
    other = JobRef.from_name("projects/987654321098/locations/us-central1/tuningJobs/7")
    assert await store.watches_for_job(other) == []
    assert not await store.remove_watch(other, "C0TEAM001")
    # ... and so is another project id, while the watch is still named by id.
    await store.add_watch(_new(8))
    assert (
        await store.watches_for_job(
            JobRef.from_name("projects/other-team/locations/us-central1/tuningJobs/8")
        )
        == []
    )
    assert await store.remove_watch(ref(7), "C0TEAM001")
    assert await store.watches_for_job(ref(7, BY_NUMBER)) == []


async def test_claims_are_disjoint_and_writes_are_fenced_on_the_lease(
    store: SqlWatchStore,
) -> None:
    for job in range(10):
        await store.add_watch(_new(job), now=NOW)
    lease = NOW + dt.timedelta(seconds=30)

    a = await store.claim_due("replica-a", now=NOW, lease_until=lease, limit=6)
    b = await store.claim_due("replica-b", now=NOW, lease_until=lease, limit=6)
    assert len(a) == 6
    assert len(b) == 4
    assert not {w.id for w in a} & {w.id for w in b}

    # After the lease expires another replica takes the row; the old owner can no longer write.
    later = lease + dt.timedelta(seconds=1)
    c = await store.claim_due(
        "replica-c", now=later, lease_until=later + dt.timedelta(seconds=30), limit=1
    )
    taken = c[0].id
    running = WatchUpdate(last_state=JobState.RUNNING)
    assert not await store.update_fenced(taken, "replica-a", running)
    assert not await store.update_fenced(taken, "replica-b", running)
    assert await store.update_fenced(taken, "replica-c", running)


async def test_announcing_can_be_started_only_once(store: SqlWatchStore) -> None:
    watch = await store.add_watch(_new(1), now=NOW)
    lease = NOW + dt.timedelta(seconds=30)
    await store.claim_due("replica-a", now=NOW, lease_until=lease, limit=1)

    assert await store.mark_announcing(watch.id, "replica-a", now=NOW, lease_until=lease)
    assert not await store.mark_announcing(watch.id, "replica-a", now=NOW, lease_until=lease)
    assert not await store.mark_announced(watch.id, "replica-b", now=NOW)
    assert await store.mark_announced(watch.id, "replica-a", now=NOW)
    stored = store.get_watch(watch.id)
    assert stored is not None
    assert stored.announced_at == NOW
    assert stored.finished_at == NOW
    later = NOW + dt.timedelta(hours=1)
    assert await store.claim_due("replica-a", now=later, lease_until=lease, limit=10) == []


async def test_an_adopter_takes_over_a_started_post_and_keeps_the_time_it_may_have_left(
    store: SqlWatchStore,
) -> None:
    watch = await store.add_watch(_new(1), now=NOW)
    lease = NOW + dt.timedelta(seconds=30)
    await store.claim_due("replica-a", now=NOW, lease_until=lease, limit=1)
    # Adopting needs a mark to adopt.
    assert not await store.adopt_announcing(watch.id, "replica-a", now=NOW, lease_until=lease)
    assert await store.mark_announcing(watch.id, "replica-a", now=NOW, lease_until=lease)

    # replica-a dies; once its lease lapsed replica-b claims the row and adopts the mark.
    later = lease + dt.timedelta(seconds=1)
    until = later + dt.timedelta(seconds=30)
    (claimed,) = await store.claim_due("replica-b", now=later, lease_until=until, limit=1)
    assert (claimed.announcing_at, claimed.announcing_by) == (NOW, "replica-a")
    assert not await store.adopt_announcing(watch.id, "replica-a", now=later, lease_until=until)
    assert await store.adopt_announcing(watch.id, "replica-b", now=later, lease_until=until)
    adopted = store.get_watch(watch.id)
    assert adopted is not None
    assert (adopted.announcing_at, adopted.announcing_by) == (NOW, "replica-b")
    # The first owner can no longer record the ending: the mark is replica-b's now.
    assert not await store.mark_announced(watch.id, "replica-a", now=later)


async def _announcing_by_a(store: SqlWatchStore) -> tuple[Watch, dt.datetime]:
    """One watch, claimed by replica-a, whose ending replica-a has started; and its lease."""
    watch = await store.add_watch(_new(1), now=NOW)
    lease = NOW + dt.timedelta(seconds=30)
    await store.claim_due("replica-a", now=NOW, lease_until=lease, limit=1)
    assert await store.mark_announcing(watch.id, "replica-a", now=NOW, lease_until=lease)
    return watch, lease


async def test_confirming_a_post_renews_the_lease_only_while_it_holds(
    store: SqlWatchStore,
) -> None:
    watch, _ = await _announcing_by_a(store)

    soon = NOW + dt.timedelta(seconds=10)
    renewed = soon + dt.timedelta(seconds=30)
    assert not await store.confirm_announcing(watch.id, "replica-b", now=soon, lease_until=renewed)
    assert await store.confirm_announcing(watch.id, "replica-a", now=soon, lease_until=renewed)
    stored = store.get_watch(watch.id)
    assert stored is not None
    assert (stored.announcing_at, stored.lease_until) == (soon, renewed)
    # Frozen past the renewed lease: confirming fails, so the post must not be sent.
    late = renewed + dt.timedelta(seconds=1)
    assert not await store.confirm_announcing(
        watch.id, "replica-a", now=late, lease_until=late + dt.timedelta(seconds=30)
    )


async def test_a_cleared_mark_lets_the_ending_be_started_again(store: SqlWatchStore) -> None:
    watch, lease = await _announcing_by_a(store)

    assert not await store.clear_announcing(watch.id, "replica-b")
    assert await store.clear_announcing(watch.id, "replica-a")

    stored = store.get_watch(watch.id)
    assert stored is not None
    assert (stored.announcing_at, stored.announcing_by) == (None, None)
    assert await store.mark_announcing(watch.id, "replica-a", now=NOW, lease_until=lease)


async def test_marking_announced_writes_the_last_read_and_releases_the_lease(
    store: SqlWatchStore,
) -> None:
    watch, _ = await _announcing_by_a(store)

    ended = WatchUpdate(last_state=JobState.SUCCEEDED, last_update_time=NOW)
    assert await store.mark_announced(watch.id, "replica-a", now=NOW, change=ended)
    assert not await store.mark_announced(watch.id, "replica-a", now=NOW)  # once only

    stored = store.get_watch(watch.id)
    assert stored is not None
    assert (stored.last_state, stored.last_update_time) == (JobState.SUCCEEDED, NOW)
    assert (stored.announced_at, stored.finished_at, stored.end_reason) == (NOW, NOW, "announced")
    assert (stored.lease_owner, stored.lease_until) == (None, None)


async def test_audit_entries_are_kept_in_order(store: SqlWatchStore) -> None:
    await store.record_audit(AuditEntry("U0ALICE01", "cancel", JOB.format(1), "ok", "C0TEAM001"))
    await store.record_audit(AuditEntry("U0BOB0001", "cancel", JOB.format(1), "refused"))
    assert [(a.actor, a.outcome) for a in store.audit_entries()] == [
        ("U0ALICE01", "ok"),
        ("U0BOB0001", "refused"),
    ]


async def test_ping_is_false_when_the_database_is_unreachable() -> None:
    store = SqlWatchStore(
        make_engine("postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=1")
    )
    assert not await store.ping()


async def test_watching_again_after_a_watch_finished_starts_it_afresh(store: SqlWatchStore) -> None:
    from sqlalchemy import update

    first = await store.add_watch(_new(1, message_ts="1.1"))
    with store.engine.begin() as conn:  # as the poller leaves a watch whose channel was gone
        conn.execute(
            update(watches)
            .where(watches.c.id == first.id)
            .values(finished_at=NOW, end_reason="channel_gone", announced_at=NOW)
        )
    again = await store.add_watch(_new(1, message_ts="3.3", state=JobState.RUNNING))
    assert again.id == first.id
    assert again.finished_at is None
    assert again.end_reason is None
    assert again.announced_at is None
    assert again.last_state is JobState.RUNNING
    assert again.message_ts == "3.3"


async def test_adding_an_active_watch_again_keeps_its_announcing_mark(store: SqlWatchStore) -> None:
    from sqlalchemy import update

    first = await store.add_watch(_new(1, message_ts="1.1"))
    with store.engine.begin() as conn:  # an ending post is under way
        conn.execute(
            update(watches)
            .where(watches.c.id == first.id)
            .values(announcing_at=NOW, announcing_by="replica-a")
        )
    again = await store.add_watch(_new(1))
    assert again.announcing_at == NOW
    assert again.announcing_by == "replica-a"


def _version_1_database(url: str) -> None:
    """A database as release 1 left it: watches keyed on the job name as first stored."""
    row = {
        "next_poll_at": NOW,
        "created_at": NOW,
    }
    old_database(
        url,
        1,
        [
            # Job 1 typed by id; job 2 as Google named it; job 3 twice (a stale row by id
            # without a card, and the live one by number).
            {**row, "job_name": JOB.format(1), "project": "team-tuning", "message_ts": "1.1"},
            {
                **row,
                "job_name": BY_NUMBER.format(2),
                "project": "123456789012",
                "message_ts": "2.2",
            },
            {**row, "job_name": JOB.format(3), "project": "team-tuning", "message_ts": None},
            {
                **row,
                "job_name": BY_NUMBER.format(3),
                "project": "123456789012",
                "message_ts": "3.3",
            },
        ],
    )


async def test_an_upgraded_database_finds_its_watches_by_either_name(store_url: str) -> None:
    _version_1_database(store_url)
    store = SqlWatchStore.open(store_url)

    assert [w.message_ts for w in await store.watches_for_job(ref(1, BY_NUMBER))] == ["1.1"]
    assert [w.message_ts for w in await store.watches_for_job(ref(2))] == ["2.2"]
    assert [w.message_ts for w in await store.watches_for_job(ref(3))] == ["3.3"]
    # Watching an old job again under Google's name updates the one row.
    again = await store.add_watch(_new(1, job_name=BY_NUMBER.format(1)))
    assert again.message_ts == "1.1"
    assert len(store.all_watches()) == 3
    with store.engine.connect() as conn:
        assert conn.execute(select(schema_version.c.version)).scalar_one() == LATEST
    store.close()


async def test_renewed_leases_are_not_claimed_and_stay_fenced(store: SqlWatchStore) -> None:
    mine = await store.add_watch(_new(1), now=NOW)
    taken = await store.add_watch(_new(2), now=NOW)
    short, long = NOW + dt.timedelta(seconds=5), NOW + dt.timedelta(seconds=60)
    await store.claim_due("replica-a", now=NOW, lease_until=short, limit=10)
    # Job 2 goes back and replica-b takes it; replica-a's work on job 1 goes on.
    await store.release([taken.id], "replica-a")
    await store.claim_due("replica-b", now=NOW, lease_until=long, limit=10)

    renewed = await store.renew_leases(
        [mine.id, taken.id], "replica-a", lease_until=NOW + dt.timedelta(seconds=30)
    )

    assert renewed == 1
    later = NOW + dt.timedelta(seconds=10)  # past the first lease, within the renewed one
    until = later + dt.timedelta(seconds=5)
    assert await store.claim_due("replica-c", now=later, lease_until=until, limit=10) == []
    assert store.get_watch(taken.id).lease_owner == "replica-b"  # type: ignore[union-attr]


async def test_read_trouble_columns_are_written_and_reset_when_watched_again(
    store: SqlWatchStore,
) -> None:
    watch = await store.add_watch(_new(1), now=NOW)
    assert (watch.missing_count, watch.read_error_count, watch.read_error_noted) == (0, 0, False)
    lease = NOW + dt.timedelta(seconds=30)
    await store.claim_due("replica-a", now=NOW, lease_until=lease, limit=1)
    change = WatchUpdate(
        missing_since=NOW,
        missing_count=2,
        read_error_count=3,
        read_error_noted=True,
        finished_at=NOW,
    )
    assert await store.update_fenced(watch.id, "replica-a", change, release=True)
    stored = store.get_watch(watch.id)
    assert stored is not None
    assert (stored.missing_since, stored.missing_count) == (NOW, 2)
    assert (stored.read_error_count, stored.read_error_noted) == (3, True)

    again = await store.add_watch(_new(1))

    assert (again.missing_since, again.missing_count) == (None, 0)
    assert (again.read_error_count, again.read_error_noted) == (0, False)


def test_every_update_field_is_a_column_of_the_watches_table() -> None:
    assert set(UPDATE_FIELDS) <= set(watches.c.keys())


async def test_an_update_writes_only_the_fields_it_sets_and_none_clears_one(
    store: SqlWatchStore,
) -> None:
    watch = await store.add_watch(_new(1), now=NOW)
    lease = NOW + dt.timedelta(seconds=30)
    await store.claim_due("replica-a", now=NOW, lease_until=lease, limit=1)
    first = WatchUpdate(missing_since=NOW, missing_count=2, last_update_time=NOW)
    assert await store.update_fenced(watch.id, "replica-a", first)

    assert await store.update_fenced(watch.id, "replica-a", WatchUpdate(missing_since=None))

    stored = store.get_watch(watch.id)
    assert stored is not None
    assert (stored.missing_since, stored.missing_count) == (None, 2)
    assert (stored.last_update_time, stored.last_state) == (NOW, JobState.PENDING)
    assert stored.lease_owner == "replica-a"  # kept: not asked to release


def _version_2_database(url: str) -> None:
    """A database as release 2 left it: no read-trouble columns yet, one watch in it."""
    row = {
        "job_name": JOB.format(1),
        "job_key": ref(1).key,
        "next_poll_at": NOW,
        "created_at": NOW,
        "message_ts": "1.1",
    }
    old_database(url, 2, [row])


async def test_a_version_2_database_gains_the_read_trouble_columns(store_url: str) -> None:
    _version_2_database(store_url)
    store = SqlWatchStore.open(store_url)

    (watch,) = await store.watches_for_job(ref(1))
    assert (watch.message_ts, watch.missing_count, watch.missing_since) == ("1.1", 0, None)
    assert (watch.read_error_count, watch.read_error_noted) == (0, False)
    store.close()
    # Opening again runs no step twice; running step 3 on its own output changes nothing.
    again = SqlWatchStore.open(store_url)
    from bot.watch.migrations import STEPS

    with again.engine.begin() as conn:
        STEPS[2](conn)
        # Later steps come after it; the database stays at the latest version.
        assert conn.execute(select(schema_version.c.version)).scalar_one() == LATEST
    assert len(again.all_watches()) == 1
    again.close()


async def test_save_many_writes_a_generator_in_chunks_fenced_on_the_lease(
    store: SqlWatchStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.watch.store.SAVE_CHUNK", 2)
    ids = [(await store.add_watch(_new(job), now=NOW)).id for job in range(5)]
    lease = NOW + dt.timedelta(seconds=30)
    claimed = {
        w.id for w in await store.claim_due("replica-a", now=NOW, lease_until=lease, limit=4)
    }
    (unclaimed,) = set(ids) - claimed
    due = NOW + dt.timedelta(minutes=1)

    rows = ((i, WatchUpdate(last_state=JobState.RUNNING, next_poll_at=due)) for i in ids)
    assert await store.save_many("replica-a", rows) == 4  # three chunks, one transaction

    saved = {w.id: w for w in store.all_watches()}
    for i in claimed:
        assert (saved[i].last_state, saved[i].next_poll_at, saved[i].lease_owner) == (
            JobState.RUNNING,
            due,
            None,
        )
    assert saved[unclaimed].last_state is JobState.PENDING  # fenced: not ours
    assert await store.save_many("replica-a", iter(())) == 0


async def test_claimed_watches_share_equal_values(store: SqlWatchStore) -> None:
    for job in range(3):
        await store.add_watch(_new(job), now=NOW)
    lease = NOW + dt.timedelta(seconds=30)
    claimed = await store.claim_due("replica-a", now=NOW, lease_until=lease, limit=10)
    assert len(claimed) == 3
    # 10,000 watches would otherwise hold 10,000 copies of each.
    for field in ("project", "region", "channel_id", "lease_owner", "lease_until", "created_at"):
        assert len({id(getattr(w, field)) for w in claimed}) == 1, field
    assert len({w.job_name for w in claimed}) == 3
