"""The two shortcuts through the signed endpoint: "New tuning job" from anywhere, and "Watch
tuning job here" on a message that refers to a job."""

from __future__ import annotations

from typing import Any

import pytest

from bot.slack import ids
from bot.tuning.job import console_url
from bot.tuning.refs import JobRef
from bot.watch.model import WatchKind
from tests.slack.conftest import CHANNEL, PROJECT, REGION, BotUnderTest


def _text(reply: dict[str, Any]) -> str:
    return str(reply.get("text") or "")


def message_action(
    bot: BotUnderTest,
    message: dict[str, Any],
    *,
    user: str = "U0ALICE01",
    channel: str = CHANNEL,
    reply: str = "shortcut",
) -> dict[str, Any]:
    """A `message_action` payload as Slack sends it for a message shortcut."""
    return {
        "type": "message_action",
        "token": "legacy-verification-token",
        "action_ts": "1700000100.123456",
        "team": {"id": "T0000TEST", "domain": "example"},
        "user": {"id": user, "username": user.lower(), "team_id": "T0000TEST", "name": user},
        "channel": {"id": channel, "name": "tuning"},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": ids.WATCH_MESSAGE_SHORTCUT,
        "response_url": bot.slack.response_url(reply),
        "message_ts": message["ts"],
        "message": message,
    }


def user_message(text: str, ts: str = "1700000050.000200") -> dict[str, Any]:
    """A message a person posted, with the rich-text blocks Slack's client adds."""
    return {
        "client_msg_id": "6f1c5d0e-1111-4c4c-9d9d-000000000001",
        "type": "message",
        "text": text,
        "user": "U0BOB0001",
        "ts": ts,
        "team": "T0000TEST",
        "blocks": [
            {
                "type": "rich_text",
                "block_id": "x1Yz",
                "elements": [
                    {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
                ],
            }
        ],
    }


def _running_job(bot: BotUnderTest, name: str = "from-ci") -> str:
    return bot.emulator.add_job(PROJECT, REGION, display_name=name, state="JOB_STATE_RUNNING")


def test_watch_shortcut_on_a_console_link_follows_the_job_here(bot: BotUnderTest) -> None:
    name = _running_job(bot)
    url = console_url(JobRef.from_name(name))
    message = user_message(f"CI started <{url.replace('&', '&amp;')}|the nightly job>")

    response = bot.interact(message_action(bot, message))

    assert response.status_code == 200
    assert "This channel now follows" in _text(bot.replies("shortcut")[0])
    card = bot.slack.wait_for("chat.postMessage")[0]
    assert card.args["channel"] == CHANNEL
    assert "from-ci" in str(card.args["blocks"])
    (watch,) = bot.store.all_watches()
    assert (watch.job_name, watch.kind, watch.channel_id) == (name, WatchKind.WATCHED, CHANNEL)
    assert ("watch", "ok") in [(e.action, e.outcome) for e in bot.store.audit_entries()]


def test_watch_shortcut_answers_in_japanese_and_finds_a_link_in_a_button(
    bot: BotUnderTest,
) -> None:
    bot.slack.locales["U0HANAKO1"] = "ja-JP"
    name = _running_job(bot, "ja-job")
    # Another app's message: the link is only a button's target.
    message = {
        "type": "message",
        "subtype": "bot_message",
        "text": "Tuning started",
        "ts": "1700000060.000300",
        "bot_id": "B0OTHER01",
        "blocks": [
            {
                "type": "actions",
                "block_id": "a1",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "open",
                        "text": {"type": "plain_text", "text": "Open"},
                        "url": console_url(JobRef.from_name(name)),
                    }
                ],
            }
        ],
    }

    bot.interact(message_action(bot, message, user="U0HANAKO1"))

    assert "ウォッチを開始しました" in _text(bot.replies("shortcut")[0])
    assert bot.store.all_watches()[0].job_name == name


def test_watch_shortcut_twice_says_the_channel_already_follows(bot: BotUnderTest) -> None:
    name = _running_job(bot)
    bot.interact(message_action(bot, user_message(f"see {name}"), reply="first"))
    bot.replies("first")
    bot.interact(message_action(bot, user_message(f"see {name}"), reply="second"))
    assert "already follows" in _text(bot.replies("second")[0])
    assert len(bot.slack.calls_to("chat.postMessage")) == 1


def test_watch_shortcut_on_a_message_without_a_job_says_so(bot: BotUnderTest) -> None:
    bot.interact(message_action(bot, user_message("lunch at 12? room 2026")))
    text = _text(bot.replies("shortcut")[0])
    assert "found no tuning job in this message" in text
    assert bot.slack.calls_to("chat.postMessage") == []
    assert bot.store.all_watches() == []


def test_watch_shortcut_on_a_message_without_a_job_in_japanese(bot: BotUnderTest) -> None:
    bot.slack.locales["U0HANAKO1"] = "ja-JP"
    bot.interact(message_action(bot, user_message("お昼どうする？"), user="U0HANAKO1"))
    assert "チューニング ジョブが見つかりませんでした" in _text(bot.replies("shortcut")[0])


def test_watch_shortcut_outside_the_allowed_projects_is_refused(bot: BotUnderTest) -> None:
    other = JobRef("someone-elses", REGION, "123456789")
    bot.interact(message_action(bot, user_message(console_url(other))))
    text = _text(bot.replies("shortcut")[0])
    assert "does not act in project `someone-elses`" in text
    assert bot.emulator.counts["get"] == 0
    assert bot.store.all_watches() == []


def test_watch_shortcut_passes_on_googles_answer(bot: BotUnderTest) -> None:
    bot.interact(message_action(bot, user_message(f"is {PROJECT} job 4242424242 done?")))
    assert "Google has no such job" in _text(bot.replies("shortcut")[0])
    assert bot.store.all_watches() == []


def test_watch_shortcut_where_the_bot_is_not_asks_for_an_invite(bot: BotUnderTest) -> None:
    name = _running_job(bot)
    bot.slack.fail("chat.postMessage", "not_in_channel")
    bot.interact(message_action(bot, user_message(name), channel="C0ELSEWHERE"))
    assert "/invite" in _text(bot.replies("shortcut")[0])
    assert bot.store.all_watches() == []


@pytest.mark.parametrize("env_extra", [{"TUNING_ALLOWED_USERS": "U0BOB0001"}])
def test_watch_shortcut_from_someone_not_allowed_is_refused(bot: BotUnderTest) -> None:
    name = _running_job(bot)
    bot.interact(message_action(bot, user_message(name)))
    assert "not on this bot's list" in _text(bot.replies("shortcut")[0])
    assert bot.store.all_watches() == []
    assert ("watch", "refused") in [(e.action, e.outcome) for e in bot.store.audit_entries()]
