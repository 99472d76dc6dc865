"""`/tune get` as the reader sees it, in both languages."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from bot.slack.messages.help import help_message
from bot.slack.messages.job_detail import job_detail_message
from bot.tuning.job import TunedModel, TuningJob
from bot.tuning.refs import JobRef
from bot.tuning.states import JobState

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
EXPERIMENT = (
    "projects/123456789012/locations/us-central1/metadataStores/default/contexts/"
    "tuning-experiment-20261201"
)


@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_experiment_is_a_link_to_its_page_not_a_long_name(language: str) -> None:
    job = TuningJob(
        ref=JobRef("my-project", "us-central1", "42"),
        state=JobState.SUCCEEDED,
        tuned_model=TunedModel(model="projects/1/locations/us-central1/models/7", endpoint=None),
        experiment=EXPERIMENT,
    )
    _, blocks = job_detail_message(job, language=language, now=NOW)
    text = json.dumps(blocks, ensure_ascii=False)

    assert f"`{EXPERIMENT}`" not in text
    assert "|tuning-experiment-20261201>" in text
    assert "<https://console.cloud.google.com/" in text


def test_help_says_who_may_cancel_as_the_refusal_does() -> None:
    # Watching a job does not let a user cancel it: help must not promise it.
    en = json.dumps(help_message("en")[1])
    ja = json.dumps(help_message("ja")[1], ensure_ascii=False)
    assert "cancel a job you started from Slack" in en
    assert "Slack から開始したジョブを中止" in ja
    assert "or watch" not in en
