"""Messages and modals stay inside Slack's documented limits, whatever the data."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from slack_sdk.models.views import View

from bot.slack.messages.create_form import ModalMetadata, create_modal, message_modal
from bot.slack.messages.help import help_message
from bot.slack.messages.job_detail import job_detail_message
from bot.slack.messages.job_list import list_message
from bot.tuning.catalogue import default_catalogue
from bot.tuning.job import DataStats, JobError, TunedModel, TuningJob
from bot.tuning.refs import JobRef, Location
from bot.tuning.states import JobState

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
LONG = "<!channel> " + "名前" * 2000


def _job(i: int) -> TuningJob:
    return TuningJob(
        ref=JobRef("test-project", "us-central1", str(10**17 + i)),
        state=JobState.FAILED,
        base_model="gemini-2.5-flash",
        display_name=LONG,
        training_dataset_uri="gs://b/" + "x" * 1000 + ".jsonl",
        validation_dataset_uri="gs://b/" + "y" * 1000 + ".jsonl",
        epochs=3,
        adapter_size=4,
        learning_rate_multiplier=0.5,
        create_time=NOW - dt.timedelta(hours=2),
        end_time=NOW,
        tuned_model=TunedModel(
            "projects/p/locations/us-central1/models/1",
            "projects/p/locations/us-central1/endpoints/2",
        ),
        experiment="projects/p/locations/us-central1/metadataStores/default/contexts/e",
        error=JobError(3, LONG),
        data_stats=DataStats(example_count=1200, billable_tokens=3_400_000),
    )


def _check_message(blocks: list[dict[str, Any]], fallback: str) -> None:
    assert len(blocks) <= 50
    assert fallback
    assert len(fallback) <= 3000
    for block in blocks:
        text = block.get("text", {}).get("text", "")
        assert len(text) <= 3000
    assert _text_length(blocks) < 12_000


def _text_length(value: Any) -> int:
    if isinstance(value, dict):
        return sum(
            len(v) if k == "text" and isinstance(v, str) else _text_length(v)
            for k, v in value.items()
        )
    if isinstance(value, list):
        return sum(_text_length(v) for v in value)
    return 0


def test_a_full_list_page_fits_in_one_message() -> None:
    fallback, blocks = list_message(
        [_job(i) for i in range(60)],
        filter_word="all",
        next_page_token="t" * 500,
        language="ja",
        now=NOW,
    )
    _check_message(blocks, fallback)
    assert "<!channel>" not in json.dumps(blocks)


def test_job_detail_with_everything_set_fits() -> None:
    fallback, blocks = job_detail_message(_job(1), language="en", now=NOW)
    _check_message(blocks, fallback)
    rendered = json.dumps(blocks)
    assert "<!channel>" not in rendered
    assert "&lt;!channel&gt;" in rendered
    assert "generateContent" in rendered


def test_help_fits_in_both_languages() -> None:
    for language in ("en", "ja"):
        fallback, blocks = help_message(language, unknown=True)
        _check_message(blocks, fallback)


def test_create_modal_is_within_modal_limits_in_both_languages() -> None:
    catalogue = default_catalogue()
    for language in ("en", "ja"):
        values = {"display_name": "x" * 128, "training_dataset": "gs://b/" + "z" * 2000}
        view = create_modal(
            language,
            catalogue=catalogue,
            today=NOW.date(),
            metadata=ModalMetadata("C0TUNING1", language),
            location=Location("test-project", "us-central1"),
            values=values,
            banner="Google: " + LONG,
        )
        View(**view).validate_json()  # slack_sdk checks title, labels, option and block limits
        assert len(view["blocks"]) <= 100
        assert len(view["private_metadata"]) <= 3000
        assert len(view["title"]["text"]) <= 24
        assert len(view["submit"]["text"]) <= 24
        for block in view["blocks"]:
            element = block.get("element", {})
            groups = element.get("option_groups", [])
            options = element.get("options", []) + [o for g in groups for o in g["options"]]
            assert len(options) <= 100
            for group in groups:
                assert len(group["label"]["text"]) <= 75
            for option in options:
                assert len(option["text"]["text"]) <= 75
            assert len(block.get("text", {}).get("text", "")) <= 3000
        assert len(json.dumps(view)) < 250_000


def test_message_modal_is_valid() -> None:
    view = message_modal("ja", "作成しています…")
    View(**view).validate_json()


def test_status_card_of_a_running_job_with_the_worst_display_name_fits() -> None:
    from dataclasses import replace

    from bot.slack.messages.status_card import render_status_card
    from bot.tuning.spec import MAX_DISPLAY_NAME

    # Every character of these names expands when escaped for mrkdwn.
    for name in ("&<>" * 50, ("R&D <v2> " * 20)[:MAX_DISPLAY_NAME], LONG):
        for language in ("en", "ja"):
            job = replace(_job(1), state=JobState.RUNNING, display_name=name, error=None)
            fallback, blocks = render_status_card(
                job, started_by="U0ALICE01", language=language, preflight_summary=LONG
            )
            _check_message(blocks, fallback)
            buttons = next(b for b in blocks if b["type"] == "actions")["elements"]
            confirm = next(b for b in buttons if "confirm" in b)["confirm"]
            assert confirm["text"]["type"] == "plain_text"
            assert len(confirm["text"]["text"]) <= 300
