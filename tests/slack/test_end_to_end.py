"""From the modal to the ending: the Slack surface and the watcher in one process."""

from __future__ import annotations

import json
import time

import pytest

from tests.slack.conftest import CHANNEL, BotUnderTest
from tests.slack.test_create_modal import submission


@pytest.fixture
def seconds_per_state() -> float:
    return 0.3


@pytest.fixture
def run_watcher() -> bool:
    return True


@pytest.fixture
def env_extra() -> dict[str, str]:
    return {"POLL_INTERVAL_SECONDS": "0.2"}


def test_created_job_is_followed_to_its_end_in_the_thread(bot: BotUnderTest) -> None:
    bot.interact(submission(display_name="e2e-model"))
    card = bot.slack.wait_for("chat.postMessage")[0]
    deadline = time.monotonic() + 20
    ending = None
    while ending is None and time.monotonic() < deadline:
        replies = [c for c in bot.slack.calls_to("chat.postMessage") if c.args.get("thread_ts")]
        ending = replies[0] if replies else None
        time.sleep(0.05)
    assert ending is not None, "no ending was announced"
    assert ending.args["channel"] == CHANNEL
    assert "tuningJobs" in card.args["blocks"][-1]["elements"][0]["text"]
    text = ending.args["text"] + json.dumps(ending.args.get("blocks", []))
    assert "/models/" in text
    assert "/endpoints/" in text
    assert ":generateContent" in text


def test_the_dataset_estimate_stays_on_the_card_until_googles_figures_replace_it(
    bot: BotUnderTest,
) -> None:
    bot.interact(submission(display_name="summary-kept"))
    card = bot.slack.wait_for("chat.postMessage")[0]
    first = json.dumps(card.args["blocks"])
    assert "*Pre-flight estimate*\\n120 examples" in first
    updates = bot.slack.wait_for("chat.update", count=2, timeout=20)
    for update in updates:
        text = json.dumps(update.args["blocks"])
        if "billable tokens" in text:  # Google counted the dataset: its figures, alone
            assert "*Data*" in text
            assert "Pre-flight estimate" not in text
        else:
            assert "*Pre-flight estimate*\\n120 examples" in text
