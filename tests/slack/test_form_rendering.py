"""What the create form looks like to a user: its view JSON and the answers to its submission,
in English and Japanese."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any

import pytest

from bot.slack.messages.create_form import ModalMetadata, create_modal
from bot.tuning.catalogue import default_catalogue
from tests.slack.conftest import CHANNEL, BotUnderTest
from tests.slack.test_create_modal import submission

MRKDWN_MARKS = ("`", "&amp;", "&lt;", "&gt;", "*")
TODAY = dt.date(2026, 12, 4)


def _modal(language: str, **kwargs: Any) -> dict[str, Any]:
    return create_modal(
        language,
        catalogue=default_catalogue(),
        today=TODAY,
        metadata=ModalMetadata(CHANNEL, language),
        **kwargs,
    )


@pytest.mark.parametrize("language", ["en", "ja"])
def test_errors_under_fields_are_plain_text(bot: BotUnderTest, language: str) -> None:
    answer = bot.interact(
        submission(
            language=language,
            training_dataset="https://example.com/a&b/train.jsonl",
            validation_dataset="gs://team-data/*.jsonl",
            epochs="many",
        )
    ).json()
    assert answer["response_action"] == "errors"
    errors = answer["errors"]
    assert set(errors) == {"training_dataset", "validation_dataset", "epochs"}
    training = errors["training_dataset"]
    # The user's value comes back as typed, quoted instead of in a code span.
    assert "https://example.com/a&b/train.jsonl" in training
    quote = "「" if language == "ja" else "“"
    assert quote + "https://example.com/a&b/train.jsonl" in training
    assert "gs://bucket/path.jsonl" in training
    # A wildcard in the value is kept: only the template's own markers go.
    assert "gs://team-data/*.jsonl" in errors["validation_dataset"]
    for text in (training, errors["epochs"]):
        for mark in MRKDWN_MARKS:
            assert mark not in text, (mark, text)
    assert all(len(text) <= 2000 for text in errors.values())


def test_a_very_long_value_keeps_the_error_within_slacks_limit(bot: BotUnderTest) -> None:
    answer = bot.interact(submission(training_dataset="https://x.example/" + "a" * 3990)).json()
    assert len(answer["errors"]["training_dataset"]) <= 2000


def _phone_width(text: str) -> float:
    """Width in full-width characters: what a phone shows of a modal's title and buttons."""
    return sum(1 if unicodedata.east_asian_width(c) in "WF" else 0.5 for c in text)


@pytest.mark.parametrize("language", ["en", "ja"])
def test_title_and_buttons_fit_a_phone(language: str) -> None:
    view = _modal(language)
    for part in ("title", "submit", "close"):
        text = view[part]["text"]
        assert len(text) <= 24
        assert _phone_width(text) <= 12, (part, text)
    for block in view["blocks"]:
        if block["type"] == "input":
            assert _phone_width(block["label"]["text"]) <= 12, block["label"]["text"]


def test_japanese_title_and_submit_are_short() -> None:
    view = _modal("ja")
    assert view["title"]["text"] == "チューニング ジョブ"
    assert view["submit"]["text"] == "開始"
