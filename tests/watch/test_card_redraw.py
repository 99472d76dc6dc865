"""Google's data statistics arrive a while into RUNNING, after the state change that last redrew
the card: their arrival redraws it once, and never again, across cycles, restarts and replicas."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select

from bot.tuning.states import JobState
from bot.watch.bookkeeping import PollerMemory
from bot.watch.migrations import LATEST, STEPS
from bot.watch.model import NewWatch, WatchKind, WatchUpdate
from bot.watch.store import SqlWatchStore
from bot.watch.tables import schema_version, watches
from tests.fakes.watch_store import old_database
from tests.watch.conftest import PROJECT, REGION, Rig

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def _examples(rig: Rig, name: str) -> str:
    """The example count the emulator reports for the job, as the card prints it."""
    job = next(j for j in rig.emulator.jobs() if j["name"] == name)
    count = int(job["tuningDataStats"]["supervisedTuningDataStats"]["tuningDatasetExampleCount"])
    return f"{count:,}"


def _updates(rig: Rig, ts: str | None = None) -> list[dict[str, Any]]:
    calls = [c.args for c in rig.slack.calls_to("chat.update")]
    return [c for c in calls if ts is None or c["ts"] == ts]


def _fields(update: dict[str, Any]) -> list[str]:
    return [f["text"] for b in update["blocks"] for f in b.get("fields", [])]


async def test_statistics_arriving_while_running_redraw_the_card_once(
    rig: Rig, sqlite_url: str
) -> None:
    name = rig.add_job(JobState.RUNNING, display_name="support-bot v3")
    rig.emulator.withhold_stats(name)
    rig.watch(name)

    await rig.cycle()
    assert _updates(rig) == []  # still RUNNING, nothing new to show

    rig.emulator.withhold_stats(name, False)
    await rig.cycle()
    [update] = _updates(rig)
    data = [f for f in _fields(update) if f.startswith("*Data*")]
    assert len(data) == 1
    assert f"{_examples(rig, name)} examples" in data[0]
    assert "billable tokens" in data[0]

    for _ in range(3):
        await rig.cycle()
    assert len(_updates(rig)) == 1

    # A restart: a new process with its own memory, on the same database.
    rig.store.close()
    rig.store = SqlWatchStore.open(sqlite_url)
    rig.memory = PollerMemory()
    for _ in range(3):
        await rig.cycle()
    assert len(_updates(rig)) == 1
    # Another replica sharing the database does not redraw it either.
    rig.owner = "replica-b"
    for _ in range(2):
        await rig.cycle()
    assert len(_updates(rig)) == 1


async def test_the_arrival_is_seen_when_the_location_is_listed_and_redraws_only_that_card(
    rig: Rig,
) -> None:
    # Several jobs in one location are read with one `list`, whose answers for jobs in the
    # state their cards show are otherwise dropped early.
    counted = rig.add_job(JobState.RUNNING)
    waiting = rig.add_job(JobState.RUNNING)
    for name in (counted, waiting):
        rig.emulator.withhold_stats(name)
    rig.watch(counted, message_ts="1700000000.000001")
    rig.watch(waiting, message_ts="1700000000.000002")
    rig.watch(counted, "C0TEAM002", message_ts="1700000000.000003")

    await rig.cycle()
    assert _updates(rig) == []

    rig.emulator.withhold_stats(counted, False)
    report = await rig.cycle()
    assert report.vertex_calls["get"] == 0
    # Both channels that follow the counted job see its figures, each once.
    assert sorted(u["ts"] for u in _updates(rig)) == ["1700000000.000001", "1700000000.000003"]
    for update in _updates(rig):
        assert any(f"{_examples(rig, counted)} examples" in f for f in _fields(update))

    await rig.cycle()
    await rig.cycle()
    assert len(_updates(rig)) == 2
    assert _updates(rig, "1700000000.000002") == []


async def test_a_card_posted_with_the_statistics_is_not_redrawn_for_them(rig: Rig) -> None:
    name = rig.add_job(JobState.RUNNING)
    rig.watch(name)  # the card went out when Google had already counted the dataset

    for _ in range(3):
        await rig.cycle()

    assert _updates(rig) == []


async def test_the_redraw_replaces_the_estimate_in_the_cards_language(rig: Rig) -> None:
    name = rig.add_job(JobState.RUNNING)
    rig.emulator.withhold_stats(name)
    watch = rig.watch(name, language="ja")
    # The pre-flight estimate the card kept from its creation.
    with rig.store.engine.begin() as conn:
        conn.execute(
            watches.update()
            .where(watches.c.id == watch.id)
            .values(card_note="120 件の例、約 3,400 トークン")
        )
    rig.emulator.withhold_stats(name, False)

    await rig.cycle()

    [update] = _updates(rig)
    text = json.dumps(update["blocks"], ensure_ascii=False)
    assert f"*データ*\\n{_examples(rig, name)} 件の例" in text
    assert "事前チェックの見積もり" not in text
    assert "120 件の例" not in text


# -- the stored flag ------------------------------------------------------------------------


JOB = f"projects/{PROJECT}/locations/{REGION}/tuningJobs/1"


def _new(message_ts: str | None, *, card_stats: bool) -> NewWatch:
    return NewWatch(
        job_name=JOB,
        channel_id="C0TEAM001",
        started_by="U0STARTER",
        kind=WatchKind.CREATED,
        state=JobState.RUNNING,
        message_ts=message_ts,
        card_stats=card_stats,
    )


async def test_the_flag_is_stored_and_follows_the_card(store_url: str) -> None:
    store = SqlWatchStore.open(store_url)
    watch = await store.add_watch(_new("1.1", card_stats=False), now=NOW)
    assert watch.card_stats is False

    lease = NOW + dt.timedelta(minutes=1)
    claimed = await store.claim_due("a", now=NOW, lease_until=lease, limit=10)
    assert [w.id for w in claimed] == [watch.id]
    assert await store.update_fenced(watch.id, "a", WatchUpdate(card_stats=True))
    (stored,) = await store.watches_for_job(watch.ref)
    assert stored.card_stats is True

    # Watching again without a new card keeps what the card shows...
    kept = await store.add_watch(_new(None, card_stats=False), now=NOW)
    assert kept.card_stats is True
    # ...and a newly posted card brings its own.
    fresh = await store.add_watch(_new("2.2", card_stats=False), now=NOW)
    assert (fresh.message_ts, fresh.card_stats) == ("2.2", False)
    store.close()


def _version_3_database(url: str) -> None:
    """A database as release 3 left it: no `card_stats` yet, one live card in it."""
    row = {
        "job_name": JOB,
        "job_key": f"{REGION}/1",
        "project": PROJECT,
        "region": REGION,
        "message_ts": "1.1",
        "card_state": "JOB_STATE_RUNNING",
        "next_poll_at": NOW,
        "created_at": NOW,
    }
    old_database(url, 3, [row])


async def test_a_version_3_database_gains_the_flag_and_redraws_live_cards_once(
    store_url: str,
) -> None:
    _version_3_database(store_url)
    store = SqlWatchStore.open(store_url)

    (watch,) = store.all_watches()
    # The card was drawn before the bot remembered this: it is redrawn once, when the job
    # has statistics, in the current layout.
    assert (watch.message_ts, watch.card_state, watch.card_stats) == (
        "1.1",
        JobState.RUNNING,
        False,
    )
    store.close()
    # Opening again runs no step twice; the step run on its own output changes nothing.
    again = SqlWatchStore.open(store_url)
    step = next(s for s in STEPS if s.__name__.endswith("_card_stats"))
    with again.engine.begin() as conn:
        step(conn)
        assert conn.execute(select(schema_version.c.version)).scalar_one() == LATEST
    assert len(again.all_watches()) == 1
    again.close()
