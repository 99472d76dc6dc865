"""Submitting the create modal: validation, the job Google receives, the channel message."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest

from bot.tuning.submission_key import SUBMISSION_LABEL
from bot.watch.model import WatchKind
from tests.slack.conftest import CHANNEL, BotUnderTest

USER = "U0ALICE01"


def _value(block_id: str, value: str | None) -> dict[str, Any]:
    if block_id in ("base_model", "adapter_size"):
        option = {"value": value, "text": {"type": "plain_text", "text": str(value)}}
        return {"type": "static_select", "selected_option": option if value else None}
    if block_id in ("epochs", "learning_rate_multiplier"):
        # Number inputs send the typed number as a string too.
        return {"type": "number_input", "value": value}
    return {"type": "plain_text_input", "value": value}


def submission(
    view_id: str = "V0CREATE1", language: str = "en", **values: str | None
) -> dict[str, Any]:
    """A view_submission payload as Slack sends it for the create modal."""
    fields = {"base_model": "gemini-3.5-flash", "training_dataset": "gs://team-data/train.jsonl"}
    fields.update(values)
    return {
        "type": "view_submission",
        "user": {"id": USER},
        "view": {
            "id": view_id,
            "type": "modal",
            "callback_id": "tuning_job_create",
            "hash": "h1",
            "private_metadata": json.dumps({"c": CHANNEL, "l": language}),
            "state": {"values": {k: {k: _value(k, v)} for k, v in fields.items()}},
        },
    }


def _wait(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def test_bad_values_come_back_under_their_fields_and_nothing_reaches_google(
    bot: BotUnderTest,
) -> None:
    payload = submission(
        training_dataset="https://example.com/train.jsonl",
        epochs="many",
        learning_rate_multiplier="-1",
        adapter_size="3",
    )
    response = bot.interact(payload)
    assert response.status_code == 200
    answer = response.json()
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {
        "training_dataset",
        "epochs",
        "learning_rate_multiplier",
        "adapter_size",
    }
    assert "gs://" in answer["errors"]["training_dataset"]
    time.sleep(0.2)
    assert sum(bot.emulator.counts.values()) == 0


def test_errors_in_japanese_for_a_japanese_form(bot: BotUnderTest) -> None:
    answer = bot.interact(submission(language="ja", epochs="0")).json()
    assert "エポック" in answer["errors"]["epochs"] or "1" in answer["errors"]["epochs"]
    assert answer["errors"]["epochs"] != "Epochs must be from 1 to 100."


def test_good_submission_creates_the_job_and_posts_one_channel_message(
    bot: BotUnderTest,
) -> None:
    payload = submission(
        validation_dataset="gs://team-data/val.jsonl",
        epochs="3",
        adapter_size="4",
        learning_rate_multiplier="0.5",
        display_name="support-v3",
    )
    answer = bot.interact(payload).json()
    assert answer["response_action"] == "update"
    post = bot.slack.wait_for("chat.postMessage")[0]
    creates = [body for method, _, body in bot.emulator.received if method == "create"]
    assert len(creates) == 1
    body = creates[0]
    assert body["baseModel"] == "gemini-3.5-flash"
    assert body["tunedModelDisplayName"] == "support-v3"
    spec = body["supervisedTuningSpec"]
    assert spec["trainingDatasetUri"] == "gs://team-data/train.jsonl"
    assert spec["validationDatasetUri"] == "gs://team-data/val.jsonl"
    assert spec["hyperParameters"] == {
        "epochCount": "3",
        "adapterSize": "ADAPTER_SIZE_FOUR",
        "learningRateMultiplier": 0.5,
    }
    assert len(body["labels"][SUBMISSION_LABEL]) == 40
    assert post.args["channel"] == CHANNEL
    card = json.dumps(post.args["blocks"])
    assert "support-v3" in card
    assert f"<@{USER}>" in card
    assert "console.cloud.google.com" in card
    _wait(lambda: len(bot.store.all_watches()) == 1)
    (watch,) = bot.store.all_watches()
    assert (watch.channel_id, watch.kind, watch.started_by) == (CHANNEL, WatchKind.CREATED, USER)
    assert watch.message_ts is not None
    _wait(lambda: ("create", "ok") in [(e.action, e.outcome) for e in bot.store.audit_entries()])
    done = bot.slack.wait_for("views.update", 2)[-1]  # "creating…", then the result
    assert done.args["view_id"] == "V0CREATE1"
    assert "support-v3" in json.dumps(done.args["view"])


def test_display_name_cannot_ping_the_channel(bot: BotUnderTest) -> None:
    bot.interact(submission(display_name="<!channel> hi <https://evil.example|x>"))
    post = bot.slack.wait_for("chat.postMessage")[0]
    # Slack interprets mrkdwn text objects and the fallback text; plain_text shows as typed.
    rendered = json.dumps(_mrkdwn_texts(post.args["blocks"])) + post.args["text"]
    assert "<!channel>" not in rendered
    assert "&lt;!channel&gt;" in rendered
    assert "<https://evil" not in rendered


def _mrkdwn_texts(value: Any) -> list[str]:
    if isinstance(value, dict):
        if value.get("type") == "mrkdwn" and isinstance(value.get("text"), str):
            return [value["text"]]
        return [t for v in value.values() for t in _mrkdwn_texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in _mrkdwn_texts(v)]
    return []


def _create_outcomes(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Outcomes of the create-modal deliveries whose handling has ended (one log line each)."""
    return [
        str(getattr(r, "outcome", ""))
        for r in list(caplog.records)
        if r.getMessage() == "command" and getattr(r, "command", None) == "modal.create"
    ]


def test_double_submission_of_the_same_view_makes_one_job(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.slack.surface")
    held = bot.emulator.hold("create")
    first = bot.interact(submission(view_id="V0TWICE01"))
    second = bot.interact(submission(view_id="V0TWICE01"))
    held.set()
    assert first.json()["response_action"] == "update"
    assert second.json()["response_action"] == "update"
    # Every delivery's handling ends with one "command" line: with two, all their work is done.
    _wait(lambda: len(_create_outcomes(caplog)) >= 2)
    assert sorted(_create_outcomes(caplog)) == ["ok", "repeat"]
    assert bot.emulator.counts["create"] == 1
    assert len(bot.slack.calls_to("chat.postMessage")) == 1


def test_googles_permission_error_reaches_the_user_with_values_kept(bot: BotUnderTest) -> None:
    bot.emulator.inject("create", 403, message="Permission 'aiplatform.tuningJobs.create' denied")
    bot.interact(submission(display_name="kept-name", epochs="2"))
    update = bot.slack.wait_for("views.update", 2)[-1]
    view = update.args["view"]
    text = json.dumps(view)
    assert "aiplatform.tuningJobs.create" in text
    assert "roles/aiplatform.user" in text
    assert view["submit"]["text"]  # still a form the user can correct and submit again
    by_id = {b.get("block_id"): b for b in view["blocks"]}
    assert by_id["display_name"]["element"]["initial_value"] == "kept-name"
    assert by_id["epochs"]["element"]["initial_value"] == "2"
    assert bot.slack.calls_to("chat.postMessage") == []
    # Correcting and submitting the same view again now works.
    bot.interact(submission(display_name="kept-name", epochs="2"))
    bot.slack.wait_for("chat.postMessage")
    assert bot.emulator.counts["create"] == 2


def test_quota_error_says_what_to_do(bot: BotUnderTest) -> None:
    bot.emulator.inject("create", 429, message="Quota exceeded for concurrent tuning jobs")
    bot.interact(submission())
    text = json.dumps(bot.slack.wait_for("views.update", 2)[-1].args["view"])
    assert "Quota exceeded for concurrent tuning jobs" in text
    assert "Wait for a running job to end" in text


def test_choosing_a_model_refreshes_the_adapter_sizes(bot: BotUnderTest) -> None:
    view = submission(training_dataset="gs://team-data/typed.jsonl")["view"]
    view["state"]["values"]["base_model"]["base_model"] = _value("base_model", "gemini-1.0-pro-002")
    bot.interact(
        {
            "type": "block_actions",
            "user": {"id": USER},
            "view": view,
            "actions": [
                {"action_id": "base_model", "type": "static_select", "block_id": "base_model"}
            ],
        }
    )
    update = bot.slack.wait_for("views.update")[0]
    assert update.args["hash"] == "h1"
    new_view = update.args["view"]
    by_id = {b.get("block_id"): b for b in new_view["blocks"]}
    assert "adapter_size" not in by_id  # this model has no adapter size setting
    assert by_id["training_dataset"]["element"]["initial_value"] == "gs://team-data/typed.jsonl"
    assert "retired" in json.dumps(new_view)


def test_retired_models_are_marked_in_the_picker(bot: BotUnderTest) -> None:
    bot.command("")
    view = bot.slack.wait_for("views.open")[0].args["view"]
    model = next(b for b in view["blocks"] if b.get("block_id") == "base_model")
    # Grouped, and marked too: the select shows a chosen option's text without its group.
    current, retired = model["element"]["option_groups"]
    assert not any("(retired)" in o["text"]["text"] for o in current["options"])
    assert retired["options"]
    assert all(o["text"]["text"].endswith("(retired)") for o in retired["options"])


def test_closing_the_form_while_it_is_checked_still_creates_the_job(bot: BotUnderTest) -> None:
    # Slack answers views.update with not_found once the user has closed the modal.
    bot.slack.fail("views.update", "not_found", times=5)
    bot.interact(submission(display_name="closed-early"))
    card = bot.slack.wait_for("chat.postMessage")[0]
    assert "closed-early" in json.dumps(card.args["blocks"])
    assert bot.emulator.counts["create"] == 1
    deadline = time.monotonic() + 5
    while not bot.store.all_watches():
        assert time.monotonic() < deadline, "the job was created but is not watched"
        time.sleep(0.02)


def test_googles_refusal_after_the_form_was_closed_is_said_in_the_channel(
    bot: BotUnderTest,
) -> None:
    bot.emulator.inject("create", 403, message="Permission 'aiplatform.tuningJobs.create' denied")
    bot.slack.fail("views.update", "not_found", times=5)
    bot.interact(submission())
    note = bot.slack.wait_for("chat.postEphemeral")[0]
    assert note.args["user"] == USER
    assert "aiplatform.tuningJobs.create" in note.args["text"]
    assert bot.slack.calls_to("chat.postMessage") == []
