"""The create form's advanced settings, end to end: the button pushes a view, saving it
redraws the form with a summary, and Submit sends the settings to Google."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from bot.slack import ids
from bot.slack.messages.create_form import ModalMetadata
from bot.tuning.submission_key import SUBMISSION_LABEL
from tests.slack.conftest import CHANNEL, REGION, BotUnderTest
from tests.slack.test_create_modal import USER, submission
from tests.slack.test_form_rendering import MRKDWN_MARKS, _modal, _phone_width
from tests.vertex.discovery import validate

ACCOUNT = "tuner@my-project.iam.gserviceaccount.com"
KEY = f"projects/my-project/locations/{REGION}/keyRings/ring/cryptoKeys/tuning-key"
FORM_VIEW = "V0CREATE1"


def click(language: str = "en", metadata: ModalMetadata | None = None) -> dict[str, Any]:
    """The button's block_actions, with the form's view as Slack sends it."""
    view = submission(FORM_VIEW, language, base_model="gemini-2.5-flash")["view"]
    if metadata is not None:
        view["private_metadata"] = metadata.to_json()
    return {
        "type": "block_actions",
        "user": {"id": USER},
        "team": {"id": "T0000TEST"},
        "api_app_id": "A0TUNINGBOT",
        "container": {"type": "view", "view_id": FORM_VIEW},
        "view": view,
        "actions": [
            {
                "type": "button",
                "action_id": ids.ADVANCED_OPEN,
                "block_id": ids.ADVANCED_OPEN,
                "action_ts": "1.2",
            }
        ],
    }


def pushed_view(bot: BotUnderTest, language: str = "en") -> dict[str, Any]:
    """Click the button; the view Slack was asked to push."""
    assert bot.interact(click(language)).status_code == 200
    view: dict[str, Any] = bot.slack.wait_for("views.push")[0].args["view"]
    return view


def save(
    view: dict[str, Any],
    *,
    labels: str | None = None,
    description: str | None = None,
    export: bool = False,
    account: str | None = None,
    key: str | None = None,
) -> dict[str, Any]:
    """The pushed view's view_submission, with the given values typed in."""
    values: dict[str, Any] = {
        "labels": {"labels": {"type": "plain_text_input", "value": labels}},
        "description": {"description": {"type": "plain_text_input", "value": description}},
        "export_last_checkpoint_only": {
            "export_last_checkpoint_only": {
                "type": "checkboxes",
                "selected_options": [{"value": "on"}] if export else [],
            }
        },
    }
    blocks = {b.get("block_id") for b in view["blocks"]}
    if "service_account" in blocks:
        values["service_account"] = {
            "service_account": {"type": "plain_text_input", "value": account}
        }
    if "kms_key_name" in blocks:
        values["kms_key_name"] = {"kms_key_name": {"type": "plain_text_input", "value": key}}
    return {
        "type": "view_submission",
        "user": {"id": USER},
        "view": {
            "id": "V0ADVANCED",
            "type": "modal",
            "callback_id": ids.ADVANCED_FORM,
            "root_view_id": FORM_VIEW,
            "previous_view_id": FORM_VIEW,
            "hash": "h2",
            "private_metadata": view["private_metadata"],
            "state": {"values": values},
        },
    }


def _block_ids(view: dict[str, Any]) -> list[str]:
    return [b.get("block_id", "") for b in view["blocks"]]


@pytest.mark.parametrize(
    ("language", "title", "labels"),
    [("en", "Advanced settings", "Labels"), ("ja", "詳細設定", "ラベル")],
)
def test_the_button_pushes_the_advanced_view(
    bot: BotUnderTest, language: str, title: str, labels: str
) -> None:
    form = _modal(language)
    button = next(b for b in form["blocks"] if b.get("block_id") == ids.ADVANCED_OPEN)
    assert button["type"] == "actions"
    assert button["elements"][0]["action_id"] == ids.ADVANCED_OPEN
    view = pushed_view(bot, language)
    push = bot.slack.calls_to("views.push")[0]
    assert push.args["trigger_id"].startswith("trigger.")
    assert view["callback_id"] == ids.ADVANCED_FORM
    assert view["title"]["text"] == title
    assert view["blocks"][0]["label"]["text"] == labels
    # Without TUNING_SERVICE_ACCOUNT and TUNING_KMS_KEY the view does not offer them.
    assert _block_ids(view) == ["labels", "description", "export_last_checkpoint_only"]
    for part in ("title", "submit", "close"):
        assert _phone_width(view[part]["text"]) <= 12
    for block in view["blocks"]:
        assert _phone_width(block["label"]["text"]) <= 12


@pytest.mark.parametrize("language", ["en", "ja"])
def test_bad_labels_come_back_under_the_field_in_plain_text(
    bot: BotUnderTest, language: str
) -> None:
    view = pushed_view(bot, language)
    answer = bot.interact(save(view, labels="Team=ML\nok=1")).json()
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"labels"}
    text = answer["errors"]["labels"]
    assert "Team=ML" in text
    for mark in MRKDWN_MARKS:
        assert mark not in text, (mark, text)
    time.sleep(0.1)
    assert bot.slack.calls_to("views.update") == []


def test_saved_settings_redraw_the_form_with_a_summary_and_keep_it_in_metadata(
    bot: BotUnderTest,
) -> None:
    view = pushed_view(bot)
    answer = bot.interact(save(view, labels="team=ml", description="Support v3", export=True))
    assert answer.status_code == 200
    assert answer.text in ("", "{}") or answer.json() == {}
    update = bot.slack.wait_for("views.update")[0]
    assert update.args["view_id"] == FORM_VIEW
    form = update.args["view"]
    assert form["callback_id"] == ids.CREATE_FORM
    # The same blocks as before (the model the user chose included), so Slack keeps the
    # values typed in the form.
    before = _modal("en", values={"base_model": "gemini-2.5-flash"})
    assert [b for b in _block_ids(form) if b] == [b for b in _block_ids(before) if b]
    summary = json.dumps(form["blocks"][_block_ids(form).index(ids.ADVANCED_OPEN) + 1])
    assert "Labels: team=ml" in summary
    assert "Export last checkpoint only" in summary
    metadata = ModalMetadata.parse(form["private_metadata"])
    assert metadata is not None
    assert metadata.channel_id == CHANNEL
    assert metadata.advanced is not None
    assert dict(metadata.advanced.labels) == {"team": "ml"}
    assert metadata.advanced.description == "Support v3"
    assert metadata.advanced.export_last_checkpoint_only


def _submit_form(bot: BotUnderTest, metadata_json: str) -> dict[str, Any]:
    payload = submission()
    payload["view"]["private_metadata"] = metadata_json
    assert bot.interact(payload).json()["response_action"] == "update"
    bot.slack.wait_for("chat.postMessage")
    (body,) = [body for method, _, body in bot.emulator.received if method == "create"]
    assert validate(body, "GoogleCloudAiplatformV1TuningJob", request=True) == []
    return body


def test_submit_sends_the_settings_and_the_emulator_keeps_them(bot: BotUnderTest) -> None:
    view = pushed_view(bot)
    bot.interact(
        save(view, labels="team=ml, cost-center=42", description="Support v3", export=True)
    )
    form = bot.slack.wait_for("views.update")[0].args["view"]
    body = _submit_form(bot, form["private_metadata"])
    assert body["labels"]["team"] == "ml"
    assert body["labels"]["cost-center"] == "42"
    assert SUBMISSION_LABEL in body["labels"]
    assert body["description"] == "Support v3"
    assert body["supervisedTuningSpec"]["exportLastCheckpointOnly"] is True
    assert "serviceAccount" not in body
    assert "encryptionSpec" not in body
    (job,) = bot.emulator.jobs()
    assert job["description"] == "Support v3"
    assert job["labels"]["team"] == "ml"
    assert job["supervisedTuningSpec"]["exportLastCheckpointOnly"] is True


def test_without_advanced_settings_the_fields_are_absent(bot: BotUnderTest) -> None:
    body = _submit_form(bot, json.dumps({"c": CHANNEL, "l": "en"}))
    assert "serviceAccount" not in body
    assert "encryptionSpec" not in body
    assert "description" not in body
    assert "exportLastCheckpointOnly" not in body["supervisedTuningSpec"]


class TestConfiguredDefaults:
    """TUNING_SERVICE_ACCOUNT and TUNING_KMS_KEY set."""

    @pytest.fixture
    def env_extra(self) -> dict[str, str]:
        return {"TUNING_SERVICE_ACCOUNT": ACCOUNT, "TUNING_KMS_KEY": KEY}

    def test_the_view_offers_them_prefilled(self, bot: BotUnderTest) -> None:
        view = pushed_view(bot, "ja")
        blocks = {b["block_id"]: b for b in view["blocks"]}
        assert blocks["service_account"]["element"]["initial_value"] == ACCOUNT
        assert blocks["kms_key_name"]["element"]["initial_value"] == KEY
        assert blocks["kms_key_name"]["label"]["text"] == "顧客管理の暗号鍵（CMEK）"

    def test_a_form_never_opened_there_sends_the_defaults(self, bot: BotUnderTest) -> None:
        body = _submit_form(bot, json.dumps({"c": CHANNEL, "l": "en"}))
        assert body["serviceAccount"] == ACCOUNT
        assert body["encryptionSpec"] == {"kmsKeyName": KEY}
        (job,) = bot.emulator.jobs()
        assert job["serviceAccount"] == ACCOUNT
        assert job["encryptionSpec"] == {"kmsKeyName": KEY}

    def test_edited_values_are_sent_and_cleared_ones_left_out(self, bot: BotUnderTest) -> None:
        view = pushed_view(bot)
        other = "other@my-project.iam.gserviceaccount.com"
        bot.interact(save(view, account=other, key=""))
        form = bot.slack.wait_for("views.update")[0].args["view"]
        assert "Service account: other@my-project.iam.gserviceaccount.com" in json.dumps(
            form["blocks"]
        )
        body = _submit_form(bot, form["private_metadata"])
        assert body["serviceAccount"] == other
        assert "encryptionSpec" not in body

    def test_a_bad_account_or_a_key_elsewhere_is_refused(self, bot: BotUnderTest) -> None:
        view = pushed_view(bot)
        elsewhere = KEY.replace(REGION, "europe-west4")
        answer = bot.interact(save(view, account="someone@example.com", key=elsewhere)).json()
        assert answer["response_action"] == "errors"
        assert set(answer["errors"]) == {"service_account", "kms_key_name"}
        assert "europe-west4" in answer["errors"]["kms_key_name"]


def test_settings_too_long_for_the_form_are_refused_under_the_description(
    bot: BotUnderTest,
) -> None:
    view = pushed_view(bot)
    labels = "\n".join(f"k{i:02}{'a' * 40}={'v' * 60}" for i in range(25))
    answer = bot.interact(save(view, labels=labels, description="d" * 900)).json()
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"description"}
    assert "shorten" in answer["errors"]["description"]


def test_the_japanese_summary_reads_naturally(bot: BotUnderTest) -> None:
    view = pushed_view(bot, "ja")
    bot.interact(save(view, labels="team=ml", export=True))
    form = bot.slack.wait_for("views.update")[0].args["view"]
    text = json.dumps(form["blocks"], ensure_ascii=False)
    assert "ラベル：team=ml・最後のチェックポイントだけをエクスポート" in text
    assert "詳細設定…" in text
