"""The only place that knows Google's JSON names: domain types to REST bodies and back."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from bot.tuning.job import Checkpoint, DataStats, JobError, TunedModel, TuningJob
from bot.tuning.refs import JobRef
from bot.tuning.states import JobState

if TYPE_CHECKING:
    # Types only: the spec module loads the model catalogue (YAML), which a watcher never needs.
    from bot.tuning.spec import TuningJobSpec

ADAPTER_SIZES: dict[int, str] = {
    1: "ADAPTER_SIZE_ONE",
    2: "ADAPTER_SIZE_TWO",
    4: "ADAPTER_SIZE_FOUR",
    8: "ADAPTER_SIZE_EIGHT",
    16: "ADAPTER_SIZE_SIXTEEN",
    32: "ADAPTER_SIZE_THIRTY_TWO",
}
_ADAPTER_BY_NAME = {name: size for size, name in ADAPTER_SIZES.items()}
_INT64 = re.compile(r"-?[0-9]{1,19}")


def spec_to_body(spec: TuningJobSpec) -> dict[str, Any]:
    """The TuningJob body for `tuningJobs.create`; unset optional fields are left out."""
    hyper: dict[str, Any] = {}
    if spec.epochs is not None:
        hyper["epochCount"] = str(spec.epochs)  # int64 travels as a JSON string
    if spec.adapter_size is not None:
        hyper["adapterSize"] = ADAPTER_SIZES[spec.adapter_size]
    if spec.learning_rate_multiplier is not None:
        hyper["learningRateMultiplier"] = spec.learning_rate_multiplier
    supervised: dict[str, Any] = {"trainingDatasetUri": spec.training_dataset_uri}
    if spec.validation_dataset_uri:
        supervised["validationDatasetUri"] = spec.validation_dataset_uri
    if hyper:
        supervised["hyperParameters"] = hyper
    if spec.export_last_checkpoint_only:
        supervised["exportLastCheckpointOnly"] = True
    body: dict[str, Any] = {"baseModel": spec.base_model, "supervisedTuningSpec": supervised}
    if spec.pre_tuned_model:
        # A oneof with `baseModel`: Google derives the base model from the tuned one.
        del body["baseModel"]
        body["preTunedModel"] = {"tunedModelName": spec.pre_tuned_model}
    if spec.display_name:
        body["tunedModelDisplayName"] = spec.display_name
    if spec.description:
        body["description"] = spec.description
    if spec.labels:
        body["labels"] = dict(spec.labels)
    if spec.service_account:
        body["serviceAccount"] = spec.service_account
    if spec.kms_key_name:
        body["encryptionSpec"] = {"kmsKeyName": spec.kms_key_name}
    return body


def parse_time(value: Any) -> dt.datetime | None:
    """RFC 3339 timestamps as Google writes them (`Z`, up to nanoseconds) to aware datetimes."""
    if not isinstance(value, str) or not value:
        return None
    text = value.replace("Z", "+00:00")
    if "." in text:
        head, _, rest = text.partition(".")
        digits = "".join(c for c in rest if c.isdigit())
        zone = rest[len(digits) :]
        text = f"{head}.{digits[:6].ljust(6, '0')}{zone}"
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def format_time(value: dt.datetime) -> str:
    """An aware datetime as Google's RFC 3339 UTC form with microseconds and `Z`."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INT64.fullmatch(value):
        return int(value)
    return None


def json_float(value: Any) -> float | None:
    """A JSON number (or its string form, as proto3 JSON writes "NaN" and "Infinity") as a
    float; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _data_stats(raw: Mapping[str, Any]) -> DataStats | None:
    stats = _dict(_dict(raw.get("tuningDataStats")).get("supervisedTuningDataStats"))
    if not stats:
        return None
    # `droppedExampleReasons` is a partial sample; the count is `totalTruncatedExampleCount`.
    reasons = stats.get("droppedExampleReasons")
    return DataStats(
        example_count=_int(stats.get("tuningDatasetExampleCount")),
        billable_tokens=_int(stats.get("totalBillableTokenCount")),
        total_characters=_int(stats.get("totalTuningCharacterCount")),
        dropped_examples=_int(stats.get("totalTruncatedExampleCount")) or 0,
        dropped_reasons=tuple(
            r for r in (reasons if isinstance(reasons, list) else []) if isinstance(r, str) and r
        ),
        tuning_steps=_int(stats.get("tuningStepCount")),
    )


def _checkpoints(raw: Any) -> tuple[Checkpoint, ...]:
    found = []
    for item in raw if isinstance(raw, list) else []:
        checkpoint_id = _str(_dict(item).get("checkpointId"))
        if checkpoint_id is None:
            continue
        found.append(
            Checkpoint(
                checkpoint_id=checkpoint_id,
                epoch=_int(item.get("epoch")),
                step=_int(item.get("step")),
                endpoint=_str(item.get("endpoint")),
            )
        )
    return tuple(found)


def _tuned_model(raw: Mapping[str, Any]) -> TunedModel | None:
    tuned = _dict(raw.get("tunedModel"))
    if not tuned:
        return None
    return TunedModel(
        model=_str(tuned.get("model")),
        endpoint=_str(tuned.get("endpoint")),
        checkpoints=_checkpoints(tuned.get("checkpoints")),
    )


def job_from_json(raw: Mapping[str, Any]) -> TuningJob:
    """A TuningJob from Google's JSON; missing or odd fields become None, never an exception.

    Raises DomainError only when `name` is not a tuning job resource name.
    """
    supervised = _dict(raw.get("supervisedTuningSpec"))
    hyper = _dict(supervised.get("hyperParameters"))
    error = _dict(raw.get("error"))
    labels = {str(k): str(v) for k, v in _dict(raw.get("labels")).items()}
    return TuningJob(
        ref=JobRef.from_name(str(raw.get("name", ""))),
        state=JobState.from_wire(_str(raw.get("state"))),
        # A continued job names its base model only inside `preTunedModel`.
        base_model=_str(raw.get("baseModel"))
        or _str(_dict(raw.get("preTunedModel")).get("baseModel")),
        display_name=_str(raw.get("tunedModelDisplayName")),
        description=_str(raw.get("description")),
        training_dataset_uri=_str(supervised.get("trainingDatasetUri")),
        validation_dataset_uri=_str(supervised.get("validationDatasetUri")),
        epochs=_int(hyper.get("epochCount")),
        adapter_size=_ADAPTER_BY_NAME.get(str(hyper.get("adapterSize"))),
        learning_rate_multiplier=json_float(hyper.get("learningRateMultiplier")),
        labels=MappingProxyType(labels),
        create_time=parse_time(raw.get("createTime")),
        start_time=parse_time(raw.get("startTime")),
        end_time=parse_time(raw.get("endTime")),
        update_time=parse_time(raw.get("updateTime")),
        tuned_model=_tuned_model(raw),
        experiment=_str(raw.get("experiment")),
        error=(
            JobError(code=_int(error.get("code")) or 0, message=str(error.get("message", "")))
            if error
            else None
        ),
        data_stats=_data_stats(raw),
    )
