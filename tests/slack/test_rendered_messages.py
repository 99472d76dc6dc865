"""What users read, checked on the Block Kit the bot renders, in both languages."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest

from bot.slack.messages.help import help_message
from bot.slack.messages.status_card import render_status_card
from bot.tuning.job import TuningJob
from bot.tuning.refs import JobRef
from bot.tuning.states import JobState

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
# Slack's control sequences: <@U…>, <#C…>, <!here>, <http…|…>; anything else in angle
# brackets is swallowed by the client.
SLACK_SEQUENCE = re.compile(r"<(?:[@#!]|https?://)[^<>]*>")


def _texts(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [value["text"]] if value.get("type") == "mrkdwn" else []
        return found + [t for inner in value.values() for t in _texts(inner)]
    if isinstance(value, list):
        return [t for inner in value for t in _texts(inner)]
    return []


@pytest.mark.parametrize("language", ["en", "ja"])
def test_help_placeholders_reach_the_reader_instead_of_vanishing(language: str) -> None:
    _, blocks = help_message(language)
    texts = _texts(blocks)

    for text in texts:
        assert "<" not in SLACK_SEQUENCE.sub("", text), text
    joined = "\n".join(texts)
    assert "/tune get &lt;job&gt;" in joined
    assert "/tune check &lt;gs://bucket/file.jsonl&gt;" in joined
    assert "`&lt;job&gt;`" in joined  # the footnote that explains the placeholder


def _cancel_confirm(language: str) -> dict[str, Any]:
    job = TuningJob(
        ref=JobRef("test-project", "us-central1", "4242"),
        state=JobState.RUNNING,
        base_model="gemini-3.5-flash",
        display_name="support-bot",
    )
    _, blocks = render_status_card(job, started_by="U0ALICE01", language=language)
    [button] = [
        element
        for block in blocks
        for element in block.get("elements", [])
        if element.get("action_id") == "job_cancel"
    ]
    confirm: dict[str, Any] = button["confirm"]
    return confirm


@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_cancel_confirmation_is_drawn_as_destructive(language: str) -> None:
    assert _cancel_confirm(language)["style"] == "danger"


def test_the_japanese_cancel_dialog_says_stop_not_cancel_beside_slacks_own_cancel() -> None:
    confirm = _cancel_confirm("ja")

    assert confirm["title"]["text"] == "ジョブを中止しますか？"
    assert confirm["confirm"]["text"] == "中止する"
    assert confirm["deny"]["text"] == "実行を続ける"
    # Slack's own close button already reads 「キャンセル」: nothing in the dialog may.
    assert "キャンセル" not in json.dumps(confirm, ensure_ascii=False)


@pytest.mark.parametrize("language", ["en", "ja"])
def test_a_failed_job_shows_googles_status_name_not_its_number(language: str) -> None:
    from bot.slack.messages.job_detail import job_detail_message
    from bot.tuning.job import JobError

    job = TuningJob(
        ref=JobRef("test-project", "us-central1", "4242"),
        state=JobState.FAILED,
        base_model="gemini-3.5-flash",
        error=JobError(3, "Dataset has 3 invalid lines."),
    )
    _, blocks = job_detail_message(job, language=language, now=NOW)
    joined = "\n".join(_texts(blocks))

    assert "Dataset has 3 invalid lines. `INVALID_ARGUMENT`" in joined
    assert "(3)" not in joined


@pytest.mark.parametrize("language", ["en", "ja"])
@pytest.mark.parametrize("state", [JobState.SUCCEEDED, JobState.PARTIALLY_SUCCEEDED])
def test_a_successful_ending_notifies_whoever_started_the_job(
    language: str, state: JobState
) -> None:
    from bot.slack.messages.ending import ending_message

    job = TuningJob(
        ref=JobRef("test-project", "us-central1", "4242"), state=state, display_name="support-bot"
    )
    text, blocks = ending_message(job, started_by="U0ALICE01", language=language)

    # The mention must be in the headline: Slack notifies from the message text and blocks.
    assert "<@U0ALICE01>" in text
    assert "<@U0ALICE01>" in _texts(blocks)[0]


@pytest.mark.parametrize(
    ("language", "said"), [("en", "does not stop the check"), ("ja", "閉じても")]
)
def test_the_checking_view_says_closing_it_does_not_stop_the_job(language: str, said: str) -> None:
    from bot.i18n import translate
    from bot.slack.messages.create_form import message_modal

    view = message_modal(language, translate(language, "modal.checking"))

    assert said in "\n".join(_texts(view["blocks"]))
