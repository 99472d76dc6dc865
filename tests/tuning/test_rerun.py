"""Running a job again, in pure terms: the `-vN` name, the continue-tuning spec and body, and the
label that links a new job to the job it came from."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.slack.commands import TuneCommand, Verb, parse_command
from bot.slack.messages.create_form import ModalMetadata
from bot.slack.messages.ending import ending_message
from bot.tuning.catalogue import default_catalogue
from bot.tuning.job import TunedModel, TuningJob
from bot.tuning.refs import JobRef, Location
from bot.tuning.rerun import RERUN_OF_LABEL, next_display_name, rerun_labels, rerun_source
from bot.tuning.spec import (
    BASE_MODEL,
    MAX_DISPLAY_NAME,
    TRAINING_DATASET,
    SpecCheck,
    validate_form,
)
from bot.tuning.states import JobState
from bot.vertex.wire import job_from_json, spec_to_body
from tests.vertex.discovery import validate

TODAY = dt.date(2026, 12, 4)
TUNED = "projects/123456789012/locations/us-central1/models/7770001@1"
FORM = {BASE_MODEL: "gemini-3.5-flash", TRAINING_DATASET: "gs://team-data/train.jsonl"}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("support-bot", "support-bot-v2"),
        ("support-bot-v2", "support-bot-v3"),
        ("support-bot-v9", "support-bot-v10"),
        ("v2", "v2-v2"),
        ("bot -v2", "bot -v3"),
        ("サポート", "サポート-v2"),
        ("  spaced  ", "spaced-v2"),
    ],
)
def test_the_next_name_gets_the_next_version(name: str, expected: str) -> None:
    assert next_display_name(name, "4242") == expected


def test_a_job_without_a_name_takes_the_fallback() -> None:
    assert next_display_name(None, "4242") == "4242-v2"
    assert next_display_name("   ", "4242") == "4242-v2"


def test_the_suffix_always_fits_within_googles_limit() -> None:
    longest = "x" * MAX_DISPLAY_NAME
    assert next_display_name(longest, "1") == "x" * (MAX_DISPLAY_NAME - 3) + "-v2"
    versioned = "y" * (MAX_DISPLAY_NAME - 3) + "-v9"
    renamed = next_display_name(versioned, "1")
    assert len(renamed) == MAX_DISPLAY_NAME
    assert renamed.endswith("-v10")


def _check(tuned: str | None, model: str = "gemini-3.5-flash") -> SpecCheck:
    return validate_form(
        {**FORM, BASE_MODEL: model},
        catalogue=default_catalogue(),
        region="us-central1",
        today=TODAY,
        pre_tuned_model=tuned,
    )


def test_a_continue_tuning_spec_names_the_tuned_model() -> None:
    check = _check(TUNED)
    assert check.ok
    assert check.spec is not None
    assert check.spec.pre_tuned_model == TUNED


@pytest.mark.parametrize(
    "tuned",
    [
        "projects/p/locations/us-central1/tuningJobs/1",
        "models/7770001",
        "projects/p/locations/us-central1/models/",
        "projects/p/locations/us-central1/models/1@1@2",
        "projects/p /locations/us-central1/models/1",
    ],
)
def test_a_continue_tuning_spec_needs_a_tuned_model_name(tuned: str) -> None:
    check = _check(tuned)
    assert not check.ok
    assert check.errors[BASE_MODEL].key == "spec.tuned_model_invalid"


def test_a_model_without_continuous_tuning_is_refused_with_those_that_have_it() -> None:
    check = _check(TUNED, model="gemini-2.0-flash-001")
    problem = check.errors[BASE_MODEL]
    assert problem.key == "spec.continue_not_supported"
    assert "gemini-3.5-flash" in str(problem.params["supported"])
    assert "gemini-2.0-flash-001" not in str(problem.params["supported"])


def test_hyperparameter_limits_are_those_of_the_base_model() -> None:
    check = validate_form(
        {**FORM, "adapter_size": "32", "epochs": "0"},
        catalogue=default_catalogue(),
        region="us-central1",
        today=TODAY,
        pre_tuned_model=TUNED,
    )
    assert set(check.errors) == {"adapter_size", "epochs"}


def test_the_continue_body_has_pre_tuned_model_and_no_base_model() -> None:
    check = _check(TUNED)
    assert check.spec is not None
    body = spec_to_body(check.spec)
    assert "baseModel" not in body
    assert body["preTunedModel"] == {"tunedModelName": TUNED}
    assert validate(body, "GoogleCloudAiplatformV1TuningJob", request=True) == []


def test_a_continued_job_reads_its_base_model_from_pre_tuned_model() -> None:
    job = job_from_json(
        {
            "name": "projects/1/locations/us-central1/tuningJobs/5",
            "preTunedModel": {"tunedModelName": TUNED, "baseModel": "gemini-3.5-flash"},
        }
    )
    assert job.base_model == "gemini-3.5-flash"


def test_the_label_links_jobs_of_one_region_only() -> None:
    source = JobRef("123456789012", "us-central1", "4242")
    labels = rerun_labels(source, Location("my-project", "us-central1"))
    assert labels == {RERUN_OF_LABEL: "4242"}
    assert rerun_labels(source, Location("my-project", "europe-west4")) == {}
    new = JobRef("123456789012", "us-central1", "5555")
    assert rerun_source(new, labels) == source
    assert rerun_source(new, {RERUN_OF_LABEL: "../x"}) is None
    assert rerun_source(new, {}) is None


def test_the_metadata_carries_the_source_job_and_tuned_model() -> None:
    name = "projects/p/locations/us-central1/tuningJobs/4242"
    metadata = ModalMetadata("C1", "ja", source_job=name, tuned_model=TUNED)
    assert ModalMetadata.parse(metadata.to_json()) == metadata
    assert ModalMetadata.parse('{"c": "C1", "s": 5, "t": ""}') == ModalMetadata("C1")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rerun 4242", TuneCommand(Verb.RERUN, "4242")),
        ("rerun 4242 continue", TuneCommand(Verb.CONTINUE, "4242")),
        ("rerun 4242 CONTINUE", TuneCommand(Verb.CONTINUE, "4242")),
        ("rerun", TuneCommand(Verb.USAGE, "rerun")),
        ("rerun 4242 again", TuneCommand(Verb.USAGE, "rerun")),
    ],
)
def test_the_rerun_grammar(text: str, expected: TuneCommand) -> None:
    assert parse_command(text) == expected


def _ending_actions(model: str, state: JobState = JobState.SUCCEEDED) -> set[str]:
    job = TuningJob(
        ref=JobRef("123456789012", "us-central1", "4242"),
        state=state,
        base_model=model,
        tuned_model=TunedModel(TUNED, None) if state.succeeded else None,
    )
    _, blocks = ending_message(job, started_by="U1", language="en")
    return {
        str(element.get("action_id"))
        for block in blocks
        for element in block.get("elements", [])
        if isinstance(element, dict)
    }


def test_continue_tuning_is_offered_only_where_google_allows_it() -> None:
    assert {"job_rerun", "job_continue_tuning"} <= _ending_actions("gemini-3.5-flash")
    assert "job_continue_tuning" not in _ending_actions("gemini-2.0-flash-001")
    assert "job_continue_tuning" not in _ending_actions("gemini-3.5-flash", JobState.FAILED)
    assert "job_rerun" in _ending_actions("gemini-3.5-flash", JobState.FAILED)
