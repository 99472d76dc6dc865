"""Every `/tune` subcommand, end to end through the HTTP endpoint and the stand-ins."""

from __future__ import annotations

import pytest

from bot.tuning.states import JobState
from bot.watch.model import NewWatch, WatchKind
from tests.fakes.watch_store import seed_watch
from tests.slack.conftest import ADMIN, CHANNEL, PROJECT, REGION, BotUnderTest

CREATE_BLOCK_IDS = {
    "base_model",
    "training_dataset",
    "validation_dataset",
    "epochs",
    "adapter_size",
    "learning_rate_multiplier",
    "display_name",
}


def _text(reply: dict[str, object]) -> str:
    return str(reply.get("text", "")) + str(reply.get("blocks", ""))


def test_help_is_ephemeral_and_lists_every_subcommand(bot: BotUnderTest) -> None:
    assert bot.command("help").status_code == 200
    reply = bot.replies()[0]
    assert reply["response_type"] == "ephemeral"
    for word in ("list", "get", "cancel", "watch", "unwatch", "check"):
        assert f"/tune {word}" in _text(reply)


def test_help_in_japanese_for_a_japanese_user(bot: BotUnderTest) -> None:
    bot.slack.locales["U0HANAKO1"] = "ja-JP"
    bot.command("help", user="U0HANAKO1")
    reply = bot.replies()[0]
    assert "ジョブ" in _text(reply)
    # The second time the language is cached: the help comes in the ack itself.
    response = bot.command("help", user="U0HANAKO1", reply="r2")
    assert "ジョブ" in str(response.json())
    assert len(bot.slack.calls_to("users.info")) == 1


def test_unknown_text_gets_the_usage(bot: BotUnderTest) -> None:
    bot.command("frobnicate everything")
    reply = bot.replies()[0]
    assert "did not understand" in _text(reply)
    assert reply["response_type"] == "ephemeral"


def test_empty_command_opens_the_create_modal(bot: BotUnderTest) -> None:
    assert bot.command("").status_code == 200
    call = bot.slack.wait_for("views.open")[0]
    view = call.args["view"]
    assert call.args["trigger_id"].startswith("trigger.")
    assert view["callback_id"] == "tuning_job_create"
    block_ids = {b.get("block_id") for b in view["blocks"] if b["type"] == "input"}
    assert block_ids == CREATE_BLOCK_IDS
    assert '"c":"C0TUNING1"' in view["private_metadata"]
    model = next(b for b in view["blocks"] if b.get("block_id") == "base_model")
    assert model["dispatch_action"] is True
    assert model["element"]["initial_option"]["value"] == "gemini-3.5-flash"


def test_create_from_a_channel_outside_the_allow_list_is_refused(
    bot: BotUnderTest, env_extra: dict[str, str]
) -> None:
    bot.command("create", channel="C0RANDOM1")
    reply = bot.replies()[0]
    assert "cannot be run from this channel" in _text(reply)
    assert bot.slack.calls_to("views.open") == []
    assert [(e.action, e.outcome) for e in bot.store.audit_entries()] == [("create", "refused")]


@pytest.fixture
def env_extra() -> dict[str, str]:
    return {"TUNING_ALLOWED_CHANNELS": CHANNEL}


def test_list_shows_newest_first_and_pages(bot: BotUnderTest) -> None:
    names = [
        bot.emulator.add_job(PROJECT, REGION, display_name=f"job-{i}", state="JOB_STATE_RUNNING")
        for i in range(25)
    ]
    bot.command("list")
    first = bot.replies()[0]
    text = _text(first)
    assert first["response_type"] == "ephemeral"
    assert "job-24" in text
    assert "job-0*" not in text
    more = next(b for b in first["blocks"] if b["type"] == "actions")["elements"][0]
    assert more["action_id"] == "jobs_list_more"
    bot.interact(
        {
            "type": "block_actions",
            "user": {"id": "U0ALICE01"},
            "channel": {"id": CHANNEL},
            "response_url": bot.slack.response_url("more"),
            "actions": [{"action_id": "jobs_list_more", "value": more["value"], "type": "button"}],
        }
    )
    second = bot.replies("more")[0]
    assert "job-0*" in _text(second)
    assert second["replace_original"] in (True, "true")
    assert len(names) == 25
    assert bot.emulator.counts["list"] == 2  # "More" resumes at Google's page token


def test_a_sparse_state_filter_gathers_matches_from_later_pages(bot: BotUnderTest) -> None:
    for name in ("old-win", "older-win"):
        bot.emulator.add_job(PROJECT, REGION, display_name=name, state="JOB_STATE_SUCCEEDED")
    for i in range(30):
        bot.emulator.add_job(PROJECT, REGION, display_name=f"busy-{i}", state="JOB_STATE_RUNNING")
    bot.command("list succeeded")
    text = _text(bot.replies()[0])
    assert "old-win" in text
    assert "older-win" in text
    assert "busy-" not in text


def test_list_filter_keeps_only_matching_states(bot: BotUnderTest) -> None:
    bot.emulator.add_job(PROJECT, REGION, display_name="still-running", state="JOB_STATE_RUNNING")
    bot.emulator.add_job(PROJECT, REGION, display_name="all-done", state="JOB_STATE_SUCCEEDED")
    bot.command("list succeeded")
    text = _text(bot.replies()[0])
    assert "all-done" in text
    assert "still-running" not in text


def test_get_shows_the_job_in_detail(bot: BotUnderTest) -> None:
    name = bot.emulator.add_job(
        PROJECT, REGION, display_name="support-v3", state="JOB_STATE_SUCCEEDED"
    )
    job_id = name.rsplit("/", 1)[-1]
    bot.command(f"get {job_id}")
    reply = bot.replies()[0]
    text = _text(reply)
    assert reply["response_type"] == "ephemeral"
    assert "support-v3" in text
    assert name in text
    assert "gs://b/train.jsonl" in text
    assert "Succeeded" in text


def test_get_of_an_unknown_job_says_so(bot: BotUnderTest) -> None:
    bot.command("get 999999")
    text = _text(bot.replies()[0])
    assert "Google has no such job" in text
    assert bot.job_name("999999") in text


def test_get_with_a_malformed_reference_explains_the_format(bot: BotUnderTest) -> None:
    bot.command("get not-a-job")
    text = _text(bot.replies()[0])
    assert "is not a tuning job" in text
    assert bot.emulator.counts["get"] == 0


def _watched_job(bot: BotUnderTest, starter: str) -> str:
    name = bot.emulator.add_job(PROJECT, REGION, display_name="owned", state="JOB_STATE_RUNNING")
    seed_watch(
        bot.store,
        NewWatch(name, CHANNEL, starter, WatchKind.CREATED, JobState.RUNNING, message_ts="1.2"),
    )
    return name


def test_owner_may_cancel(bot: BotUnderTest) -> None:
    name = _watched_job(bot, "U0ALICE01")
    bot.command(f"cancel {name}")
    assert "Cancellation of" in _text(bot.replies()[0])
    assert bot.emulator.counts["cancel"] == 1
    assert ("cancel", "ok") in [(e.action, e.outcome) for e in bot.store.audit_entries()]


def test_cancel_that_google_refuses_says_why_and_what_to_do(bot: BotUnderTest) -> None:
    name = _watched_job(bot, "U0ALICE01")
    bot.emulator.inject(
        "cancel", 403, message="Permission 'aiplatform.tuningJobs.cancel' denied on resource"
    )
    bot.command(f"cancel {name}")
    text = _text(bot.replies()[0])
    assert "Google denied permission" in text
    assert "aiplatform.tuningJobs.cancel" in text
    assert PROJECT in text  # which project the role is needed in
    assert ("cancel", "failed") in [(e.action, e.outcome) for e in bot.store.audit_entries()]


def test_a_listing_google_keeps_rate_limiting_says_so(bot: BotUnderTest) -> None:
    bot.emulator.inject("list", 429, times=10, message="Quota exceeded for read requests")
    bot.command("list")
    text = _text(bot.replies(timeout=30.0)[0])
    # Google answered every time: not "did not answer in time".
    assert "limiting requests to this project" in text
    assert "Quota exceeded for read requests" in text
    assert "tried 5 times" in text
    assert "did not answer" not in text
    assert bot.emulator.counts["list"] == 5


def test_admin_may_cancel_any_job(bot: BotUnderTest) -> None:
    name = _watched_job(bot, "U0ALICE01")
    bot.command(f"cancel {name.rsplit('/', 1)[-1]}", user=ADMIN)
    assert "Cancellation of" in _text(bot.replies()[0])
    assert bot.emulator.counts["cancel"] == 1


def test_someone_else_may_not_cancel(bot: BotUnderTest) -> None:
    name = _watched_job(bot, "U0ALICE01")
    bot.command(f"cancel {name}", user="U0MALLORY")
    reply = bot.replies()[0]
    assert "only the person who started this job from Slack" in _text(reply)
    assert reply["response_type"] == "ephemeral"
    assert bot.emulator.counts["cancel"] == 0
    refused = [e for e in bot.store.audit_entries() if e.outcome == "refused"]
    assert [(e.actor, e.action, e.job_name) for e in refused] == [("U0MALLORY", "cancel", name)]


def test_cancel_button_goes_through_the_same_check(bot: BotUnderTest) -> None:
    name = _watched_job(bot, "U0ALICE01")
    payload = {
        "type": "block_actions",
        "channel": {"id": CHANNEL},
        "response_url": bot.slack.response_url("button"),
        "actions": [{"action_id": "job_cancel", "value": name, "type": "button"}],
    }
    bot.interact({**payload, "user": {"id": "U0MALLORY"}})
    assert "only the person" in _text(bot.replies("button")[0])
    assert bot.emulator.counts["cancel"] == 0
    bot.interact({**payload, "user": {"id": "U0ALICE01"}})
    assert "Cancellation of" in _text(bot.replies("button", 2)[1])
    assert bot.emulator.counts["cancel"] == 1


def test_watch_posts_a_status_card_and_stores_the_watch(bot: BotUnderTest) -> None:
    name = bot.emulator.add_job(PROJECT, REGION, display_name="from-ci", state="JOB_STATE_RUNNING")
    bot.command(f"watch {name}")
    assert "now follows" in _text(bot.replies()[0])
    card = bot.slack.calls_to("chat.postMessage")[0]
    assert card.args["channel"] == CHANNEL
    assert "from-ci" in str(card.args["blocks"])
    (watch,) = bot.store.all_watches()
    assert (watch.job_name, watch.kind) == (name, WatchKind.WATCHED)
    assert watch.message_ts is not None
    bot.command(f"unwatch {name}", reply="r2")
    assert "no longer follows" in _text(bot.replies("r2")[0])
    assert bot.store.all_watches() == []
    actions = [(e.action, e.outcome) for e in bot.store.audit_entries()]
    assert ("watch", "ok") in actions
    assert ("unwatch", "ok") in actions


def test_watch_of_an_unknown_job_is_a_clear_message(bot: BotUnderTest) -> None:
    bot.command("watch 424242")
    assert "Google has no such job" in _text(bot.replies()[0])
    assert bot.slack.calls_to("chat.postMessage") == []
    assert bot.store.all_watches() == []


def test_watch_in_a_channel_without_the_bot_asks_for_an_invite(bot: BotUnderTest) -> None:
    name = bot.emulator.add_job(PROJECT, REGION, state="JOB_STATE_RUNNING")
    bot.slack.fail("chat.postMessage", "not_in_channel")
    bot.command(f"watch {name}")
    assert "/invite" in _text(bot.replies()[0])
    assert bot.store.all_watches() == []


def test_the_modal_opens_in_time_even_when_users_info_hangs(bot: BotUnderTest) -> None:
    release = bot.slack.hold("users.info")
    try:
        bot.command("", user="U0SLOWLOC")
        view = bot.slack.wait_for("views.open", timeout=5)[0].args["view"]
    finally:
        release.set()
    assert view["title"]["text"] == "New tuning job"  # English while the language is unknown


def test_cancelling_a_job_that_is_already_cancelled_is_not_an_error(bot: BotUnderTest) -> None:
    # What a user sees when a retried cancel finds its first attempt already took effect.
    name = _watched_job(bot, "U0ALICE01")
    bot.emulator.set_state(name, "JOB_STATE_CANCELLED")
    bot.command(f"cancel {name}")
    text = _text(bot.replies()[0])
    assert text.endswith("is cancelled.")
    assert bot.emulator.counts["cancel"] == 1


def test_a_form_slack_will_not_open_is_reported_to_the_user(bot: BotUnderTest) -> None:
    bot.slack.fail("views.open", "expired_trigger_id")
    bot.command("create")
    text = _text(bot.replies()[0])
    assert "did not let the bot open the form (expired_trigger_id)" in text


def test_a_broken_database_gets_an_answer_not_silence(bot: BotUnderTest) -> None:
    from sqlalchemy import text as sql

    name = bot.emulator.add_job(PROJECT, REGION, display_name="db-down", state="JOB_STATE_RUNNING")
    with bot.store.engine.begin() as conn:
        conn.execute(sql("DROP TABLE watches"))
    bot.command(f"watch {name}")
    assert "Something went wrong on the bot's side" in _text(bot.replies()[0])
    bot.command("get 123", reply="after")  # and the bot goes on answering
    assert "Google has no such job" in _text(bot.replies("after")[0])


def test_backticks_in_what_a_user_typed_cannot_break_out_of_a_code_span(
    bot: BotUnderTest,
) -> None:
    bot.command("watch x`*PWN*`y")
    text = str(bot.replies()[0]["text"])
    # The echoed reference stays one code span: no backtick of the user's closes it early.
    assert "`x'*PWN*'y`" in text
    assert text.count("`") % 2 == 0
