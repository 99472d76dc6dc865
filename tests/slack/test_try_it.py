"""Try it end to end: the button, the form, `/tune try`, and the answers posted in the thread."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from bot.slack.messages.ending import ending_message
from bot.tuning.states import JobState
from bot.vertex.wire import job_from_json
from bot.watch.model import NewWatch, WatchKind
from tests.fakes.slack_api import SlackCall
from tests.fakes.watch_store import seed_watch
from tests.slack.conftest import CHANNEL, PROJECT, REGION, BotUnderTest

USER = "U0ALICE01"
THREAD = "1700000000.000999"


def _succeeded(bot: BotUnderTest, *, watched: bool = True, **options: Any) -> str:
    name = bot.emulator.add_job(
        PROJECT, REGION, display_name="support-bot", state="JOB_STATE_SUCCEEDED", **options
    )
    if watched:
        seed_watch(
            bot.store,
            NewWatch(name, CHANNEL, USER, WatchKind.CREATED, JobState.SUCCEEDED, message_ts=THREAD),
        )
    return name


def _wait(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def _click_try(bot: BotUnderTest, name: str, reply: str = "click") -> None:
    payload = {
        "type": "block_actions",
        "user": {"id": USER},
        "channel": {"id": CHANNEL},
        "team": {"id": "T0000TEST"},
        "api_app_id": "A0TUNINGBOT",
        "response_url": bot.slack.response_url(reply),
        "actions": [
            {
                "type": "button",
                "action_id": "job_try",
                "block_id": "b",
                "value": name,
                "action_ts": "1.2",
            }
        ],
    }
    assert bot.interact(payload).status_code == 200


def _opened_view(bot: BotUnderTest) -> dict[str, Any]:
    return dict(bot.slack.wait_for("views.open")[-1].args["view"])


def _submit(
    bot: BotUnderTest,
    view: dict[str, Any],
    prompt: str,
    *,
    compare: bool = True,
    checkpoint: str | None = None,
    only_me: bool = False,
) -> None:
    values: dict[str, Any] = {
        "try_prompt": {"try_prompt": {"type": "plain_text_input", "value": prompt}},
        "try_temperature": {"try_temperature": {"type": "number_input", "value": "0.4"}},
        "try_options": {
            "try_options": {
                "type": "checkboxes",
                "selected_options": [{"value": "compare"}] if compare else [],
            }
        },
        "try_where": {
            "try_where": {
                "type": "radio_buttons",
                "selected_option": {"value": "only_me" if only_me else "thread"},
            }
        },
    }
    if checkpoint is not None:
        values["try_checkpoint"] = {
            "try_checkpoint": {"type": "static_select", "selected_option": {"value": checkpoint}}
        }
    payload = {
        "type": "view_submission",
        "user": {"id": USER},
        "view": {
            "id": "V0TRY0001",
            "type": "modal",
            "callback_id": view["callback_id"],
            "hash": "h1",
            "private_metadata": view["private_metadata"],
            "state": {"values": values},
        },
    }
    response = bot.interact(payload)
    assert response.status_code == 200
    assert response.content in (b"", b"{}") or json.loads(response.content) == {}


def _posted(bot: BotUnderTest, method: str = "chat.postMessage") -> SlackCall:
    return bot.slack.wait_for(method)[-1]


def _text(call: SlackCall) -> str:
    return json.dumps(call.args.get("blocks"), ensure_ascii=False) + str(call.args.get("text"))


def _generate_paths(bot: BotUnderTest) -> list[str]:
    return [path for method, path, _ in bot.emulator.received if method.startswith("generate")]


@pytest.mark.parametrize(
    ("locale", "tuned", "base"),
    [("en-US", "Tuned model", "Base model"), ("ja-JP", "チューニング済みモデル", "ベースモデル")],
)
def test_try_from_the_ending_button_answers_both_models_in_the_thread(
    bot: BotUnderTest, locale: str, tuned: str, base: str
) -> None:
    bot.slack.locales[USER] = locale
    name = _succeeded(bot)
    _click_try(bot, name)
    view = _opened_view(bot)
    assert view["callback_id"] == "tuning_job_try"
    blocks = {b.get("block_id") for b in view["blocks"]}
    assert {
        "try_prompt",
        "try_system",
        "try_temperature",
        "try_max_tokens",
        "try_options",
    } <= blocks
    assert "try_checkpoint" in blocks  # three epochs, three checkpoints
    _submit(bot, view, "What is <b> & co?")
    posted = _posted(bot)
    assert posted.args["thread_ts"] == THREAD
    text = _text(posted)
    assert tuned in text
    assert base in text
    assert "tuned answer to: What is &lt;b&gt; &amp; co?" in text
    assert "base answer to: What is &lt;b&gt; &amp; co?" in text
    assert "gemini-2.5-flash" in text
    paths = _generate_paths(bot)
    assert len(paths) == 2
    assert any("/publishers/google/models/gemini-2.5-flash:generateContent" in p for p in paths)
    sent = next(body for method, _, body in bot.emulator.received if method == "generate_tuned")
    assert sent["generationConfig"]["temperature"] == 0.4


def test_without_comparison_only_the_tuned_model_is_asked(bot: BotUnderTest) -> None:
    name = _succeeded(bot)
    _click_try(bot, name)
    _submit(bot, _opened_view(bot), "hello", compare=False)
    text = _text(_posted(bot))
    assert "tuned answer to: hello" in text
    assert "base answer" not in text
    assert bot.emulator.counts["generate_base"] == 0


def test_a_chosen_checkpoint_endpoint_is_called(bot: BotUnderTest) -> None:
    name = _succeeded(bot)
    first = bot.emulator.get(name)["tunedModel"]["checkpoints"][0]["endpoint"]
    _click_try(bot, name)
    _submit(bot, _opened_view(bot), "hello", checkpoint="1")
    text = _text(_posted(bot))
    assert "checkpoint 1" in text
    assert f"{first}:generateContent" in _generate_paths(bot)[0]


def test_only_me_posts_ephemerally(bot: BotUnderTest) -> None:
    name = _succeeded(bot)
    _click_try(bot, name)
    _submit(bot, _opened_view(bot), "hello", only_me=True)
    posted = _posted(bot, "chat.postEphemeral")
    assert posted.args["user"] == USER
    assert "tuned answer to: hello" in _text(posted)
    assert bot.slack.calls_to("chat.postMessage") == []


def test_inline_prompt_answers_without_the_form(bot: BotUnderTest) -> None:
    name = _succeeded(bot)
    job_id = name.rsplit("/", 1)[-1]
    bot.command(f"try {job_id} Write a haiku\nabout tuning")
    text = _text(_posted(bot))
    assert "```Write a haiku\\nabout tuning```" in text  # the prompt as typed
    assert "tuned answer to: Write a haiku about tuning" in text
    assert bot.slack.calls_to("views.open") == []
    assert bot.emulator.counts["generate_tuned"] == 1
    assert bot.emulator.counts["generate_base"] == 1


def test_the_success_ending_and_job_detail_offer_try_it(bot: BotUnderTest) -> None:
    name = _succeeded(bot)
    job = job_from_json(bot.emulator.get(name))
    _, blocks = ending_message(job, started_by=USER, language="en")
    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    [try_it] = [e for e in buttons if e.get("action_id") == "job_try"]
    assert try_it["value"] == name
    bot.command(f"get {name.rsplit('/', 1)[-1]}")
    assert '"job_try"' in json.dumps(bot.replies()[0].get("blocks"))


def test_try_without_prompt_opens_the_form(bot: BotUnderTest) -> None:
    name = _succeeded(bot)
    bot.command(f"try {name.rsplit('/', 1)[-1]}")
    assert _opened_view(bot)["callback_id"] == "tuning_job_try"


@pytest.mark.parametrize(
    ("status", "options", "expected"),
    [
        (404, {}, "still being deployed"),
        (400, {"message": "Endpoint is not deployed yet."}, "still being deployed"),
        (429, {"times": 5}, "quota"),
        (403, {}, "denied the bot permission"),
    ],
)
def test_an_error_on_the_tuned_side_keeps_the_base_answer(
    bot: BotUnderTest, status: int, options: dict[str, Any], expected: str
) -> None:
    name = _succeeded(bot)
    bot.emulator.inject("generate_tuned", status, **options)
    bot.command(f"try {name.rsplit('/', 1)[-1]} hello")
    text = _text(_posted(bot))
    assert expected in text
    assert "base answer to: hello" in text


def test_an_error_on_the_base_side_keeps_the_tuned_answer(bot: BotUnderTest) -> None:
    name = _succeeded(bot)
    bot.emulator.inject("generate_base", 403)
    bot.command(f"try {name.rsplit('/', 1)[-1]} hello")
    text = _text(_posted(bot))
    assert "tuned answer to: hello" in text
    assert "denied the bot permission" in text


def test_not_deployed_in_japanese(bot: BotUnderTest) -> None:
    bot.slack.locales[USER] = "ja-JP"
    name = _succeeded(bot)
    bot.emulator.inject("generate_tuned", 404)
    bot.command(f"try {name.rsplit('/', 1)[-1]} hello")
    assert "デプロイ中" in _text(_posted(bot))


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ({"block_reason": "SAFETY"}, "Google blocked the prompt (`SAFETY`)"),
        ({"finish_reason": "SAFETY"}, "safety filters stopped the answer (`SAFETY`)"),
    ],
)
def test_safety_blocks_say_which(bot: BotUnderTest, fault: dict[str, str], expected: str) -> None:
    name = _succeeded(bot)
    bot.emulator.inject("generate_tuned", 200, **fault)
    bot.command(f"try {name.rsplit('/', 1)[-1]} hello")
    text = _text(_posted(bot))
    assert expected in text
    assert "base answer to: hello" in text


def test_a_job_that_has_not_succeeded_is_refused(bot: BotUnderTest) -> None:
    name = bot.emulator.add_job(PROJECT, REGION, state="JOB_STATE_RUNNING")
    bot.command(f"try {name.rsplit('/', 1)[-1]} hello")
    reply = bot.replies()[0]
    assert "has not succeeded" in str(reply.get("text"))
    assert _generate_paths(bot) == []


def test_a_long_answer_is_cut_and_uploaded_whole_in_the_thread(bot: BotUnderTest) -> None:
    name = _succeeded(bot)
    bot.command(f"try {name.rsplit('/', 1)[-1]} give me a long answer please")
    posted = _posted(bot)
    for block in posted.args["blocks"]:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
    assert "full text is in the file below" in _text(posted)
    completes = bot.slack.wait_for("files.completeUploadExternal", count=2)
    assert bot.slack.calls_to("files.getUploadURLExternal")
    threads = {c.args.get("thread_ts") for c in completes}
    assert threads == {THREAD}
    contents = list(bot.slack.uploads.values())
    assert all(len(c) > 3000 for c in contents)
    assert any(b"tuned answer to: give me a long answer please" in c for c in contents)


def test_the_audit_row_has_the_prompt_length_not_the_text(bot: BotUnderTest) -> None:
    name = _succeeded(bot)
    bot.command(f"try {name.rsplit('/', 1)[-1]} my secret prompt")
    _posted(bot)
    _wait(lambda: any(e.action == "try" for e in bot.store.audit_entries()))
    entry = next(e for e in bot.store.audit_entries() if e.action == "try")
    assert entry.actor == USER
    assert entry.outcome == "ok"
    assert entry.job_name is not None
    assert entry.job_name.endswith(name.rsplit("/", 1)[-1])
    assert "prompt_chars=16" in (entry.detail or "")
    assert all("secret" not in (e.detail or "") for e in bot.store.audit_entries())
