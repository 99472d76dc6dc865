"""The subscription store on SQLite and PostgreSQL: subscriptions replaced, not doubled;
discovered jobs adopted once per channel, also by replicas at the same moment; settings,
discovery's reads and delivery errors kept as `/tune debug` shows them."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import inspect

from bot.tuning.refs import JobRef, Location
from bot.tuning.states import JobState
from bot.tuning.subscriptions import (
    DEFAULT_SETTINGS,
    ChannelSettings,
    Events,
    LocationRead,
    Subscription,
    parse_subscription,
)
from bot.watch.migrations import LATEST
from bot.watch.model import NewWatch, WatchKind
from bot.watch.store import SqlWatchStore
from bot.watch.subscription_store import KEPT_ERRORS, SqlSubscriptionStore
from tests.fakes.watch_store import old_database, seed_watch

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
HERE = Location("team-tuning", "us-central1")
JOB = "projects/123456789012/locations/us-central1/tuningJobs/4411"


def _found(sub_id: int, channel: str = "C0TEAM001", job: str = JOB) -> NewWatch:
    return NewWatch(
        job,
        channel,
        "U0SUBBER1",
        WatchKind.SUBSCRIBED,
        JobState.RUNNING,
        subscription_id=sub_id,
        events=Events.ALL.value,
    )


async def _subscribed(subs: SqlSubscriptionStore) -> Subscription:
    made = await subs.subscribe("C0TEAM001", parse_subscription([], HERE), "U0A", now=T0)
    return made.subscription


@pytest.fixture
def subs(store: SqlWatchStore) -> SqlSubscriptionStore:
    return SqlSubscriptionStore(store)


async def test_subscribing_again_replaces_the_filters_and_keeps_the_place_in_time(
    subs: SqlSubscriptionStore,
) -> None:
    first = await subs.subscribe(
        "C0TEAM001", parse_subscription(["label:team=nlp"], HERE), "U0ALICE01", now=T0
    )
    assert first.created
    later = T0 + dt.timedelta(hours=1)
    again = await subs.subscribe(
        "C0TEAM001",
        parse_subscription(["model:gemini-2.5-flash", "events:failed"], HERE),
        "U0BOB0001",
        now=later,
    )
    assert not again.created
    assert again.subscription.id == first.subscription.id
    assert again.subscription.spec.filter.words() == ["model:gemini-2.5-flash"]
    assert again.subscription.spec.events is Events.FAILED
    assert again.subscription.seen_until == T0  # jobs since then are still new to it
    assert again.subscription.created_by == "U0ALICE01"
    other = await subs.subscribe(
        "C0TEAM001", parse_subscription(["team-tuning/europe-west4"], HERE), "U0ALICE01", now=T0
    )
    assert other.created
    assert len(await subs.subscriptions("C0TEAM001")) == 2
    assert await subs.subscriptions("C0OTHER01") == []


async def test_unsubscribing_removes_only_that_location(subs: SqlSubscriptionStore) -> None:
    await subs.subscribe("C0TEAM001", parse_subscription([], HERE), "U0ALICE01", now=T0)
    assert await subs.unsubscribe("C0TEAM001", Location("team-tuning", "europe-west4")) is None
    removed = await subs.unsubscribe("C0TEAM001", HERE)
    assert removed is not None
    assert removed.location == HERE
    assert await subs.unsubscribe("C0TEAM001", HERE) is None


async def test_a_discovered_job_becomes_one_watch_per_channel(
    subs: SqlSubscriptionStore, store: SqlWatchStore
) -> None:
    made = await subs.subscribe("C0TEAM001", parse_subscription([], HERE), "U0ALICE01", now=T0)
    sub = made.subscription
    until = T0 + dt.timedelta(minutes=5)
    watches = await subs.adopt_discovered([(sub, _found(sub.id))], {sub.id: until}, now=until)
    assert [w.kind for w in watches] == [WatchKind.SUBSCRIBED]
    assert watches[0].subscription_id == sub.id
    assert watches[0].message_ts is None
    # Found again (another replica, a repeated listing): not made twice.
    assert await subs.adopt_discovered([(sub, _found(sub.id))], {}, now=until) == []
    (stored,) = await subs.subscriptions("C0TEAM001")
    assert stored.seen_until == until
    # `seen_until` never moves back.
    await subs.adopt_discovered([], {sub.id: T0}, now=until)
    assert (await subs.subscriptions("C0TEAM001"))[0].seen_until == until


async def test_a_job_started_from_the_bot_in_the_channel_keeps_its_own_watch(
    subs: SqlSubscriptionStore, store: SqlWatchStore
) -> None:
    seed_watch(
        store,
        NewWatch(JOB, "C0TEAM001", "U0ALICE01", WatchKind.CREATED, JobState.RUNNING, "1.0001"),
    )
    sub = (
        await subs.subscribe("C0TEAM001", parse_subscription([], HERE), "U0A", now=T0)
    ).subscription
    assert await subs.adopt_discovered([(sub, _found(sub.id))], {}, now=T0) == []
    (watch,) = await store.watches_for_job(JobRef.from_name(JOB))
    assert watch.kind is WatchKind.CREATED
    assert watch.message_ts == "1.0001"


async def test_two_replicas_adopting_the_same_job_at_once_make_one_watch(
    subs: SqlSubscriptionStore, store_url: str
) -> None:
    sub = (
        await subs.subscribe("C0TEAM001", parse_subscription([], HERE), "U0A", now=T0)
    ).subscription
    others = [SqlSubscriptionStore(SqlWatchStore.open(store_url)) for _ in range(2)]
    made: list[int] = []
    start = threading.Barrier(2)

    def adopt(replica: SqlSubscriptionStore) -> None:
        start.wait()
        made.append(len(replica._adopt([(sub, _found(sub.id))], {sub.id: T0}, T0)))

    threads = [threading.Thread(target=adopt, args=(r,)) for r in others]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(made) == [0, 1]
    for replica in others:
        replica.watch_store.close()


async def test_settings_default_until_saved_and_follow_the_last_save(
    subs: SqlSubscriptionStore,
) -> None:
    assert await subs.settings(["C0TEAM001"]) == {"C0TEAM001": DEFAULT_SETTINGS}
    quiet = ChannelSettings(thread_endings=False, broadcast_success=False, cards=False)
    await subs.save_settings("C0TEAM001", quiet, "U0ALICE01", now=T0)
    found = await subs.settings(["C0TEAM001", "C0OTHER01"])
    assert found == {"C0TEAM001": quiet, "C0OTHER01": DEFAULT_SETTINGS}
    await subs.save_settings("C0TEAM001", DEFAULT_SETTINGS, "U0BOB0001", now=T0)
    assert (await subs.settings(["C0TEAM001"]))["C0TEAM001"] == DEFAULT_SETTINGS


async def test_delivery_errors_keep_the_latest_newest_first(subs: SqlSubscriptionStore) -> None:
    for i in range(KEPT_ERRORS + 5):
        await subs.record_delivery_error(
            "C0TEAM001", f"error_{i}", job_name=None, at=T0 + dt.timedelta(seconds=i)
        )
    await subs.record_delivery_error("C0OTHER01", "not_in_channel", job_name=JOB, at=T0)
    latest = await subs.delivery_errors("C0TEAM001", limit=100)
    assert len(latest) == KEPT_ERRORS
    assert latest[0].error == f"error_{KEPT_ERRORS + 4}"
    (other,) = await subs.delivery_errors("C0OTHER01")
    assert other.job_name == JOB


async def test_discoverys_reads_are_recorded_per_location(subs: SqlSubscriptionStore) -> None:
    await subs.record_location_read(HERE, at=T0, calls=1, error=None)
    await subs.record_location_read(HERE, at=T0 + dt.timedelta(minutes=1), calls=2, error="403")
    found = await subs.location_reads([HERE, Location("p-other", "us-east1")])
    assert found == {HERE: LocationRead(T0 + dt.timedelta(minutes=1), 2, "403")}


async def test_access_trouble_is_noted_on_the_subscription(subs: SqlSubscriptionStore) -> None:
    sub = (
        await subs.subscribe("C0TEAM001", parse_subscription([], HERE), "U0A", now=T0)
    ).subscription
    await subs.note_access([sub.id], error="PERMISSION_DENIED: no", noted=True)
    (stored,) = await subs.subscriptions("C0TEAM001")
    assert stored.access_error == "PERMISSION_DENIED: no"
    assert stored.access_noted
    await subs.note_access([sub.id], error=None, noted=False)
    assert (await subs.subscriptions("C0TEAM001"))[0].access_error is None


def test_a_release_6_database_gains_the_subscription_tables(sqlite_url: str) -> None:
    old_database(
        sqlite_url, 6, [{"job_name": JOB, "job_key": "us-central1/4411", "card_stats": False}]
    )
    opened = SqlWatchStore.open(sqlite_url)
    try:
        tables = set(inspect(opened.engine).get_table_names())
        assert {"subscriptions", "channel_settings", "location_reads", "delivery_errors"} <= tables
        (watch,) = opened.all_watches()
        assert watch.subscription_id is None
        assert watch.events is None
        assert LATEST == 7
    finally:
        opened.close()
