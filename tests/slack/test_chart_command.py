"""`/tune chart <job>` end to end: a signed command, the curves read from the emulated
TensorBoard, the PNG uploaded through Slack's external upload flow, and the reply."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from bot.tuning.states import JobState
from bot.watch.model import NewWatch, WatchKind
from tests.fakes.watch_store import seed_watch
from tests.slack.conftest import CHANNEL, PROJECT, REGION, BotUnderTest

USER = "U0ALICE01"
THREAD = "1700000000.000777"
DIRECT = "D0ALICE001"
PNG = b"\x89PNG\r\n\x1a\n"


def _job(bot: BotUnderTest, state: str = "JOB_STATE_SUCCEEDED", **options: Any) -> str:
    return bot.emulator.add_job(PROJECT, REGION, display_name="support-bot", state=state, **options)


def _watch_here(bot: BotUnderTest, name: str) -> None:
    seed_watch(
        bot.store,
        NewWatch(name, CHANNEL, USER, WatchKind.CREATED, JobState.SUCCEEDED, message_ts=THREAD),
    )


def _serve_direct_messages(bot: BotUnderTest) -> None:
    # Slack answers conversations.open with the DM's channel object.
    bot.slack.handlers["conversations.open"] = lambda args: {
        "ok": True,
        "channel": {"id": DIRECT},
    }


def _reply(bot: BotUnderTest) -> str:
    return str(bot.replies("r1")[0]["text"])


def _completed(bot: BotUnderTest) -> dict[str, Any]:
    done = bot.slack.wait_for("files.completeUploadExternal")[-1].args
    files = done["files"]
    done["files"] = json.loads(files) if isinstance(files, str) else files
    return dict(done)


def _uploaded_png(bot: BotUnderTest) -> bytes:
    (asked,) = bot.slack.calls_to("files.getUploadURLExternal")
    assert asked.args["filename"].endswith(".png")
    data = bot.slack.uploads[_completed(bot)["files"][0]["id"]]
    assert int(asked.args["length"]) == len(data)
    return data


def test_the_chart_of_a_job_with_a_card_here_goes_to_its_thread(bot: BotUnderTest) -> None:
    name = _job(bot, validation_uri="gs://b/validation.jsonl")
    _watch_here(bot, name)
    bot.command(f"chart {name.rsplit('/', 1)[-1]}")
    reply = _reply(bot)
    assert "are in the thread of its status card in this channel" in reply
    assert "support-bot" in reply
    done = _completed(bot)
    assert done["channel_id"] == CHANNEL
    assert done["thread_ts"] == THREAD
    assert "support-bot" in done["files"][0]["title"]
    assert _uploaded_png(bot).startswith(PNG)
    # Slack takes the alt text when the upload is asked for.
    alt = bot.slack.calls_to("files.getUploadURLExternal")[0].args["alt_txt"]
    assert "support-bot" in alt
    assert "Training loss went from" in alt


def test_without_a_card_here_the_chart_goes_to_the_users_direct_messages(
    bot: BotUnderTest,
) -> None:
    _serve_direct_messages(bot)
    name = _job(bot)
    bot.command(f"chart {name}")
    assert "in your DM with the bot" in _reply(bot)
    (opened,) = bot.slack.calls_to("conversations.open")
    assert opened.args["users"] == USER
    done = _completed(bot)
    assert done["channel_id"] == DIRECT
    assert "thread_ts" not in done
    assert _uploaded_png(bot).startswith(PNG)


def test_a_running_job_has_a_chart_of_its_steps_so_far(bot: BotUnderTest) -> None:
    _serve_direct_messages(bot)
    name = _job(bot, state="JOB_STATE_RUNNING")
    halfway = time.time() + 1800  # half of RUNNING, at 3600 s a state
    bot.emulator.clock = lambda: halfway
    bot.command(f"chart {name}")
    assert "in your DM with the bot" in _reply(bot)
    assert _uploaded_png(bot).startswith(PNG)


def test_a_queued_job_has_no_chart_yet_and_says_why(bot: BotUnderTest) -> None:
    name = _job(bot, state="JOB_STATE_PENDING")
    bot.command(f"chart {name}")
    reply = _reply(bot)
    assert "has not started training yet" in reply
    assert "Try again a few minutes after it starts running" in reply
    assert bot.slack.calls_to("files.getUploadURLExternal") == []


def test_the_answer_is_in_the_users_language(bot: BotUnderTest) -> None:
    bot.slack.locales[USER] = "ja-JP"
    name = _job(bot)
    _watch_here(bot, name)
    bot.command(f"chart {name}")
    assert _reply(bot) == (
        "support-bot の学習曲線を、このチャンネルにあるステータスカードのスレッドに投稿しました。"
    )
    assert "学習曲線" in _completed(bot)["files"][0]["title"]


def test_google_refusing_the_tensorboard_is_said_with_its_reason(bot: BotUnderTest) -> None:
    name = _job(bot)
    bot.emulator.inject("tensorboard", 403, times=5)
    bot.command(f"chart {name}")
    reply = _reply(bot)
    assert "403" in reply or "permission" in reply.lower()
    assert bot.slack.calls_to("files.getUploadURLExternal") == []
    # The bot keeps answering.
    answer = bot.command("help", reply="r2")
    assert answer.status_code == 200
    assert "/tune chart" in answer.text


def test_an_unknown_job_is_said_plainly(bot: BotUnderTest) -> None:
    bot.command("chart 999999999999")
    assert "999999999999" in _reply(bot)
    assert bot.slack.calls_to("files.getUploadURLExternal") == []


def test_a_job_that_ended_before_training_has_nothing_to_draw(bot: BotUnderTest) -> None:
    name = _job(bot, state="JOB_STATE_PENDING")
    bot.emulator.set_state(name, "JOB_STATE_FAILED", error_message="dataset unreadable")
    bot.command(f"chart {name}")
    reply = _reply(bot)
    assert "ended before it recorded any training figures" in reply
    assert "try again" not in reply.lower()


def test_a_name_with_markup_characters_is_escaped_once(bot: BotUnderTest) -> None:
    name = bot.emulator.add_job(
        PROJECT, REGION, display_name="Q&A <bot>", state="JOB_STATE_SUCCEEDED"
    )
    _watch_here(bot, name)
    bot.command(f"chart {name}")
    reply = _reply(bot)
    assert "Q&amp;A &lt;bot&gt;" in reply
    assert "&amp;amp;" not in reply


def test_a_rate_limited_upload_asks_to_try_again_without_blaming_scopes(
    bot: BotUnderTest,
) -> None:
    name = _job(bot)
    _watch_here(bot, name)
    bot.slack.fail("files.completeUploadExternal", "internal_error")
    bot.command(f"chart {name}")
    reply = _reply(bot)
    assert "`internal_error`" in reply
    assert "files:write" not in reply


def test_a_failed_upload_says_what_to_check(bot: BotUnderTest) -> None:
    name = _job(bot)
    _watch_here(bot, name)
    bot.slack.fail("files.getUploadURLExternal", "missing_scope")
    bot.command(f"chart {name}")
    reply = _reply(bot)
    assert "missing_scope" in reply
    assert "files:write" in reply


@pytest.mark.parametrize("text", ["chart", "chart a b"])
def test_chart_without_exactly_one_job_shows_the_usage(bot: BotUnderTest, text: str) -> None:
    bot.command(text)
    assert "/tune chart" in json.dumps(bot.replies("r1")[0])
