"""Slack's 429 on `chat.postMessage`, with the real watcher on its real clock in the HTTP app.

The poller-level rules (Retry-After per channel, on a fake clock) are pinned down in
tests/watch/test_poller.py; the `/tune watch` post waited out by the Web API client is in
tests/slack/test_http_surface.py. Here the whole app announces endings and posts status cards
through a 429, and another channel's post goes out while the limited one waits.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from bot.tuning.states import JobState
from bot.watch.model import NewWatch, WatchKind
from tests.fakes.slack_api import SlackCall
from tests.fakes.watch_store import seed_watch
from tests.slack.conftest import CHANNEL, PROJECT, REGION, BotUnderTest
from tests.slack.test_create_modal import submission

BUSY = "C0BUSY0001"
CALM = "C0CALM0001"
RETRY_AFTER = 2


@pytest.fixture
def run_watcher() -> bool:
    return True


@pytest.fixture
def env_extra() -> dict[str, str]:
    return {"POLL_INTERVAL_SECONDS": "0.2"}


def _wait(predicate: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def _endings(bot: BotUnderTest) -> list[SlackCall]:
    return [c for c in bot.slack.calls_to("chat.postMessage") if c.args.get("thread_ts")]


def _watch(bot: BotUnderTest, channel: str, ts: str) -> str:
    name = bot.emulator.add_job(PROJECT, REGION, state="JOB_STATE_RUNNING")
    seed_watch(
        bot.store, NewWatch(name, channel, "U0ALICE01", WatchKind.CREATED, JobState.RUNNING, ts)
    )
    return name


def test_an_ending_refused_with_429_is_posted_after_retry_after_without_holding_up_others(
    bot: BotUnderTest,
) -> None:
    jobs = [_watch(bot, BUSY, "1700000001.000100"), _watch(bot, CALM, "1700000002.000100")]
    bot.slack.rate_limit("chat.postMessage", retry_after=RETRY_AFTER, times=1)
    for name in jobs:
        bot.emulator.set_state(name, "JOB_STATE_SUCCEEDED")

    _wait(
        lambda: all(w.announced_at is not None for w in bot.store.all_watches()),
        "both endings announced",
    )
    endings = _endings(bot)
    # Whichever channel was asked first got the 429; it is asked again, once, later.
    limited = endings[0].args["channel"]
    other = CALM if limited == BUSY else BUSY
    order = [c.args["channel"] for c in endings]
    assert order == [limited, other, limited]
    # Slack asked for RETRY_AFTER seconds of quiet in that channel: a lower bound on the bot's
    # own waiting, which a slow machine can only make longer.
    assert endings[2].at - endings[0].at >= RETRY_AFTER * 0.9
    retry, delivered = endings[0], endings[2]
    assert retry.args["thread_ts"] == delivered.args["thread_ts"]
    assert retry.args["text"] == delivered.args["text"]
    assert all(w.end_reason == "announced" for w in bot.store.all_watches())


def test_a_status_card_refused_with_429_does_not_hold_up_a_post_in_another_channel(
    bot: BotUnderTest,
) -> None:
    bot.slack.rate_limit("chat.postMessage", retry_after=RETRY_AFTER, times=1)
    bot.interact(submission(view_id="V0LIMIT01"))  # its status card goes to CHANNEL first
    bot.slack.wait_for("chat.postMessage", 1)
    other = bot.emulator.add_job(PROJECT, REGION, state="JOB_STATE_RUNNING")
    bot.command(f"watch {other}", channel=CALM)
    cards = bot.slack.wait_for("chat.postMessage", 3, timeout=20)
    assert [c.args["channel"] for c in cards] == [CHANNEL, CALM, CHANNEL]
    assert cards[2].at - cards[0].at >= RETRY_AFTER * 0.9  # Retry-After honoured (lower bound)
    _wait(lambda: len(bot.store.all_watches()) == 2, "both cards remembered")
    assert all(w.message_ts for w in bot.store.all_watches())
    assert bot.emulator.counts["create"] == 1  # Slack's 429 never repeats Google's create
