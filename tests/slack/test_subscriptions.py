"""Channel subscriptions end to end: signed `/tune subscribe`, `unsubscribe`, `subscriptions`,
`settings` (the modal and its submission) and `debug`, against the emulator, the fake Slack
and the real SQL store."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from bot.tuning.refs import JobRef, Location
from bot.tuning.subscriptions import ChannelSettings, Events, Subscription
from bot.watch.model import WatchKind
from bot.watch.subscription_store import SqlSubscriptionStore
from tests.slack.conftest import ADMIN, CHANNEL, PROJECT, REGION, BotUnderTest

USER = "U0ALICE01"
OTHER = "U0BOB0001"
ELSEWHERE = "C0ELSEWHR1"
HERE = Location(PROJECT, REGION)
T = TypeVar("T")


def _run(work: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(work)


def _subs(bot: BotUnderTest) -> list[Subscription]:
    return _run(SqlSubscriptionStore(bot.store).subscriptions(CHANNEL))


def _reply(bot: BotUnderTest, name: str = "r1") -> dict[str, Any]:
    return bot.replies(name)[0]


def _text(bot: BotUnderTest, name: str = "r1") -> str:
    return str(_reply(bot, name)["text"])


def _shown(bot: BotUnderTest, name: str = "r1") -> str:
    """A reply's text and blocks, as one string to look for words in."""
    reply = _reply(bot, name)
    blocks = reply.get("blocks")
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return f"{reply.get('text')}\n{json.dumps(blocks, ensure_ascii=False)}"


def _notices(bot: BotUnderTest) -> list[str]:
    return [str(c.args.get("text")) for c in bot.slack.calls_to("chat.postMessage")]


def _running(bot: BotUnderTest, **labels: str) -> str:
    return bot.emulator.add_job(
        PROJECT, REGION, display_name="support-bot", state="JOB_STATE_RUNNING", labels=labels
    )


# -- subscribe -----------------------------------------------------------------------------
def test_subscribing_with_filters_stores_them_tells_the_user_and_the_channel(
    bot: BotUnderTest,
) -> None:
    bot.command("subscribe label:team=nlp name:support-* events:failed")
    reply = _text(bot)
    assert "This channel is now subscribed to the tuning jobs of" in reply
    assert "`label:team=nlp`" in reply
    assert "`name:support-*`" in reply
    assert "failures only" in reply
    assert "Jobs created before now are not announced." in reply
    (notice,) = bot.slack.calls_to("chat.postMessage")
    assert notice.args["channel"] == CHANNEL
    assert f"<@{USER}> subscribed this channel" in notice.args["text"]
    assert PROJECT in notice.args["text"]
    (sub,) = _subs(bot)
    assert sub.location == HERE
    assert dict(sub.spec.filter.labels) == {"team": "nlp"}
    assert sub.spec.filter.name_prefix == "support-"
    assert sub.spec.events is Events.FAILED
    assert sub.created_by == USER


def test_subscribing_again_changes_the_filters_of_the_one_subscription(
    bot: BotUnderTest,
) -> None:
    bot.command("subscribe label:team=nlp")
    assert "now subscribed" in _text(bot)
    bot.command(f"subscribe {PROJECT}/{REGION} model:gemini-2.5-flash events:ended", reply="r2")
    reply = _text(bot, "r2")
    assert "was already subscribed" in reply
    assert "`model:gemini-2.5-flash`" in reply
    (sub,) = _subs(bot)
    assert dict(sub.spec.filter.labels) == {}
    assert sub.spec.filter.model == "gemini-2.5-flash"
    assert sub.spec.events is Events.ENDED


def test_running_jobs_that_match_are_followed_at_once_and_ended_ones_are_not(
    bot: BotUnderTest,
) -> None:
    matching = _running(bot, team="nlp")
    other_team = _running(bot, team="vision")
    ended = bot.emulator.add_job(
        PROJECT, REGION, state="JOB_STATE_SUCCEEDED", labels={"team": "nlp"}
    )
    bot.command("subscribe label:team=nlp")
    assert "except the 1 already running, which this channel now follows" in _text(bot)
    (sub,) = _subs(bot)
    (watch,) = _run(bot.store.watches_for_job(JobRef.from_name(matching)))
    assert watch.kind is WatchKind.SUBSCRIBED
    assert watch.channel_id == CHANNEL
    assert watch.subscription_id == sub.id
    assert watch.events == "all"
    assert watch.display_name == "support-bot"
    assert watch.message_ts is None  # the watcher's next round posts its card
    assert _run(bot.store.watches_for_job(JobRef.from_name(other_team))) == []
    assert _run(bot.store.watches_for_job(JobRef.from_name(ended))) == []


def test_subscribing_twice_does_not_follow_a_running_job_twice(bot: BotUnderTest) -> None:
    job = _running(bot)
    bot.command("subscribe")
    assert "the 1 already running" in _text(bot)
    bot.command("subscribe events:all", reply="r2")
    assert "was already subscribed" in _text(bot, "r2")
    assert len(_run(bot.store.watches_for_job(JobRef.from_name(job)))) == 1


def test_a_word_that_is_no_filter_is_explained_and_nothing_is_stored(bot: BotUnderTest) -> None:
    bot.command(f"subscribe {PROJECT} colour:blue")
    reply = _text(bot)
    assert "`colour:blue` is not a filter" in reply
    assert "`label:KEY=VALUE`" in reply
    assert "`my-project/us-central1`" in reply
    assert _subs(bot) == []
    assert bot.slack.calls_to("chat.postMessage") == []


def test_a_bad_label_is_explained_in_japanese(bot: BotUnderTest) -> None:
    bot.slack.locales[USER] = "ja-JP"
    bot.command("subscribe label:Team")
    reply = _text(bot)
    assert "`label:Team`" in reply
    assert "label:KEY=VALUE" in reply
    assert "ラベル" in reply
    assert _subs(bot) == []


def test_a_location_google_refuses_is_refused_with_googles_reason(bot: BotUnderTest) -> None:
    denied = "Permission 'aiplatform.tuningJobs.list' denied"
    bot.emulator.inject("list", 403, times=5, message=denied)
    bot.command("subscribe")
    reply = _text(bot)
    assert "Google denied permission" in reply
    assert denied in reply
    assert _subs(bot) == []
    assert bot.slack.calls_to("chat.postMessage") == []


def test_a_project_outside_the_bots_projects_is_refused(bot: BotUnderTest) -> None:
    bot.command("subscribe someone-elses/us-central1")
    reply = _text(bot)
    assert "does not act in project `someone-elses`" in reply
    assert _subs(bot) == []
    assert bot.slack.calls_to("chat.postMessage") == []


@pytest.mark.parametrize("error", ["not_in_channel", "channel_not_found"])
def test_a_channel_the_bot_is_not_in_is_told_to_invite_it_and_nothing_is_stored(
    bot: BotUnderTest, error: str
) -> None:
    _running(bot)
    bot.slack.fail("chat.postMessage", error)
    bot.command("subscribe")
    reply = _text(bot)
    assert "so it is not subscribed" in reply
    assert "`/invite @tuning-bot`" in reply
    assert _subs(bot) == []
    assert _run(bot.store.watches_of_user(USER, ended_limit=10)) == []


def test_the_invite_hint_is_in_japanese_for_a_japanese_user(bot: BotUnderTest) -> None:
    bot.slack.locales[USER] = "ja-JP"
    bot.slack.fail("chat.postMessage", "not_in_channel")
    bot.command("subscribe")
    reply = _text(bot)
    assert "`/invite @tuning-bot`" in reply
    assert "招待" in reply
    assert _subs(bot) == []


def test_another_refused_notice_stores_nothing_and_says_slacks_reason(bot: BotUnderTest) -> None:
    bot.slack.fail("chat.postMessage", "is_archived")
    bot.command("subscribe")
    assert "is_archived" in _text(bot)
    assert _subs(bot) == []


def test_a_japanese_subscriber_reads_the_reply_and_notice_in_japanese(bot: BotUnderTest) -> None:
    bot.slack.locales[USER] = "ja-JP"
    bot.command("subscribe label:team=nlp")
    assert "購読" in _text(bot)
    assert "購読しました" in _notices(bot)[0]


# -- unsubscribe ---------------------------------------------------------------------------
def test_only_the_subscriber_or_an_admin_may_unsubscribe(bot: BotUnderTest) -> None:
    bot.command("subscribe label:team=nlp")
    _text(bot)
    bot.command("unsubscribe", user=OTHER, reply="r2")
    refused = _text(bot, "r2")
    assert f"Only <@{USER}>, who subscribed this channel to" in refused
    assert len(_subs(bot)) == 1
    bot.command(f"unsubscribe {PROJECT}/{REGION}", user=ADMIN, reply="r3")
    assert "is no longer subscribed" in _text(bot, "r3")
    assert _subs(bot) == []


def test_the_subscriber_unsubscribes_and_a_second_time_finds_nothing(bot: BotUnderTest) -> None:
    bot.command("subscribe")
    _text(bot)
    bot.command("unsubscribe", reply="r2")
    assert "is no longer subscribed" in _text(bot, "r2")
    bot.command("unsubscribe", reply="r3")
    assert "has no subscription to" in _text(bot, "r3")


def test_unsubscribe_takes_a_location_only(bot: BotUnderTest) -> None:
    bot.command("unsubscribe label:team=nlp")
    assert "`/tune unsubscribe my-project/us-central1`" in _text(bot)


def test_the_refusal_is_in_japanese(bot: BotUnderTest) -> None:
    bot.command("subscribe")
    _text(bot)
    bot.slack.locales[OTHER] = "ja-JP"
    bot.command("unsubscribe", user=OTHER, reply="r2")
    refused = _text(bot, "r2")
    assert f"<@{USER}>" in refused
    assert "管理者" in refused
    assert len(_subs(bot)) == 1


# -- subscriptions -------------------------------------------------------------------------
def test_subscriptions_lists_what_who_and_when(bot: BotUnderTest) -> None:
    bot.command("subscriptions")
    assert "has no subscriptions" in _shown(bot)
    bot.command("subscribe label:team=nlp events:ended", reply="r2")
    _text(bot, "r2")
    bot.command("subscriptions", reply="r3")
    shown = _shown(bot, "r3")
    assert f"Subscriptions of <#{CHANNEL}>" in shown
    assert f"Subscribed by <@{USER}> on <!date^" in shown
    assert "`label:team=nlp`" in shown
    assert "every ending (no status card)" in shown


# -- settings ------------------------------------------------------------------------------
def _submission(view: dict[str, Any], chosen: dict[str, list[str]]) -> dict[str, Any]:
    """The view_submission Slack sends for `view` with the options of these values chosen
    (block id → values; a radio takes one, checkboxes any)."""
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element = block["element"]
        picked = [o for o in element["options"] if o["value"] in chosen[block["block_id"]]]
        if element["type"] == "radio_buttons":
            state = {"type": "radio_buttons", "selected_option": picked[0]}
        else:
            state = {"type": "checkboxes", "selected_options": picked}
        values[block["block_id"]] = {element["action_id"]: state}
    return {
        "type": "view_submission",
        "user": {"id": USER},
        "view": {**view, "id": "V0SETTINGS", "hash": "h1", "state": {"values": values}},
    }


def _opened_view(bot: BotUnderTest, count: int = 1) -> dict[str, Any]:
    opened = bot.slack.wait_for("views.open", count)[-1].args
    view = opened["view"]
    return dict(json.loads(view) if isinstance(view, str) else view)


def _wait(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def test_settings_open_a_modal_whose_submission_stores_them(bot: BotUnderTest) -> None:
    bot.command("settings")
    view = _opened_view(bot)
    assert view["callback_id"] == "tuning_channel_settings"
    assert view["private_metadata"] == CHANNEL
    chosen = {
        "settings_cards": ["off"],
        "settings_endings": ["top_level"],
        "settings_broadcast": [],
        "settings_mention": ["on"],
    }
    assert bot.interact(_submission(view, chosen)).status_code == 200
    (told,) = bot.slack.wait_for("chat.postEphemeral")
    assert told.args["channel"] == CHANNEL
    assert told.args["user"] == USER
    assert "Saved this channel's settings" in told.args["text"]
    assert "No status cards: endings only" in told.args["text"]
    stored = _run(SqlSubscriptionStore(bot.store).settings([CHANNEL]))[CHANNEL]
    assert stored == ChannelSettings(
        thread_endings=False, broadcast_success=False, cards=False, mention_on_failure=True
    )
    # Opened again, the modal shows what was saved.
    bot.command("settings", reply="r2")
    again = _opened_view(bot, 2)
    cards = next(b for b in again["blocks"] if b.get("block_id") == "settings_cards")
    assert cards["element"]["initial_option"]["value"] == "off"


def test_the_settings_modal_and_its_answer_are_in_japanese(bot: BotUnderTest) -> None:
    bot.slack.locales[USER] = "ja-JP"
    bot.command("settings")
    view = _opened_view(bot)
    assert view["title"]["text"] == "チャンネル設定"
    chosen = {
        "settings_cards": ["on"],
        "settings_endings": ["thread"],
        "settings_broadcast": ["on"],
        "settings_mention": [],
    }
    bot.interact(_submission(view, chosen))
    (told,) = bot.slack.wait_for("chat.postEphemeral")
    assert "保存" in told.args["text"]
    _wait(
        lambda: (
            not _run(SqlSubscriptionStore(bot.store).settings([CHANNEL]))[
                CHANNEL
            ].mention_on_failure
        )
    )


class TestAllowedChannels:
    """TUNING_ALLOWED_CHANNELS names this channel only."""

    @pytest.fixture
    def env_extra(self) -> dict[str, str]:
        return {"TUNING_ALLOWED_CHANNELS": CHANNEL}

    def test_subscribing_elsewhere_is_refused(self, bot: BotUnderTest) -> None:
        bot.command("subscribe", channel=ELSEWHERE)
        assert "cannot be run from this channel" in _text(bot)
        assert bot.slack.calls_to("chat.postMessage") == []
        assert _run(SqlSubscriptionStore(bot.store).subscriptions(ELSEWHERE)) == []

    def test_settings_submitted_for_another_channel_are_not_saved(self, bot: BotUnderTest) -> None:
        bot.command("settings")
        view = _opened_view(bot)
        chosen = {
            "settings_cards": ["off"],
            "settings_endings": ["thread"],
            "settings_broadcast": [],
            "settings_mention": [],
        }
        payload = _submission(view, chosen)
        payload["view"]["private_metadata"] = ELSEWHERE
        bot.interact(payload)
        (told,) = bot.slack.wait_for("chat.postEphemeral")
        assert told.args["channel"] == ELSEWHERE
        assert "cannot be run from this channel" in told.args["text"]
        stored = _run(SqlSubscriptionStore(bot.store).settings([ELSEWHERE]))[ELSEWHERE]
        assert stored == ChannelSettings()


# -- debug ---------------------------------------------------------------------------------
def test_debug_shows_subscriptions_settings_and_delivery_errors(bot: BotUnderTest) -> None:
    bot.command("subscribe label:team=nlp")
    _text(bot)
    at = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
    subs = SqlSubscriptionStore(bot.store)
    _run(subs.record_delivery_error(CHANNEL, "not_in_channel", job_name="support-bot", at=at))
    _run(subs.record_location_read(HERE, at=at, calls=2, error=None))
    bot.command("debug", reply="r2")
    shown = _shown(bot, "r2")
    assert f"What the bot knows about <#{CHANNEL}>" in shown
    assert "Subscriptions: 1" in shown
    assert "`label:team=nlp`" in shown
    assert "A status card per job, kept current" in shown
    assert "requests to Google: 2" in shown
    assert "`not_in_channel`" in shown
    assert "/invite @tuning-bot" in shown


def test_debug_of_a_quiet_channel_in_japanese(bot: BotUnderTest) -> None:
    bot.slack.locales[USER] = "ja-JP"
    bot.command("debug")
    shown = _shown(bot)
    assert f"<#{CHANNEL}>" in shown
    assert "What the bot knows" not in shown
