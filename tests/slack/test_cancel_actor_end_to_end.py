"""Who cancelled, from the click to the thread: a signed Slack request cancels the job, the
watcher sees it end, and the card and the ending name the user who clicked."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.slack.conftest import ADMIN, CHANNEL, BotUnderTest
from tests.slack.test_create_modal import submission


@pytest.fixture
def seconds_per_state() -> float:
    # Long enough that the job has not ended when the button is clicked, even on a loaded
    # machine: the whole timetable takes three of these, a cancel one.
    return 8.0


@pytest.fixture
def run_watcher() -> bool:
    return True


@pytest.fixture
def env_extra() -> dict[str, str]:
    return {"POLL_INTERVAL_SECONDS": "0.2"}


def _cancel_button(card_blocks: list[dict[str, Any]]) -> dict[str, Any]:
    for block in card_blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == "job_cancel":
                return dict(element)
    raise AssertionError("the card has no Cancel button")


def _ending(bot: BotUnderTest, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        replies = [c for c in bot.slack.calls_to("chat.postMessage") if c.args.get("thread_ts")]
        if replies:
            return replies[0]
        time.sleep(0.05)
    raise AssertionError("no ending was announced")


def _card_edit_saying(bot: BotUnderTest, said: str, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        edits = [json.dumps(c.args["blocks"]) for c in bot.slack.calls_to("chat.update")]
        if any(said in edit for edit in edits):
            return True
        time.sleep(0.05)
    return False


def test_the_ending_and_the_card_say_who_cancelled_the_job(bot: BotUnderTest) -> None:
    bot.interact(submission(display_name="cancel-me"))
    card = bot.slack.wait_for("chat.postMessage")[0]
    button = _cancel_button(card.args["blocks"])
    # The watch is saved once the card is posted; the canceller is noted on it.
    deadline = time.monotonic() + 30
    while not bot.store.all_watches():
        assert time.monotonic() < deadline, "the created job was never watched"
        time.sleep(0.02)

    bot.interact(
        {
            "type": "block_actions",
            "user": {"id": ADMIN},
            "channel": {"id": CHANNEL},
            "response_url": bot.slack.response_url("button"),
            "actions": [{"action_id": "job_cancel", "value": button["value"], "type": "button"}],
        }
    )

    reply = bot.replies("button")[0]["text"]
    assert "*cancel-me*" in reply
    assert "projects/" not in reply
    ending = _ending(bot)
    text = json.dumps(ending.args.get("blocks", []))
    assert f"Cancelled by <@{ADMIN}>." in text
    # The card, edited once Google stopped the job, names the same user.
    assert _card_edit_saying(bot, f"*Cancelled by*\\n<@{ADMIN}>")  # a field, as JSON
    # The audit is as it always was.
    cancels = [e for e in bot.store.audit_entries() if e.action == "cancel"]
    assert [(e.actor, e.outcome) for e in cancels] == [(ADMIN, "ok")]
