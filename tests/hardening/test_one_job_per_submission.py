"""However often Slack delivers a submission, and whatever happens to Google's answer, one job.

Already covered elsewhere: the same view submitted twice while the first create is in flight
(tests/slack/test_create_modal.py), and a create whose answer is lost or times out at the client
and `submit_job` level (tests/vertex/test_create_once.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.fakes.slack_signing import interaction_body, sign
from tests.slack.conftest import CHANNEL, SECRET, BotUnderTest
from tests.slack.test_create_modal import submission


def _wait(predicate: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


def _settled(bot: BotUnderTest) -> None:
    """Wait until the job's status card is posted and the job is remembered."""
    bot.slack.wait_for("chat.postMessage")
    _wait(lambda: len(bot.store.all_watches()) >= 1, "the job was not remembered")


def _wait_for_log(
    caplog: pytest.LogCaptureFixture, check: Callable[[dict[str, Any]], bool]
) -> None:
    """The bot logs each request it recognised as a repeat; wait for that line."""
    _wait(
        lambda: any(check({"event": r.getMessage(), **vars(r)}) for r in caplog.records),
        "the repeat was not recognised",
    )


def _repeat_of_a_submission(entry: dict[str, Any]) -> bool:
    return (
        entry["event"] == "command"
        and entry.get("command") == "modal.create"
        and (entry.get("outcome") == "repeat")
    )


def test_a_submission_redelivered_with_slacks_retry_headers_makes_one_job(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    held = bot.emulator.hold("create")
    body = interaction_body({"trigger_id": "trigger.retry", **submission(view_id="V0RETRY01")})
    first = bot.post(body)
    retry_headers = {
        **sign(SECRET, body),
        "X-Slack-Retry-Num": "1",
        "X-Slack-Retry-Reason": "http_timeout",
    }
    second = bot.post(body, headers=retry_headers)
    held.set()
    assert first.status_code == 200
    assert first.json()["response_action"] == "update"
    assert second.status_code == 200
    assert "Traceback" not in second.text
    _wait_for_log(
        caplog,
        lambda e: e["event"] == "repeated delivery ignored" or _repeat_of_a_submission(e),
    )
    _settled(bot)
    assert bot.emulator.counts["create"] == 1
    assert len(bot.emulator.jobs()) == 1
    assert len(bot.slack.calls_to("chat.postMessage")) == 1


def test_submit_pressed_again_after_the_job_was_created_makes_no_second_job(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    bot.interact(submission(view_id="V0AGAIN01"))
    _settled(bot)
    again = bot.interact(submission(view_id="V0AGAIN01"))
    assert again.status_code == 200
    _wait_for_log(caplog, _repeat_of_a_submission)
    assert bot.emulator.counts["create"] == 1
    assert len(bot.emulator.jobs()) == 1
    assert len(bot.slack.calls_to("chat.postMessage")) == 1


def test_a_create_whose_answer_is_lost_is_not_repeated(bot: BotUnderTest) -> None:
    # Google created the job, then the answer was lost (a 503 after the commit): the bot finds
    # the job by its submission label instead of creating it again.
    bot.emulator.inject("create", 503, after_commit=True)
    bot.interact(submission(view_id="V0LOST001"))
    _settled(bot)
    assert bot.emulator.counts["create"] == 1
    (job,) = bot.emulator.jobs()
    (card,) = bot.slack.calls_to("chat.postMessage")
    assert card.args["channel"] == CHANNEL
    (watch,) = bot.store.all_watches()
    assert watch.job_name == job["name"]


def test_two_different_views_with_the_same_values_make_two_jobs(bot: BotUnderTest) -> None:
    # The guard is per submission, not per content: two people (or two forms) may start
    # the same tuning on purpose.
    bot.interact(submission(view_id="V0FIRST01"))
    bot.slack.wait_for("chat.postMessage", 1)
    bot.interact(submission(view_id="V0SECOND1"))
    bot.slack.wait_for("chat.postMessage", 2)
    assert bot.emulator.counts["create"] == 2
    assert len(bot.emulator.jobs()) == 2


def _lagging_listing(bot: BotUnderTest) -> None:
    """Google creates the job, its answer is lost, and `list` does not show it for a while."""
    bot.runtime.surface.handlers.lookups.quick = (0.01, 0.01, 0.01)
    bot.runtime.surface.handlers.lookups.background = (0.05,) * 4
    bot.emulator.listing_delay = 3600.0
    bot.emulator.inject("create", 503, after_commit=True)


def test_a_lost_create_that_listings_do_not_show_yet_is_never_sent_again(
    bot: BotUnderTest,
) -> None:
    _lagging_listing(bot)
    bot.interact(submission(view_id="V0LAG0001"))
    update = bot.slack.wait_for("views.update", 2)[-1].args["view"]
    assert "keeps looking" in str(update)
    # Every background look-up came back empty: the user is asked, nothing is created again.
    (offer,) = bot.slack.wait_for("chat.postEphemeral")
    assert "Create the job now" in str(offer.args["blocks"])
    assert bot.emulator.counts["create"] == 1
    assert len(bot.emulator.jobs()) == 1
    assert bot.slack.calls_to("chat.postMessage") == []


def test_a_lost_create_is_announced_once_google_lists_it(bot: BotUnderTest) -> None:
    _lagging_listing(bot)
    bot.runtime.surface.handlers.lookups.background = (0.3,) * 20
    bot.interact(submission(view_id="V0LAG0002"))
    assert "keeps looking" in str(bot.slack.wait_for("views.update", 2)[-1].args["view"])
    bot.emulator.listing_delay = 0.0  # Google's listing caught up
    _settled(bot)
    (job,) = bot.emulator.jobs()
    (watch,) = bot.store.all_watches()
    assert watch.ref.job_id == job["name"].rsplit("/", 1)[-1]
    (told,) = bot.slack.wait_for("chat.postEphemeral")
    assert "created once" in told.args["text"]
    assert bot.emulator.counts["create"] == 1


def test_create_again_needs_the_submitters_click_and_makes_one_more_job(
    bot: BotUnderTest,
) -> None:
    _lagging_listing(bot)
    bot.interact(submission(view_id="V0LAG0003"))
    (offer,) = bot.slack.wait_for("chat.postEphemeral")
    button = offer.args["blocks"][1]["elements"][0]
    assert button["confirm"]  # Slack asks before the click is sent
    click = {
        "type": "block_actions",
        "channel": {"id": CHANNEL},
        "response_url": bot.slack.response_url("again"),
        "actions": [{"action_id": button["action_id"], "value": button["value"]}],
    }
    bot.interact({**click, "user": {"id": "U0MALLORY"}})
    assert "Only the person who submitted" in bot.replies("again")[0]["text"]
    assert bot.emulator.counts["create"] == 1
    bot.emulator.listing_delay = 0.0
    bot.interact({**click, "user": {"id": "U0ALICE01"}})
    # The first job is listed now: found by its label, not created a second time.
    reply = bot.replies("again", 2)[1]
    assert reply["replace_original"] is True
    assert bot.emulator.counts["create"] == 1
    _settled(bot)
    # A second click finds nothing left to create.
    bot.interact({**click, "user": {"id": "U0ALICE01"}})
    assert "no longer holds this request" in bot.replies("again", 3)[2]["text"]


def test_create_again_creates_when_google_still_has_no_such_job(bot: BotUnderTest) -> None:
    bot.runtime.surface.handlers.lookups.quick = (0.01,)
    bot.runtime.surface.handlers.lookups.background = (0.05,) * 2
    bot.emulator.inject("create", 503)  # refused before anything was made: unknown to the bot
    bot.interact(submission(view_id="V0LAG0004"))
    (offer,) = bot.slack.wait_for("chat.postEphemeral")
    assert bot.emulator.jobs() == []
    button = offer.args["blocks"][1]["elements"][0]
    bot.interact(
        {
            "type": "block_actions",
            "user": {"id": "U0ALICE01"},
            "channel": {"id": CHANNEL},
            "response_url": bot.slack.response_url("again"),
            "actions": [{"action_id": button["action_id"], "value": button["value"]}],
        }
    )
    _settled(bot)
    assert bot.emulator.counts["create"] == 2
    assert len(bot.emulator.jobs()) == 1
    assert "was created" in bot.replies("again")[0]["text"]
