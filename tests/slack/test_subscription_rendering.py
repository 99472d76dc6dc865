"""What a channel is told about its subscriptions, its settings and `/tune debug`, in both
languages, safely escaped and within Slack's limits."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from slack_sdk.models.views import View

from bot.i18n import render, translate
from bot.slack import ids
from bot.slack.messages.help import help_message
from bot.slack.messages.subscriptions import (
    debug_message,
    not_yours_reply,
    read_settings,
    settings_modal,
    settings_saved_reply,
    subscribed_notice,
    subscribed_reply,
    subscriptions_message,
    unsubscribed_reply,
)
from bot.tuning.problems import DomainError
from bot.tuning.refs import Location
from bot.tuning.subscriptions import (
    DEFAULT_SETTINGS,
    ChannelDebug,
    ChannelSettings,
    DeliveryError,
    LocationRead,
    Subscription,
    SubscriptionSpec,
    parse_subscription,
)
from tests.slack.test_block_kit_limits import _check_message

NOW = dt.datetime(2026, 12, 1, 15, 30, tzinfo=dt.UTC)
DEFAULT = Location("test-project", "us-central1")
CHANNEL = "C0TUNING01"
LANGUAGES = ("en", "ja")


def _sub(*words: str, access_error: str | None = None, number: int = 1) -> Subscription:
    return Subscription(
        number,
        CHANNEL,
        parse_subscription(list(words), DEFAULT),
        "U0ALICE01",
        NOW - dt.timedelta(days=2),
        NOW,
        access_error=access_error,
    )


def _text(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def test_subscribed_reply_says_what_is_subscribed_and_that_older_jobs_are_not_announced() -> None:
    sub = _sub("nlp-research/europe-west4", "label:team=nlp", "events:failed")
    text = subscribed_reply(sub, created=True, backfilled=0, language="en")
    assert "`nlp-research` / `europe-west4`" in text
    assert "`label:team=nlp`" in text
    assert "failures only" in text
    assert "Jobs created before now are not announced." in text
    assert "replaced" not in text
    ja = subscribed_reply(sub, created=True, backfilled=0, language="ja")
    assert "`nlp-research` / `europe-west4` のチューニング ジョブを購読しました" in ja
    assert "失敗のみ" in ja
    assert "今より前に作成されたジョブは通知しません。" in ja


def test_subscribing_again_says_the_filters_were_replaced_and_counts_the_back_filled() -> None:
    sub = _sub("model:gemini-2.5-flash")
    text = subscribed_reply(sub, created=False, backfilled=2, language="en")
    assert "its filters are replaced" in text
    assert "except the 2 already running, which this channel now follows" in text
    assert "`model:gemini-2.5-flash`" in text
    ja = subscribed_reply(sub, created=False, backfilled=2, language="ja")
    assert "フィルタを次の内容に置き換えました" in ja
    assert "実行中の 2 件" in ja


def test_a_subscription_to_every_job_says_so() -> None:
    sub = _sub()
    assert "*Jobs:* every job" in subscribed_reply(sub, created=True, backfilled=0, language="en")
    assert "`test-project` / `us-central1`" in subscribed_notice(sub, language="en")
    assert "すべてのジョブ" in subscribed_notice(sub, language="ja")


@pytest.mark.parametrize("language", LANGUAGES)
def test_user_text_in_filters_is_escaped(language: str) -> None:
    sub = _sub("name:<!channel>*", "label:team=nlp")
    for text in (
        subscribed_reply(sub, created=True, backfilled=0, language=language),
        subscribed_notice(sub, language=language),
        _text(subscriptions_message([sub], language=language, channel_id=CHANNEL)[1]),
        _text(debug_message(ChannelDebug(CHANNEL, (sub,)), language=language)[1]),
    ):
        assert "<!channel>" not in text
        assert "`name:&lt;!channel&gt;*`" in text


def test_a_backtick_in_a_name_filter_cannot_close_the_code_span() -> None:
    text = subscribed_notice(_sub("name:a`*bold*`b*"), language="en")
    assert "`name:a'*bold*'b*`" in text


def test_the_public_notice_names_who_subscribed() -> None:
    sub = _sub("my-project/us-east4", "label:team=nlp")
    assert subscribed_notice(sub, language="en") == (
        "<@U0ALICE01> subscribed this channel to the tuning jobs of `my-project` / `us-east4` "
        "(`label:team=nlp`). `/tune subscriptions` lists them."
    )
    assert subscribed_notice(sub, language="ja").startswith(
        "<@U0ALICE01> さんがこのチャンネルで `my-project` / `us-east4` のチューニング ジョブを"
        "購読しました（`label:team=nlp`）。"
    )


def test_unsubscribing_and_a_subscription_that_is_not_yours() -> None:
    sub = _sub("my-project")
    assert "no longer subscribed" in unsubscribed_reply(sub, sub.location, "en")
    assert "has no subscription to `my-project`" in unsubscribed_reply(None, sub.location, "en")
    assert "購読を解除しました" in unsubscribed_reply(sub, sub.location, "ja")
    assert "購読していません" in unsubscribed_reply(None, sub.location, "ja")
    mine = not_yours_reply(sub, "en")
    assert mine.startswith("Only <@U0ALICE01>")
    assert "or an admin" in mine
    assert "<@U0ALICE01> さんか管理者だけです" in not_yours_reply(sub, "ja")


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_empty_list_says_how_to_subscribe(language: str) -> None:
    fallback, blocks = subscriptions_message([], language=language, channel_id=CHANNEL)
    _check_message(blocks, fallback)
    assert "/tune subscribe" in _text(blocks)
    assert f"<#{CHANNEL}>" in fallback


def test_the_list_shows_each_subscription_with_who_made_it_and_when() -> None:
    subs = [
        _sub(number=1),
        _sub("other-project/europe-west4", "label:team=nlp", "events:ended", number=2),
    ]
    fallback, blocks = subscriptions_message(subs, language="en", channel_id=CHANNEL)
    _check_message(blocks, fallback)
    assert len(blocks) == 3
    second = blocks[2]["text"]["text"]
    assert "*`other-project` / `europe-west4`*" in second
    assert "`label:team=nlp`" in second
    assert "every ending (no status card)" in second
    assert "Subscribed by <@U0ALICE01> on <!date^" in second
    assert "cannot list" not in _text(blocks)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_list_shows_access_trouble(language: str) -> None:
    sub = _sub("secret-project", access_error="403 Permission denied <on> 'tuningJobs.list'")
    _, blocks = subscriptions_message([sub], language=language, channel_id=CHANNEL)
    text = blocks[1]["text"]["text"]
    assert "403 Permission denied &lt;on&gt; 'tuningJobs.list'" in text
    assert "`roles/aiplatform.viewer`" in text
    assert "`secret-project`" in text
    warning = {"en": "cannot list the tuning jobs", "ja": "チューニング ジョブを一覧できません"}
    assert warning[language] in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_long_list_fits_and_says_how_many_were_left_out(language: str) -> None:
    words = [f"label:k{i}=" + "v" * 60 for i in range(16)] + ["name:" + "<" * 128 + "*"]
    subs = [_sub(*words, access_error="<" * 2000, number=i) for i in range(60)]
    fallback, blocks = subscriptions_message(subs, language=language, channel_id=CHANNEL)
    _check_message(blocks, fallback)
    shown = len(blocks) - 2
    left = translate(language, "subs.left_out", count=60 - shown)
    assert blocks[-1]["elements"][0]["text"] == left


def _report(**changes: Any) -> ChannelDebug:
    subs = (
        _sub(number=1),
        _sub("vision-team/us-east4", "events:failed", access_error="403 denied", number=2),
    )
    fields: dict[str, Any] = {
        "channel_id": CHANNEL,
        "subscriptions": subs,
        "settings": ChannelSettings(thread_endings=False, mention_on_failure=False),
        "reads": {
            subs[0].location: LocationRead(NOW - dt.timedelta(seconds=30), 3),
            subs[1].location: LocationRead(NOW, 1, "403 denied"),
        },
        "followed": 2,
        "followed_sample": ("support-answers-v3", "4311802278104121345"),
        "delivery_errors": (
            DeliveryError(NOW, "not_in_channel", "support-answers-v3"),
            DeliveryError(NOW, "is_archived"),
            DeliveryError(NOW, "channel_not_found"),
            DeliveryError(NOW, "ratelimited"),
            DeliveryError(NOW, "invalid_blocks"),
        ),
    }
    fields.update(changes)
    return ChannelDebug(**fields)


def test_debug_shows_subscriptions_settings_reads_jobs_and_what_to_do_about_errors() -> None:
    fallback, blocks = debug_message(_report(), language="en")
    _check_message(blocks, fallback)
    text = _text(blocks)
    assert "*Subscriptions: 2*" in text
    assert "`vision-team` / `us-east4`" in text
    assert "Endings as messages of their own in the channel" in text
    assert ":heavy_minus_sign: Mention whoever started a job from Slack when it fails" in text
    assert "requests to Google: 3" in text
    assert "the last read failed: 403 denied" in text
    assert "*Jobs this channel follows (watched or subscribed): 2*" in text
    assert "support-answers-v3" in text
    assert "invite it with `/invite @tuning-bot`" in text
    assert text.count("The channel is gone or archived") == 2
    assert "it retries on its own" in text
    assert "Slack refused the message." in text
    assert "more not shown" not in text


def test_debug_in_japanese() -> None:
    fallback, blocks = debug_message(_report(), language="ja")
    _check_message(blocks, fallback)
    text = _text(blocks)
    assert "購読: 2 件" in text
    assert "（リクエスト 3 回）" in text
    assert "このチャンネルでウォッチ中のジョブ（/tune watch と購読）: 2 件" in text
    assert "`/invite @tuning-bot` で招待してください" in text
    assert "Slack がボットの投稿を一時的に制限しました" in text


def test_debug_of_a_quiet_channel() -> None:
    _, blocks = debug_message(ChannelDebug(CHANNEL), language="en")
    text = _text(blocks)
    assert "*Subscriptions: 0*\\nNone." in text
    assert "*Jobs this channel follows (watched or subscribed): 0*" in text
    assert "None lately." in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_debug_caps_its_lists_and_says_how_many_were_left_out(language: str) -> None:
    subs = tuple(
        _sub(
            f"project-{i:03d}/us-central1",
            "name:" + "&" * 128 + "*",
            access_error="<" * 3000,
            number=i,
        )
        for i in range(200)
    )
    report = _report(
        subscriptions=subs,
        reads={s.location: LocationRead(NOW, 5, "<" * 3000) for s in subs},
        followed=5000,
        followed_sample=tuple("<!channel>" + "名" * 200 for _ in range(500)),
        delivery_errors=tuple(DeliveryError(NOW, "x" * 500, "<" * 500) for _ in range(300)),
    )
    fallback, blocks = debug_message(report, language=language)
    _check_message(blocks, fallback)
    text = _text(blocks)
    assert "<!channel>" not in text
    for part in blocks[1:]:
        assert len(part["text"]["text"]) <= 3000
    followed = blocks[4]["text"]["text"]
    shown = followed.count("\n• ") + followed.startswith("• ")
    assert translate(language, "subs.left_out", count=5000 - shown) in followed
    errors = blocks[5]["text"]["text"]
    assert translate(language, "subs.left_out", count=300 - errors.count("<!date^")) in errors


def test_the_help_lists_the_subscription_commands() -> None:
    for language in LANGUAGES:
        fallback, blocks = help_message(language)
        _check_message(blocks, fallback)
        text = _text(blocks)
        for verb in ("subscribe", "unsubscribe", "subscriptions", "settings", "debug"):
            assert f"/tune {verb}" in text


@pytest.mark.parametrize(
    ("words", "shown"),
    [
        (["label:Team=nlp"], "`label:team=nlp`"),
        (["events:sometimes"], "`events:ended`"),
        (["my_project"], "`my-project`"),
        (["p-project/Europe"], "`my-project/us-central1`"),
        (["my-project", "nonsense"], "`label:team=nlp`"),
        (["label:team"], "`label:team=nlp`"),
        (["name:"], "`name:support-*`"),
        (["model:Gemini 2"], "`model:gemini-2.5-flash`"),
        (
            ["label:a=b"] * 25,
            "`/tune subscribe my-project/us-central1 label:team=nlp events:failed`",
        ),
        ([f"label:k{i}=v" for i in range(17)], "`label:KEY=VALUE`"),
    ],
)
def test_each_mistake_in_subscribe_says_the_right_form(words: list[str], shown: str) -> None:
    with pytest.raises(DomainError) as raised:
        parse_subscription(words, DEFAULT)
    problem = raised.value.problem
    assert problem.key.startswith("subs.")
    assert shown in render("en", problem)
    assert shown in render("ja", problem)


def _submitted(
    view: dict[str, Any], *, cards: str, endings: str, broadcast: bool, mention: bool
) -> dict[str, Any]:
    """The view as Slack sends it back in a view_submission, with these choices made."""

    def radio(block: str, value: str) -> dict[str, Any]:
        block_dict = next(b for b in view["blocks"] if b.get("block_id") == block)
        option = next(o for o in block_dict["element"]["options"] if o["value"] == value)
        return {block: {"type": "radio_buttons", "selected_option": option}}

    def checkbox(block: str, checked: bool) -> dict[str, Any]:
        block_dict = next(b for b in view["blocks"] if b.get("block_id") == block)
        options = block_dict["element"]["options"] if checked else []
        return {block: {"type": "checkboxes", "selected_options": options}}

    values = {
        ids.SETTINGS_CARDS: radio(ids.SETTINGS_CARDS, cards),
        ids.SETTINGS_ENDINGS: radio(ids.SETTINGS_ENDINGS, endings),
        ids.SETTINGS_BROADCAST: checkbox(ids.SETTINGS_BROADCAST, broadcast),
        ids.SETTINGS_MENTION: checkbox(ids.SETTINGS_MENTION, mention),
    }
    return {**view, "id": "V0SETTINGS", "state": {"values": values}}


def _initial(view: dict[str, Any]) -> dict[str, Any]:
    """The view submitted untouched: every input holds its initial value."""
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        element = block.get("element")
        if block["type"] != "input" or element is None:
            continue
        if element["type"] == "radio_buttons":
            state = {"type": "radio_buttons", "selected_option": element.get("initial_option")}
        else:
            state = {"type": "checkboxes", "selected_options": element.get("initial_options", [])}
        values[block["block_id"]] = {element["action_id"]: state}
    return {**view, "state": {"values": values}}


SETTINGS = [
    DEFAULT_SETTINGS,
    ChannelSettings(thread_endings=False, broadcast_success=False, cards=False),
    ChannelSettings(mention_on_failure=False),
    ChannelSettings(False, False, False, False),
]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("settings", SETTINGS)
def test_the_settings_modal_reads_back_what_it_was_opened_with(
    language: str, settings: ChannelSettings
) -> None:
    view = settings_modal(settings, channel_id=CHANNEL, language=language)
    View(**view).validate_json()
    assert view["callback_id"] == ids.CHANNEL_SETTINGS
    assert view["private_metadata"] == CHANNEL
    assert read_settings(_initial(view)) == (CHANNEL, settings)


def test_the_settings_modal_reads_back_changed_values() -> None:
    view = settings_modal(DEFAULT_SETTINGS, channel_id=CHANNEL, language="en")
    submitted = _submitted(
        view, cards=ids.SETTINGS_OFF, endings=ids.SETTINGS_TOP_LEVEL, broadcast=False, mention=True
    )
    assert read_settings(submitted) == (
        CHANNEL,
        ChannelSettings(
            thread_endings=False, broadcast_success=False, cards=False, mention_on_failure=True
        ),
    )
    off = settings_modal(
        ChannelSettings(False, False, False, False), channel_id=CHANNEL, language="ja"
    )
    submitted = _submitted(
        off, cards=ids.SETTINGS_ON, endings=ids.SETTINGS_THREAD, broadcast=True, mention=True
    )
    assert read_settings(submitted) == (CHANNEL, DEFAULT_SETTINGS)


def test_the_settings_modal_shows_the_choices_a_user_reads() -> None:
    view = settings_modal(ChannelSettings(thread_endings=False), channel_id=CHANNEL, language="en")
    text = json.dumps(view)
    assert view["title"]["text"] == "Channel settings"
    assert f"<#{CHANNEL}>" in text
    assert "Also show successful endings in the channel" in text
    assert "Mention whoever started a job from Slack when it fails" in text
    endings = next(b for b in view["blocks"] if b.get("block_id") == ids.SETTINGS_ENDINGS)
    assert endings["element"]["initial_option"]["text"]["text"] == (
        "Endings as messages of their own in the channel"
    )
    ja = settings_modal(DEFAULT_SETTINGS, channel_id=CHANNEL, language="ja")
    assert ja["title"]["text"] == "チャンネル設定"
    shown = json.dumps(ja, ensure_ascii=False)
    assert "Slack から開始したジョブが失敗したら実行者にメンションする" in shown


def test_reading_settings_tolerates_missing_values() -> None:
    assert read_settings({}) == ("", DEFAULT_SETTINGS)
    assert read_settings({"private_metadata": CHANNEL, "state": {"values": {}}}) == (
        CHANNEL,
        DEFAULT_SETTINGS,
    )
    broken = {
        "private_metadata": CHANNEL,
        "state": {
            "values": {
                ids.SETTINGS_CARDS: {ids.SETTINGS_CARDS: {"selected_option": None}},
                ids.SETTINGS_ENDINGS: "nonsense",
                ids.SETTINGS_MENTION: {ids.SETTINGS_MENTION: {"selected_options": []}},
            }
        },
    }
    assert read_settings(broken) == (CHANNEL, ChannelSettings(mention_on_failure=False))


def test_settings_saved_reply_lists_the_settings() -> None:
    text = settings_saved_reply(ChannelSettings(cards=False, broadcast_success=False), "en")
    assert text.startswith(":white_check_mark: Saved this channel's settings:")
    assert "• No status cards: endings only" in text
    assert ":heavy_minus_sign: Also show successful endings in the channel" in text
    assert ":white_check_mark: Mention whoever started a job from Slack when it fails" in text
    ja = settings_saved_reply(DEFAULT_SETTINGS, "ja")
    assert "このチャンネルの設定を保存しました" in ja
    assert "終了をジョブのカードのスレッドに返信" in ja


def test_a_subscription_spec_built_by_hand_renders_too() -> None:
    sub = Subscription(9, CHANNEL, SubscriptionSpec(DEFAULT), "U0BOB0002", NOW, NOW)
    assert "<@U0BOB0002>" in subscribed_notice(sub, language="ja")
