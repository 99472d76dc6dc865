"""What the create form looks like to a user: its view JSON and the answers to its submission,
in English and Japanese."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from typing import Any

import pytest

from bot.slack.messages.create_form import ModalMetadata, create_modal
from bot.tuning.catalogue import default_catalogue
from bot.tuning.refs import Location
from tests.fakes.gcs import FakeGcs
from tests.slack.conftest import CHANNEL, PROJECT, REGION, BotUnderTest, jsonl
from tests.slack.test_create_modal import submission

MRKDWN_MARKS = ("`", "&amp;", "&lt;", "&gt;", "*")
TODAY = dt.date(2026, 12, 4)


def _modal(language: str, **kwargs: Any) -> dict[str, Any]:
    return create_modal(
        language,
        catalogue=default_catalogue(),
        today=TODAY,
        metadata=ModalMetadata(CHANNEL, language),
        location=Location(PROJECT, REGION),
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
    if language == "ja":
        # No spaces around full-width quotes.
        assert "「https://example.com/a&b/train.jsonl」は" in training
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


def _block(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)


@pytest.mark.parametrize(
    ("language", "current", "retired"),
    [("en", "Current models", "Retired models"), ("ja", "現行モデル", "提供終了モデル")],
)
def test_models_are_grouped_current_then_retired(language: str, current: str, retired: str) -> None:
    element = _block(_modal(language), "base_model")["element"]
    assert "options" not in element
    groups = element["option_groups"]
    assert [g["label"]["text"].split("（")[0].split(" (")[0] for g in groups] == [current, retired]
    assert all(len(g["label"]["text"]) <= 75 for g in groups)
    in_current = [o["value"] for o in groups[0]["options"]]
    in_retired = [o["value"] for o in groups[1]["options"]]
    # On 2026-12-04 the three 3.x models are current; the 2.5 ones retired in October.
    assert in_current == ["gemini-3.5-flash", "gemini-3.1-flash-lite", "gemini-3.5-flash-lite"]
    assert len(in_retired) == 8
    assert "gemini-2.5-flash" in in_retired
    assert element["initial_option"]["value"] == "gemini-3.5-flash"


def test_retiring_models_stay_with_the_current_ones_until_their_date() -> None:
    view = create_modal(
        "en",
        catalogue=default_catalogue(),
        today=dt.date(2026, 9, 1),
        metadata=ModalMetadata(CHANNEL, "en"),
        location=Location(PROJECT, REGION),
    )
    current = _block(view, "base_model")["element"]["option_groups"][0]["options"]
    labels = [o["text"]["text"] for o in current]
    assert "Gemini 2.5 Flash (retiring)" in labels


@pytest.mark.parametrize("language", ["en", "ja"])
def test_epochs_and_multiplier_are_number_inputs(language: str) -> None:
    view = _modal(language, values={"epochs": "3", "learning_rate_multiplier": "0.5"})
    epochs = _block(view, "epochs")["element"]
    assert epochs["type"] == "number_input"
    assert epochs["is_decimal_allowed"] is False
    limits = default_catalogue().limits
    assert (epochs["min_value"], epochs["max_value"]) == (
        str(limits.min_epochs),
        str(limits.max_epochs),
    )
    assert epochs["initial_value"] == "3"
    multiplier = _block(view, "learning_rate_multiplier")["element"]
    assert multiplier["type"] == "number_input"
    assert multiplier["is_decimal_allowed"] is True
    assert multiplier["max_value"] == "100"
    assert multiplier["initial_value"] == "0.5"
    # The hints state the same range the inputs enforce.
    assert "100" in _block(view, "epochs")["hint"]["text"]


def test_a_refill_that_is_not_a_number_leaves_the_number_input_empty() -> None:
    view = _modal("en", values={"epochs": "many", "learning_rate_multiplier": "1e999"})
    assert "initial_value" not in _block(view, "epochs")["element"]
    assert "initial_value" not in _block(view, "learning_rate_multiplier")["element"]


def _number_input(value: str | None) -> dict[str, Any]:
    return {"type": "number_input", "value": value}


def test_number_inputs_are_read_from_the_submission(bot: BotUnderTest) -> None:
    payload = submission(display_name="numbers")
    values = payload["view"]["state"]["values"]
    values["epochs"] = {"epochs": _number_input("4")}
    values["learning_rate_multiplier"] = {"learning_rate_multiplier": _number_input("0.5")}
    assert bot.interact(payload).json()["response_action"] == "update"
    bot.slack.wait_for("chat.postMessage")
    (body,) = [body for method, _, body in bot.emulator.received if method == "create"]
    hyper = body["supervisedTuningSpec"]["hyperParameters"]
    assert hyper["epochCount"] == "4"
    assert hyper["learningRateMultiplier"] == 0.5


def test_an_out_of_range_number_comes_back_under_its_field(bot: BotUnderTest) -> None:
    payload = submission()
    payload["view"]["state"]["values"]["epochs"] = {"epochs": _number_input("500")}
    answer = bot.interact(payload).json()
    assert answer["response_action"] == "errors"
    assert "100" in answer["errors"]["epochs"]


@pytest.mark.parametrize(
    ("language", "words"), [("en", ("project", "region")), ("ja", ("プロジェクト", "リージョン"))]
)
def test_the_form_says_where_the_job_runs(
    bot: BotUnderTest, language: str, words: tuple[str, str]
) -> None:
    view = _modal(language)
    contexts = [b for b in view["blocks"] if b["type"] == "context"]
    text = contexts[0]["elements"][0]["text"]
    assert f"`{PROJECT}`" in text
    assert f"`{REGION}`" in text
    assert all(word in text for word in words)
    # The form the command opens names the bot's own project and region.
    bot.command("")
    opened = bot.slack.wait_for("views.open")[0].args["view"]
    assert f"`{PROJECT}`" in json.dumps(opened, ensure_ascii=False)


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "Text only."), ("ja", "テキストのみ対応しています。")],
)
def test_the_model_note_is_in_the_users_language(language: str, expected: str) -> None:
    view = _modal(language, values={"base_model": "gemini-1.0-pro-002"})
    shown = json.dumps(view, ensure_ascii=False)
    assert expected in shown
    other = "テキストのみ" if language == "en" else "Text only."
    assert other not in shown
    assert "preview" not in shown


def test_a_model_without_a_note_shows_none() -> None:
    view = _modal("en", values={"base_model": "gemini-3.5-flash"})
    assert ":information_source:" not in json.dumps(view)
    assert "translated page" not in json.dumps(
        _modal("en", values={"base_model": "gemini-3.5-flash-lite"})
    )


def _updated_view(bot: BotUnderTest) -> dict[str, Any]:
    view = bot.slack.wait_for("views.update")[-1].args["view"]
    assert isinstance(view, dict)
    return view


@pytest.mark.parametrize(
    ("language", "anyway", "heading"),
    [("en", "Start anyway", "*Warnings*"), ("ja", "このまま開始", "*警告*")],
)
def test_after_warnings_submit_reads_start_anyway(
    bot: BotUnderTest, gcs: FakeGcs, language: str, anyway: str, heading: str
) -> None:
    gcs.put("team-data", "small.jsonl", jsonl(5))
    bot.interact(
        submission(
            view_id="V0ANYWAY1", language=language, training_dataset="gs://team-data/small.jsonl"
        )
    )
    view = _updated_view(bot)
    assert view["submit"]["text"] == anyway
    banner = view["blocks"][0]["text"]["text"]
    assert heading in banner.split("\n")
    assert anyway in banner  # the lead names the button to press


def test_after_errors_submit_keeps_its_label(bot: BotUnderTest, gcs: FakeGcs) -> None:
    gcs.put("team-data", "broken.jsonl", b"{broken\n")
    bot.interact(submission(view_id="V0ERRORS1", training_dataset="gs://team-data/broken.jsonl"))
    view = _updated_view(bot)
    assert view["submit"]["text"] == "Start tuning"
    assert "*Errors*" in view["blocks"][0]["text"]["text"]


def test_japanese_labels_use_full_width_brackets_and_no_space_before_desu() -> None:
    view = _modal("ja", values={"base_model": "gemini-1.5-flash-002"})
    retired = _block(view, "base_model")["element"]["option_groups"][1]["options"]
    assert all(o["text"]["text"].endswith("（提供終了）") for o in retired)
    assert "(" not in json.dumps(retired, ensure_ascii=False)
    texts = [b["hint"]["text"] for b in view["blocks"] if "hint" in b]
    assert not any(" です" in text for text in texts), texts
    assert any("空欄の場合は 8です。" in text for text in texts)
