"""The whole bot with its watcher: a channel subscribes with a signed `/tune subscribe`, a job
is then created straight through the emulated Vertex API (never through Slack), and its card
reaches the channel within one poll interval + 1 s; its ending follows once."""

from __future__ import annotations

import time

import pytest

from tests.slack.conftest import CHANNEL, PROJECT, REGION, BotUnderTest

INTERVAL = 0.5


@pytest.fixture
def run_watcher() -> bool:
    return True


@pytest.fixture
def env_extra() -> dict[str, str]:
    return {"POLL_INTERVAL_SECONDS": str(INTERVAL)}


def _posts_naming(bot: BotUnderTest, job_id: str) -> list[dict[str, object]]:
    return [
        c.args
        for c in bot.slack.calls_to("chat.postMessage")
        if c.args.get("channel") == CHANNEL and job_id in str(c.args.get("blocks"))
    ]


def test_a_job_started_outside_slack_reaches_the_subscribed_channel(bot: BotUnderTest) -> None:
    bot.command("subscribe label:team=nlp")
    assert "label:team=nlp" in str(bot.replies("r1")[0])
    time.sleep(INTERVAL)  # a cycle after the subscription, so the job is new to it
    name = bot.emulator.add_job(
        PROJECT, REGION, display_name="from-ci", state="JOB_STATE_RUNNING", labels={"team": "nlp"}
    )
    other = bot.emulator.add_job(
        PROJECT, REGION, display_name="not-ours", state="JOB_STATE_RUNNING", labels={"team": "x"}
    )
    created = time.monotonic()
    job_id = name.rsplit("/", 1)[-1]
    while not _posts_naming(bot, job_id):
        assert time.monotonic() - created < INTERVAL + 1.0, "no card within interval + 1 s"
        time.sleep(0.02)
    bot.emulator.set_state(name, "JOB_STATE_SUCCEEDED")
    deadline = time.monotonic() + 10
    while len(_posts_naming(bot, job_id)) < 2:
        assert time.monotonic() < deadline, "no ending"
        time.sleep(0.05)
    time.sleep(INTERVAL * 3)
    posts = _posts_naming(bot, job_id)
    assert len(posts) == 2  # one card, one ending
    assert _posts_naming(bot, other.rsplit("/", 1)[-1]) == []  # filtered out
