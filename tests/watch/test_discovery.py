"""Discovery in the poll cycle: jobs started anywhere (here: straight through the emulated
Vertex API) reach every subscribed channel once, as the channel's filters and settings say,
sharing the watcher's reads of the location."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.notifier import SlackNotifier
from bot.tuning.refs import Location
from bot.tuning.states import JobState
from bot.tuning.subscriptions import ChannelSettings, parse_subscription
from bot.watch.poller import Poller, run_poll_cycle
from bot.watch.store import SqlWatchStore
from bot.watch.subscription_store import SqlSubscriptionStore
from tests.watch.conftest import PROJECT, REGION, Rig, thread_replies

HERE = Location(PROJECT, REGION)
TEAM = "C0TEAM001"
OTHER = "C0TEAM002"


@pytest.fixture
def subs(rig: Rig) -> SqlSubscriptionStore:
    store = SqlSubscriptionStore(rig.store)
    rig.subscriptions = store
    return store


async def _subscribe(
    rig: Rig, subs: SqlSubscriptionStore, channel: str = TEAM, *words: str
) -> None:
    # On the real clock, which the emulator stamps its jobs' creation with.
    now = dt.datetime.now(dt.UTC)
    await subs.subscribe(channel, parse_subscription(list(words), HERE), "U0SUBBER1", now=now)


def _cards(rig: Rig, channel: str | None = None) -> list[dict[str, Any]]:
    """First cards: posts without ending metadata and outside any thread."""
    return [
        c.args
        for c in rig.slack.calls_to("chat.postMessage")
        if not c.args.get("metadata")
        and not c.args.get("thread_ts")
        and (channel is None or c.args.get("channel") == channel)
        and "subscription" not in str(c.args.get("text", ""))
    ]


def _endings(rig: Rig, channel: str | None = None) -> list[dict[str, Any]]:
    return [e for e in thread_replies(rig.slack) if channel is None or e.get("channel") == channel]


async def test_a_job_started_outside_slack_gets_a_card_in_the_cycle_that_finds_it(
    rig: Rig, subs: SqlSubscriptionStore
) -> None:
    await _subscribe(rig, subs)
    job = rig.add_job(JobState.RUNNING, display_name="from-a-notebook")
    report = await rig.cycle()
    (card,) = _cards(rig, TEAM)
    assert "from-a-notebook" in str(card["blocks"])
    assert report.discovered == 1
    assert report.vertex_calls["list"] == 1  # discovery's one page; no get for the new job
    assert report.vertex_calls["get"] == 0
    # It is followed from then on, and its ending comes once.
    rig.emulator.set_state(job, JobState.SUCCEEDED.value)
    await rig.cycle()
    await rig.cycle()
    assert len(_endings(rig, TEAM)) == 1
    assert len(_cards(rig, TEAM)) == 1


@pytest.mark.parametrize(
    ("words", "labels", "name", "model", "taken"),
    [
        (["label:team=nlp"], {"team": "nlp"}, "x", "gemini-2.5-flash", True),
        (["label:team=nlp"], {"team": "vision"}, "x", "gemini-2.5-flash", False),
        (["name:support-*"], {}, "support-v3", "gemini-2.5-flash", True),
        (["name:support-*"], {}, "billing-v1", "gemini-2.5-flash", False),
        (["model:gemini-2.5-pro"], {}, "x", "gemini-2.5-pro", True),
        (["model:gemini-2.5-pro"], {}, "x", "gemini-2.5-flash", False),
        (
            ["label:team=nlp", "name:support-*"],
            {"team": "nlp"},
            "billing",
            "gemini-2.5-flash",
            False,
        ),
    ],
)
async def test_filters_include_and_exclude_as_written(
    rig: Rig,
    subs: SqlSubscriptionStore,
    words: list[str],
    labels: dict[str, str],
    name: str,
    model: str,
    taken: bool,
) -> None:
    await _subscribe(rig, subs, TEAM, *words)
    rig.add_job(JobState.RUNNING, display_name=name, labels=labels, base_model=model)
    await rig.cycle()
    assert len(_cards(rig, TEAM)) == (1 if taken else 0)


async def test_two_channels_each_get_one_card_and_one_ending(
    rig: Rig, subs: SqlSubscriptionStore
) -> None:
    await _subscribe(rig, subs, TEAM)
    await _subscribe(rig, subs, OTHER)
    job = rig.add_job(JobState.RUNNING)
    await rig.cycle()
    rig.emulator.set_state(job, JobState.FAILED.value, error_message="bad data")
    for _ in range(3):
        await rig.cycle()
    assert len(_cards(rig, TEAM)) == 1
    assert len(_cards(rig, OTHER)) == 1
    assert len(_endings(rig, TEAM)) == 1
    assert len(_endings(rig, OTHER)) == 1
    # Nobody in Slack started it: the failure mentions no one.
    assert "<@" not in _endings(rig, TEAM)[0]["text"]


async def test_unsubscribing_stops_it(rig: Rig, subs: SqlSubscriptionStore) -> None:
    await _subscribe(rig, subs)
    await subs.unsubscribe(TEAM, HERE)
    rig.add_job(JobState.RUNNING)
    await rig.cycle()
    assert _cards(rig) == []


async def test_jobs_from_before_the_subscription_are_not_found_again(
    rig: Rig, subs: SqlSubscriptionStore
) -> None:
    rig.add_job(JobState.RUNNING)
    await subs.subscribe(
        TEAM,
        parse_subscription([], HERE),
        "U0SUBBER1",
        now=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1),
    )
    await rig.cycle()
    assert _cards(rig) == []


async def test_a_job_started_from_the_bot_here_is_not_announced_twice(
    rig: Rig, subs: SqlSubscriptionStore
) -> None:
    await _subscribe(rig, subs)
    job = rig.add_job(JobState.RUNNING)
    rig.watch(job, TEAM)  # the bot created it from this channel and posted its card
    await rig.cycle()
    assert _cards(rig, TEAM) == []  # the existing card is edited, no second one
    rig.emulator.set_state(job, JobState.SUCCEEDED.value)
    await rig.cycle()
    await rig.cycle()
    assert len(_endings(rig, TEAM)) == 1


async def test_events_ended_gives_no_card_and_an_ending_of_its_own(
    rig: Rig, subs: SqlSubscriptionStore
) -> None:
    await _subscribe(rig, subs, TEAM, "events:ended")
    job = rig.add_job(JobState.RUNNING)
    await rig.cycle()
    assert _cards(rig) == []
    rig.emulator.set_state(job, JobState.SUCCEEDED.value)
    await rig.cycle()
    (ending,) = _endings(rig, TEAM)
    assert "thread_ts" not in ending
    assert not ending.get("reply_broadcast")


async def test_events_failed_announces_failures_only(rig: Rig, subs: SqlSubscriptionStore) -> None:
    await _subscribe(rig, subs, TEAM, "events:failed")
    good = rig.add_job(JobState.RUNNING, display_name="good")
    bad = rig.add_job(JobState.RUNNING, display_name="bad")
    await rig.cycle()
    rig.emulator.set_state(good, JobState.SUCCEEDED.value)
    rig.emulator.set_state(bad, JobState.FAILED.value, error_message="quota")
    await rig.cycle()
    await rig.cycle()
    endings = _endings(rig, TEAM)
    assert [e["metadata"]["event_payload"]["job"] for e in endings] == [bad]


async def test_settings_change_where_and_how_endings_appear(
    rig: Rig, subs: SqlSubscriptionStore
) -> None:
    await subs.save_settings(
        TEAM,
        ChannelSettings(thread_endings=False, broadcast_success=False, mention_on_failure=False),
        "U0ADMIN01",
        now=rig.now,
    )
    job = rig.add_job(JobState.RUNNING)
    rig.watch(job, TEAM, started_by="U0ALICE01")
    failed = rig.add_job(JobState.RUNNING)
    rig.watch(failed, TEAM, started_by="U0ALICE01", message_ts="1700000000.000002")
    rig.emulator.set_state(job, JobState.SUCCEEDED.value)
    rig.emulator.set_state(failed, JobState.FAILED.value, error_message="x")
    await rig.cycle()
    by_job = {e["metadata"]["event_payload"]["job"]: e for e in _endings(rig, TEAM)}
    assert "thread_ts" not in by_job[job]  # top-level, as the channel asked
    assert not by_job[job].get("reply_broadcast")
    assert "U0ALICE01" not in by_job[failed]["text"]


async def test_status_cards_off_means_endings_only(rig: Rig, subs: SqlSubscriptionStore) -> None:
    await subs.save_settings(TEAM, ChannelSettings(cards=False), "U0ADMIN01", now=rig.now)
    await _subscribe(rig, subs)
    job = rig.add_job(JobState.RUNNING)
    await rig.cycle()
    assert _cards(rig) == []
    rig.emulator.set_state(job, JobState.SUCCEEDED.value)
    await rig.cycle()
    assert len(_endings(rig, TEAM)) == 1


async def test_a_location_that_cannot_be_read_is_told_once(
    rig: Rig, subs: SqlSubscriptionStore
) -> None:
    await _subscribe(rig, subs)
    rig.emulator.inject("list", 403, times=3)
    for _ in range(3):
        await rig.cycle()
    notes = [
        c.args
        for c in rig.slack.calls_to("chat.postMessage")
        if "roles/aiplatform.viewer" in str(c.args.get("text", ""))
    ]
    assert len(notes) == 1
    assert notes[0]["channel"] == TEAM
    (sub,) = await subs.subscriptions(TEAM)
    assert sub.access_error is not None
    reads = await subs.location_reads([HERE])
    assert reads[HERE].error is not None
    # Readable again: the trouble is cleared and new jobs are found.
    rig.add_job(JobState.RUNNING)
    await rig.cycle()
    (sub,) = await subs.subscriptions(TEAM)
    assert sub.access_error is None
    assert len(_cards(rig, TEAM)) == 1


async def test_discovery_shares_the_watchers_listing_of_the_location(
    rig: Rig, subs: SqlSubscriptionStore
) -> None:
    for i in range(3):
        rig.watch(rig.add_job(JobState.RUNNING, display_name=f"w{i}"), TEAM)
    await _subscribe(rig, subs, OTHER)
    # The first cycle learns that Google names the subscribed project by its number.
    await rig.cycle()
    rig.add_job(JobState.RUNNING, display_name="new")
    report = await rig.cycle()
    assert report.vertex_calls["list"] == 1  # one page served both
    assert len(_cards(rig, OTHER)) == 1


@pytest.mark.postgres
async def test_replicas_on_postgresql_do_not_duplicate(rig: Rig, postgres_url: str) -> None:
    stores = [SqlWatchStore.open(postgres_url) for _ in range(2)]
    try:
        subs = SqlSubscriptionStore(stores[0])
        await subs.subscribe(TEAM, parse_subscription([], HERE), "U0SUBBER1", now=rig.now)
        await subs.subscribe(OTHER, parse_subscription([], HERE), "U0SUBBER1", now=rig.now)
        job = rig.add_job(JobState.RUNNING)
        slack = AsyncWebClient(
            token=rig.slack.bot_token, base_url=rig.slack.base_url, retry_handlers=[]
        )
        pollers = [
            Poller(
                store,
                rig.client,
                SlackNotifier(slack),
                rig.budget,
                f"replica-{i}",
                rig.config,
                subscriptions=SqlSubscriptionStore(store),
            )
            for i, store in enumerate(stores)
        ]
        now = rig.now + dt.timedelta(seconds=60)
        await asyncio.gather(*(run_poll_cycle(p, now=now) for p in pollers))
        rig.emulator.set_state(job, JobState.SUCCEEDED.value)
        for step in range(1, 4):
            later = now + dt.timedelta(seconds=60 * step)
            await asyncio.gather(*(run_poll_cycle(p, now=later) for p in pollers))
        assert len(_cards(rig, TEAM)) == 1
        assert len(_cards(rig, OTHER)) == 1
        assert len(_endings(rig, TEAM)) == 1
        assert len(_endings(rig, OTHER)) == 1
    finally:
        for store in stores:
            store.close()
