"""The two shortcuts through the signed endpoint: "New tuning job" from anywhere, and "Watch
tuning job here" on a message that refers to a job."""

from __future__ import annotations

import time
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
    assert "No tuning job found in this message" in text
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


# -- the global shortcut: the create form from anywhere ----------------------------------------
DM = "D0ALICEDM1"


def global_shortcut(user: str = "U0ALICE01") -> dict[str, Any]:
    """A `shortcut` payload as Slack sends it for a global shortcut: no channel, no
    response URL."""
    return {
        "type": "shortcut",
        "token": "legacy-verification-token",
        "action_ts": "1700000200.654321",
        "team": {"id": "T0000TEST", "domain": "example"},
        "user": {"id": user, "username": user.lower(), "team_id": "T0000TEST"},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": ids.NEW_JOB_SHORTCUT,
    }


def _open_form(bot: BotUnderTest, user: str = "U0ALICE01") -> dict[str, Any]:
    response = bot.interact(global_shortcut(user))
    assert response.status_code == 200
    return bot.slack.wait_for("views.open")[0].args["view"]  # type: ignore[no-any-return]


def _submit(view: dict[str, Any], post_in: str | None, user: str = "U0ALICE01") -> dict[str, Any]:
    """Submitting the opened form with a model, a dataset and (or not) a channel."""
    option = {"value": "gemini-3.5-flash", "text": {"type": "plain_text", "text": "Gemini"}}
    values: dict[str, Any] = {
        "base_model": {"base_model": {"type": "static_select", "selected_option": option}},
        "training_dataset": {
            "training_dataset": {"type": "plain_text_input", "value": "gs://team-data/train.jsonl"}
        },
        ids.POST_IN: {
            ids.POST_IN: {"type": "conversations_select", "selected_conversation": post_in}
        },
    }
    return {
        "type": "view_submission",
        "team": {"id": "T0000TEST", "domain": "example"},
        "user": {"id": user, "username": user.lower(), "team_id": "T0000TEST"},
        "api_app_id": "A0TUNINGBOT",
        "view": {
            "id": "V0SHORTCUT1",
            "type": "modal",
            "callback_id": view["callback_id"],
            "hash": "h1",
            "private_metadata": view["private_metadata"],
            "state": {"values": values},
        },
    }


def _dm_opens(bot: BotUnderTest) -> None:
    bot.slack.handlers["conversations.open"] = lambda args: {
        "ok": True,
        "channel": {"id": DM},
    }


def _form_says(bot: BotUnderTest, words: str) -> str:
    """The modal's latest text once it contains `words` (the job's outcome is said last)."""
    deadline = time.monotonic() + 10
    text = ""
    while words not in text and time.monotonic() < deadline:
        updates = bot.slack.calls_to("views.update")
        text = str(updates[-1].args["view"]["blocks"]) if updates else ""
        time.sleep(0.01)
    assert words in text, text
    return text


def _channel_select(view: dict[str, Any]) -> dict[str, Any] | None:
    return next((b for b in view["blocks"] if b.get("block_id") == ids.POST_IN), None)


def test_the_global_shortcut_opens_the_form_with_a_channel_choice(bot: BotUnderTest) -> None:
    view = _open_form(bot)

    assert view["callback_id"] == ids.CREATE_FORM
    select = _channel_select(view)
    assert select is not None
    assert select["optional"] is True
    assert select["element"]["type"] == "conversations_select"
    assert select["label"]["text"] == "Post the status in"
    assert "direct message" in select["hint"]["text"]


def test_the_form_from_tune_asks_no_channel(bot: BotUnderTest) -> None:
    bot.command("")
    view = bot.slack.wait_for("views.open")[0].args["view"]
    assert _channel_select(view) is None


def test_the_japanese_form_asks_where_to_post_in_japanese(bot: BotUnderTest) -> None:
    bot.slack.locales["U0HANAKO1"] = "ja-JP"
    select = _channel_select(_open_form(bot, "U0HANAKO1"))
    assert select is not None
    assert select["label"]["text"] == "ステータスの投稿先"


def test_a_chosen_channel_gets_the_card(bot: BotUnderTest) -> None:
    view = _open_form(bot)

    response = bot.interact(_submit(view, "C0CHOSEN01"))

    assert response.status_code == 200
    _form_says(bot, "was created")
    card = bot.slack.wait_for("chat.postMessage")[0]
    assert card.args["channel"] == "C0CHOSEN01"
    (watch,) = bot.store.all_watches()
    assert (watch.channel_id, watch.kind) == ("C0CHOSEN01", WatchKind.CREATED)
    assert bot.slack.calls_to("conversations.open") == []


def test_no_channel_means_a_dm_with_the_bot(bot: BotUnderTest) -> None:
    _dm_opens(bot)
    view = _open_form(bot)

    bot.interact(_submit(view, None))

    _form_says(bot, "was created")
    card = bot.slack.wait_for("chat.postMessage")[0]
    (opened,) = bot.slack.calls_to("conversations.open")
    assert opened.args["users"] == "U0ALICE01"
    assert card.args["channel"] == DM
    assert bot.store.all_watches()[0].channel_id == DM


def test_a_channel_without_the_bot_is_said_in_the_form(bot: BotUnderTest) -> None:
    bot.slack.fail("chat.postMessage", "not_in_channel", times=5)
    view = _open_form(bot)

    bot.interact(_submit(view, "C0NOBOT001"))

    text = _form_says(bot, "`/invite` and the bot's name")
    assert "cannot post in <#C0NOBOT001>" in text
    assert "not_in_channel" in text
    assert "/tune watch projects/" in text


def test_a_dm_slack_will_not_open_brings_the_form_back(bot: BotUnderTest) -> None:
    bot.slack.fail("conversations.open", "restricted_action")
    view = _open_form(bot)

    bot.interact(_submit(view, None))

    _form_says(bot, "restricted_action")
    update = bot.slack.calls_to("views.update")[-1].args["view"]
    assert _channel_select(update) is not None  # the form, values kept
    assert update["submit"] is not None
    assert bot.emulator.counts["create"] == 0


@pytest.mark.parametrize("env_extra", [{"TUNING_ALLOWED_CHANNELS": "C0TUNING1"}])
def test_a_channel_the_bot_may_not_be_used_in_is_refused_under_the_field(
    bot: BotUnderTest,
) -> None:
    view = _open_form(bot)  # the user may create jobs: the channel is checked on submission
    assert _channel_select(view) is not None

    answer = bot.interact(_submit(view, "C0ELSEWHERE")).json()

    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {ids.POST_IN}
    assert bot.emulator.counts["create"] == 0


@pytest.mark.parametrize("env_extra", [{"TUNING_ALLOWED_USERS": "U0BOB0001"}])
def test_someone_not_allowed_gets_the_reason_as_the_modal(bot: BotUnderTest) -> None:
    view = _open_form(bot)
    assert _channel_select(view) is None
    assert "not on this bot's list" in str(view["blocks"])


def test_changing_the_model_keeps_the_channel_choice(bot: BotUnderTest) -> None:
    view = _open_form(bot)
    submitted = _submit(view, "C0CHOSEN01")["view"]

    bot.interact(
        {
            "type": "block_actions",
            "user": {"id": "U0ALICE01"},
            "team": {"id": "T0000TEST"},
            "view": submitted,
            "actions": [
                {"action_id": "base_model", "type": "static_select", "block_id": "base_model"}
            ],
        }
    )

    update = bot.slack.wait_for("views.update")[0].args["view"]
    select = _channel_select(update)
    assert select is not None
    assert select["element"]["initial_conversation"] == "C0CHOSEN01"


def test_the_forms_metadata_says_when_it_asks_where_to_post() -> None:
    from bot.slack.messages.create_form import ModalMetadata, read_form

    asks = ModalMetadata("", "ja", choose_channel=True)
    assert ModalMetadata.parse(asks.to_json()) == asks
    assert ModalMetadata.parse('{"c":"","l":"en"}') is None  # no channel and none to choose
    assert ModalMetadata.parse(ModalMetadata("C0TUNING1").to_json()) == ModalMetadata("C0TUNING1")
    chosen = {ids.POST_IN: {ids.POST_IN: {"selected_conversation": "<!channel>"}}}
    assert read_form(chosen)[ids.POST_IN] is None  # only a conversation id is taken
