"""Google's JSON and the domain types: bodies we send, jobs we read back, odd input tolerated."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.tuning.job import Checkpoint, DataStats, JobError, TunedModel
from bot.tuning.problems import DomainError
from bot.tuning.refs import JobRef
from bot.tuning.spec import TuningJobSpec
from bot.tuning.states import JobState
from bot.vertex.wire import format_time, job_from_json, parse_time, spec_to_body

NAME = "projects/my-project/locations/us-central1/tuningJobs/4242"
FULL_SPEC = TuningJobSpec(
    base_model="gemini-3.5-flash",
    training_dataset_uri="gs://team-data/train.jsonl",
    validation_dataset_uri="gs://team-data/valid.jsonl",
    epochs=3,
    adapter_size=16,
    learning_rate_multiplier=0.5,
    display_name="サポート bot",
    description="first try",
    labels={"team": "ml"},
)


def test_full_spec_body() -> None:
    assert spec_to_body(FULL_SPEC) == {
        "baseModel": "gemini-3.5-flash",
        "supervisedTuningSpec": {
            "trainingDatasetUri": "gs://team-data/train.jsonl",
            "validationDatasetUri": "gs://team-data/valid.jsonl",
            "hyperParameters": {
                "epochCount": "3",
                "adapterSize": "ADAPTER_SIZE_SIXTEEN",
                "learningRateMultiplier": 0.5,
            },
        },
        "tunedModelDisplayName": "サポート bot",
        "description": "first try",
        "labels": {"team": "ml"},
    }


def test_minimal_spec_leaves_everything_optional_out() -> None:
    body = spec_to_body(TuningJobSpec("gemini-2.5-flash", "gs://team-data/train.jsonl"))
    assert body == {
        "baseModel": "gemini-2.5-flash",
        "supervisedTuningSpec": {"trainingDatasetUri": "gs://team-data/train.jsonl"},
    }


@pytest.mark.parametrize(
    ("size", "name"),
    [(1, "ADAPTER_SIZE_ONE"), (2, "ADAPTER_SIZE_TWO"), (4, "ADAPTER_SIZE_FOUR"),
     (8, "ADAPTER_SIZE_EIGHT"), (16, "ADAPTER_SIZE_SIXTEEN"), (32, "ADAPTER_SIZE_THIRTY_TWO")],
)  # fmt: skip
def test_adapter_sizes_travel_as_enum_names(size: int, name: str) -> None:
    body = spec_to_body(TuningJobSpec("m", "gs://abc/x", adapter_size=size))
    assert body["supervisedTuningSpec"]["hyperParameters"] == {"adapterSize": name}
    back = job_from_json({"name": NAME, **body})
    assert back.adapter_size == size


def test_a_created_body_reads_back_as_the_same_settings() -> None:
    body = json.loads(json.dumps(spec_to_body(FULL_SPEC)))
    job = job_from_json(
        {**body, "name": NAME, "state": "JOB_STATE_QUEUED", "createTime": "2026-11-25T10:00:00Z"}
    )
    assert job.ref == JobRef("my-project", "us-central1", "4242")
    assert job.state is JobState.QUEUED
    assert (job.base_model, job.training_dataset_uri, job.validation_dataset_uri) == (
        FULL_SPEC.base_model,
        FULL_SPEC.training_dataset_uri,
        FULL_SPEC.validation_dataset_uri,
    )
    assert (job.epochs, job.adapter_size, job.learning_rate_multiplier) == (3, 16, 0.5)
    assert (job.display_name, job.description) == ("サポート bot", "first try")
    assert dict(job.labels) == {"team": "ml"}
    assert job.create_time == dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)
    assert job.tuned_model is None
    assert job.error is None
    assert job.data_stats is None


def test_a_finished_job_as_google_returns_it() -> None:
    job = job_from_json(
        {
            "name": NAME,
            "state": "JOB_STATE_SUCCEEDED",
            "baseModel": "gemini-2.5-flash",
            "createTime": "2026-11-25T10:00:00.123456789Z",
            "startTime": "2026-11-25T10:05:00.5Z",
            "endTime": "2026-11-25T11:00:00Z",
            "updateTime": "2026-11-25T11:00:01.000001Z",
            "tunedModel": {
                "model": "projects/my-project/locations/us-central1/models/77@1",
                "endpoint": "projects/my-project/locations/us-central1/endpoints/88",
            },
            "experiment": "projects/my-project/locations/us-central1/metadataStores/m/contexts/x",
            "tuningDataStats": {
                "supervisedTuningDataStats": {
                    "tuningDatasetExampleCount": "500",
                    "totalBillableTokenCount": "123456",
                    "totalTuningCharacterCount": "999",
                    "totalTruncatedExampleCount": "2",
                    "droppedExampleReasons": ["too long", "empty"],
                    "tuningStepCount": "60",
                }
            },
        }
    )
    assert job.state is JobState.SUCCEEDED
    assert job.create_time == dt.datetime(2026, 11, 25, 10, 0, 0, 123456, tzinfo=dt.UTC)
    assert job.start_time == dt.datetime(2026, 11, 25, 10, 5, 0, 500000, tzinfo=dt.UTC)
    assert job.end_time == dt.datetime(2026, 11, 25, 11, 0, tzinfo=dt.UTC)
    assert job.update_time == dt.datetime(2026, 11, 25, 11, 0, 1, 1, tzinfo=dt.UTC)
    assert job.tuned_model == TunedModel(
        "projects/my-project/locations/us-central1/models/77@1",
        "projects/my-project/locations/us-central1/endpoints/88",
    )
    assert job.data_stats == DataStats(500, 123456, 999, 2, ("too long", "empty"), 60)
    assert job.epochs is None


def test_dropped_examples_are_counted_by_googles_total_not_by_the_sampled_reasons() -> None:
    stats = {
        "tuningDatasetExampleCount": "1200",
        "totalTruncatedExampleCount": "57",
        "truncatedExampleIndices": ["4", "19", "230"],
        "droppedExampleReasons": ["exceeds 131072 tokens", "empty text", "exceeds 131072 tokens"],
    }
    job = job_from_json({"name": NAME, "tuningDataStats": {"supervisedTuningDataStats": stats}})
    assert job.data_stats is not None
    assert job.data_stats.dropped_examples == 57
    assert len(job.data_stats.dropped_reasons) == 3


def test_zero_counts_left_out_by_proto3_json_read_as_zero() -> None:
    stats = {"tuningDatasetExampleCount": "500"}  # Google omits totalTruncatedExampleCount: 0
    job = job_from_json({"name": NAME, "tuningDataStats": {"supervisedTuningDataStats": stats}})
    assert job.data_stats == DataStats(example_count=500)
    assert job.data_stats.dropped_examples == 0


def test_checkpoints_are_kept_and_the_default_is_the_one_on_the_models_endpoint() -> None:
    parent = "projects/123456789012/locations/us-central1"
    job = job_from_json(
        {
            "name": NAME,
            "state": "JOB_STATE_SUCCEEDED",
            "tunedModel": {
                "model": f"{parent}/models/77@1",
                "endpoint": f"{parent}/endpoints/3",
                "checkpoints": [
                    {
                        "checkpointId": "1",
                        "epoch": "1",
                        "step": "40",
                        "endpoint": f"{parent}/endpoints/1",
                    },
                    {
                        "checkpointId": "2",
                        "epoch": "2",
                        "step": "80",
                        "endpoint": f"{parent}/endpoints/2",
                    },
                    {
                        "checkpointId": "3",
                        "epoch": "3",
                        "step": "120",
                        "endpoint": f"{parent}/endpoints/3",
                    },
                    {"epoch": "4"},  # no id: not a checkpoint anyone can name
                ],
            },
        }
    )
    tuned = job.tuned_model
    assert tuned is not None
    assert [c.checkpoint_id for c in tuned.checkpoints] == ["1", "2", "3"]
    assert tuned.checkpoints[1] == Checkpoint(
        "2", epoch=2, step=80, endpoint=f"{parent}/endpoints/2"
    )
    assert tuned.default_checkpoint == tuned.checkpoints[2]


def test_a_failed_job_carries_googles_error() -> None:
    job = job_from_json(
        {"name": NAME, "state": "JOB_STATE_FAILED", "error": {"code": 3, "message": "bad data"}}
    )
    assert job.error == JobError(3, "bad data")


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("2026-11-25T12:34:56Z", dt.datetime(2026, 11, 25, 12, 34, 56, tzinfo=dt.UTC)),
        ("2026-11-25T12:34:56.123456789Z", dt.datetime(2026, 11, 25, 12, 34, 56, 123456, dt.UTC)),
        ("2026-11-25T12:34:56.1Z", dt.datetime(2026, 11, 25, 12, 34, 56, 100000, tzinfo=dt.UTC)),
        ("2026-11-25T21:34:56+09:00", dt.datetime(2026, 11, 25, 12, 34, 56, tzinfo=dt.UTC)),
        ("2026-11-25T12:34:56", dt.datetime(2026, 11, 25, 12, 34, 56, tzinfo=dt.UTC)),
        ("", None),
        ("yesterday", None),
        ("2026-13-40T99:00:00Z", None),
        ("2026-11-25T12:34:56.²Z", None),
        (None, None),
        (1764074096, None),
        ([], None),
    ],
)  # fmt: skip
def test_parse_time(text: object, parsed: dt.datetime | None) -> None:
    assert parse_time(text) == parsed


def test_format_time_round_trips() -> None:
    moment = dt.datetime(2026, 11, 25, 21, 34, 56, 7, tzinfo=dt.timezone(dt.timedelta(hours=9)))
    assert format_time(moment) == "2026-11-25T12:34:56.000007Z"
    assert parse_time(format_time(moment)) == moment


@pytest.mark.parametrize(
    "odd",
    [
        {"state": 5},
        {"state": None, "baseModel": 7, "tunedModelDisplayName": ["x"], "description": {}},
        {"supervisedTuningSpec": "not a dict"},
        {"supervisedTuningSpec": {"hyperParameters": []}},
        {"supervisedTuningSpec": {"hyperParameters": {"epochCount": 3.5}}},
        {"supervisedTuningSpec": {"hyperParameters": {"epochCount": True}}},
        {"supervisedTuningSpec": {"hyperParameters": {"epochCount": "three"}}},
        {"supervisedTuningSpec": {"hyperParameters": {"adapterSize": "ADAPTER_SIZE_NINE"}}},
        {"supervisedTuningSpec": {"hyperParameters": {"adapterSize": ["x"]}}},
        {"supervisedTuningSpec": {"hyperParameters": {"learningRateMultiplier": "abc"}}},
        {"supervisedTuningSpec": {"hyperParameters": {"learningRateMultiplier": False}}},
        {"labels": ["a", "b"]},
        {"tunedModel": "projects/p/locations/r/models/1"},
        {"tunedModel": {}},
        {"error": "boom"},
        {"error": {"code": "x"}},
        {"createTime": 12, "endTime": {"seconds": 1}},
        {"tuningDataStats": {"supervisedTuningDataStats": {"droppedExampleReasons": "x"}}},
        {"tuningDataStats": "x"},
    ],
)
def test_odd_fields_become_none_never_an_exception(odd: dict[str, Any]) -> None:
    job = job_from_json({"name": NAME, **odd})
    assert job.ref.job_id == "4242"
    assert job.epochs is None
    assert job.adapter_size is None
    assert job.learning_rate_multiplier is None
    assert job.tuned_model is None
    assert job.create_time is None


def test_epoch_count_as_a_json_number_is_read_too() -> None:
    job = job_from_json(
        {"name": NAME, "supervisedTuningSpec": {"hyperParameters": {"epochCount": 5}}}
    )
    assert job.epochs == 5


@pytest.mark.parametrize("name", [None, "", 42, "tuningJobs/1", NAME + "/x"])
def test_a_job_without_a_proper_name_is_a_domain_error(name: object) -> None:
    raw: dict[str, Any] = {"state": "JOB_STATE_RUNNING"}
    if name is not None:
        raw["name"] = name
    with pytest.raises(DomainError):
        job_from_json(raw)


@pytest.mark.parametrize("count", ["²", "--5"])
def test_strange_digit_strings_in_int64_fields_are_none(count: str) -> None:
    job = job_from_json(
        {"name": NAME, "supervisedTuningSpec": {"hyperParameters": {"epochCount": count}}}
    )
    assert job.epochs is None


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=10,
)
KNOWN_KEYS = st.sampled_from(
    ["state", "baseModel", "tunedModelDisplayName", "createTime", "endTime", "labels",
     "tunedModel", "error", "experiment", "supervisedTuningSpec", "tuningDataStats"]
)  # fmt: skip
HYPER_KEYS = st.sampled_from(["epochCount", "adapterSize", "learningRateMultiplier"])
STATS_KEYS = st.sampled_from(
    ["tuningDatasetExampleCount", "totalBillableTokenCount", "droppedExampleReasons"]
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    top=st.dictionaries(KNOWN_KEYS, JSON, max_size=6),
    hyper=st.dictionaries(HYPER_KEYS, JSON, max_size=3),
    stats=st.dictionaries(STATS_KEYS, JSON, max_size=3),
)
@example(top={"createTime": "2026-11-25T12:34:56.²Z"}, hyper={"epochCount": "--5"}, stats={})
def test_any_json_shape_reads_without_an_exception(
    top: dict[str, Any], hyper: dict[str, Any], stats: dict[str, Any]
) -> None:
    raw: dict[str, Any] = {**top, "name": NAME}
    if hyper:
        raw["supervisedTuningSpec"] = {"hyperParameters": hyper}
    if stats:
        raw["tuningDataStats"] = {"supervisedTuningDataStats": stats}
    job = job_from_json(raw)
    assert job.name == NAME
    assert job.epochs is None or isinstance(job.epochs, int)
