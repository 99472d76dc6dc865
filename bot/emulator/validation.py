"""Checks a create body as Google's proto3 JSON parser and the tuning service would.

Field names (camelCase, or snake_case as proto3 JSON allows), types (int64 as number or decimal
string, enums by name or number), oneofs (`baseModel` xor `preTunedModel`), then the service's
own rules: dataset URIs, labels, display name, model, region, adapter size. Messages follow
Google's wording where it is known, because users and the bot show them verbatim.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.emulator import schema
from bot.emulator.errors import invalid
from bot.emulator.models import ModelTable

_LABEL_KEY = re.compile(r"[a-z\u00c0-\uffff][a-z0-9_\-\u00c0-\uffff]{0,62}")
_LABEL_VALUE = re.compile(r"[a-z0-9_\-\u00c0-\uffff]{0,63}")
_TUNED_MODEL = re.compile(r"projects/[^/]+/locations/[^/]+/models/[^/@]+(@[^/@]+)?")
_INT64 = re.compile(r"-?[0-9]{1,19}")
# EncryptionSpec.kmsKeyName as the discovery document describes it.
_KMS_KEY = re.compile(r"projects/[^/]+/locations/([^/]+)/keyRings/[^/]+/cryptoKeys/[^/]+")
# Members of TuningJob's `source_model` oneof.
_SOURCE_MODEL = ("baseModel", "preTunedModel")

# Looks up a tuned model the emulator made: its resource name -> the base model it came from.
TunedModelLookup = Callable[[str], str | None]


@dataclass(frozen=True)
class CreateContext:
    """What a create is checked against."""

    version: str  # "v1" or "v1beta1"
    region: str
    today: dt.date
    models: ModelTable
    tuned_models: TunedModelLookup


def camel(name: str) -> str:
    """`snake_case` -> `camelCase` (proto3 JSON accepts both on input)."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def snake(name: str) -> str:
    """`camelCase` -> `snake_case`, as Google names fields in error messages."""
    return re.sub(r"([A-Z])", lambda m: "_" + m[1].lower(), name)


def normalise(
    raw: Mapping[str, Any], message: str, where: str, tables: Mapping[str, Mapping[str, str]]
) -> dict[str, Any]:
    """Check field names and types of one message, camelCasing snake_case names."""
    fields = tables[message]
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = camel(key)
        kind = fields.get(name)
        if kind is None:
            raise invalid(
                f"Invalid JSON payload received. Unknown name \"{key}\" at '{where}': "
                "Cannot find field.",
                where,
            )
        path = f"{where}.{snake(name)}"
        if value is None:
            continue
        if kind == "unsupported":
            raise invalid(
                f"{snake(name)} is not supported by this emulator (supervised tuning only).", path
            )
        out[name] = _typed(kind, value, path, tables)
    return out


def _typed(kind: str, value: Any, path: str, tables: Mapping[str, Mapping[str, str]]) -> Any:
    bad = invalid(f"Invalid value at '{path}', {json.dumps(value)[:80]}", path)
    if kind in tables:
        if not isinstance(value, dict):
            raise bad
        return normalise(value, kind, path, tables)
    if kind == "string":
        if not isinstance(value, str):
            raise bad
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise bad
        return value
    if kind == "int64":
        return _int64(value, path)
    if kind == "double":
        if isinstance(value, bool):
            raise bad
        if isinstance(value, int | float):
            return value
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                raise bad from None
        raise bad
    if kind in schema.ENUMS:
        return _enum(kind, value, path)
    if kind == "labels":
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise bad
        return dict(value)
    if kind in ("object", "output"):
        return value
    raise bad


def _int64(value: Any, path: str) -> str:
    """int64 arrives as a number or a decimal string and is kept as a string (proto3 JSON)."""
    if not isinstance(value, bool):
        if isinstance(value, int) or (isinstance(value, str) and _INT64.fullmatch(value)):
            return str(int(value))
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
    raise invalid(f"Invalid value at '{path}' (TYPE_INT64), {json.dumps(value)[:80]}", path)


def _enum(kind: str, value: Any, path: str) -> str:
    """An enum by name or by number (the GAPIC REST transport sends numbers); kept as the name."""
    names = schema.ENUMS[kind]
    if isinstance(value, str) and value in names.values():
        return value
    # A number, or a number in a string (protobuf's own JSON parser takes both).
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,10}", value):
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value in names:
        return names[value]
    raise invalid(
        f"Invalid value at '{path}' (type.googleapis.com/google.cloud.aiplatform.v1."
        f'{schema.ENUM_TYPES[kind]}), "{str(value)[:40]}"',
        path,
    )


def _check_dataset_uri(value: Any, key: str) -> None:
    if isinstance(value, str) and re.fullmatch(
        r"projects/[^/]+/locations/[^/]+/datasets/[^/]+", value
    ):
        return  # a Vertex multimodal dataset
    if (
        not isinstance(value, str)
        or not re.fullmatch(r"gs://[a-z0-9][a-z0-9._\-]{0,221}/\S+", value)
        or not value.endswith(".jsonl")
    ):
        path = "tuning_job.supervised_tuning_spec." + snake(key)
        raise invalid(f"{snake(key)} should be a GCS object of type JSONL", path)


def _check_labels(labels: Any) -> None:
    if not labels:
        return
    if len(labels) > 64:
        raise invalid("At most 64 labels are allowed.", "tuning_job.labels")
    for key, value in labels.items():
        if not _LABEL_KEY.fullmatch(key) or not _LABEL_VALUE.fullmatch(value):
            raise invalid(
                f"Label key and value must be lowercase letters, digits, '_' or '-', at most 63 "
                f"characters; key must start with a letter: {key[:64]}",
                "tuning_job.labels",
            )


def _check_kms_key(spec: Any, region: str) -> None:
    # kmsKeyName is required in an EncryptionSpec, and the key must be in the job's region.
    path = "tuning_job.encryption_spec.kms_key_name"
    name = spec.get("kmsKeyName") if isinstance(spec, dict) else None
    match = _KMS_KEY.fullmatch(name) if isinstance(name, str) else None
    if match is None:
        raise invalid(
            "kms_key_name must be of the form "
            "projects/{project}/locations/{location}/keyRings/{key_ring}/cryptoKeys/{crypto_key}.",
            path,
        )
    if match[1] != region:
        raise invalid(
            f"The Cloud KMS key must be in the same region as the tuning job ({region}): {name}",
            path,
        )


def _source_model(body: dict[str, Any], context: CreateContext) -> str | None:
    """The base model id the job tunes (None: a tuned model the emulator did not make)."""
    present = [name for name in _SOURCE_MODEL if name in body]
    if len(present) > 1:
        raise invalid(
            "Invalid JSON payload received. Oneof field 'source_model' is already set. "
            "Cannot set 'preTunedModel'.",
            "tuning_job.pre_tuned_model",
        )
    if not present:
        raise invalid("base_model is required.", "tuning_job.base_model")
    if "baseModel" in body:
        if not body["baseModel"]:
            raise invalid("base_model is required.", "tuning_job.base_model")
        return str(body["baseModel"])
    pre = body["preTunedModel"]
    name = pre.get("tunedModelName", "")
    if not _TUNED_MODEL.fullmatch(name):
        raise invalid(
            "pre_tuned_model.tuned_model_name must be of the form "
            "projects/{project}/locations/{location}/models/{model}[@{version}].",
            "tuning_job.pre_tuned_model.tuned_model_name",
        )
    pre.pop("baseModel", None)  # output only
    return context.tuned_models(name)


def validate_create(raw: Any, context: CreateContext) -> tuple[dict[str, Any], str | None]:
    """The normalised body and the base model it derives from; raises ApiError when refused."""
    if not isinstance(raw, dict):
        raise invalid(
            "Invalid JSON payload received. Expected an object for 'tuning_job'.", "tuning_job"
        )
    tables = schema.messages(context.version)
    body = normalise(raw, "tuning_job", "tuning_job", tables)
    for name, kind in tables["tuning_job"].items():
        if kind == "output":
            body.pop(name, None)  # output-only fields in a request are ignored, as Google does
    model_id = _source_model(body, context)
    supervised = body.get("supervisedTuningSpec")
    if not isinstance(supervised, dict):
        raise invalid(
            "Tuning spec is required: set supervised_tuning_spec.",
            "tuning_job.supervised_tuning_spec",
        )
    for key in ("trainingDatasetUri", "validationDatasetUri"):
        if key == "trainingDatasetUri" or key in supervised:
            _check_dataset_uri(supervised.get(key), key)
    display = body.get("tunedModelDisplayName")
    if isinstance(display, str) and len(display) > 128:
        raise invalid(
            "tuned_model_display_name must be at most 128 characters.",
            "tuning_job.tuned_model_display_name",
        )
    _check_labels(body.get("labels"))
    if "encryptionSpec" in body:
        _check_kms_key(body["encryptionSpec"], context.region)
    hyper = supervised.get("hyperParameters") or {}
    _check_hyper(hyper)
    if model_id is not None:
        _check_model(model_id, hyper, context)
    return body, model_id


def _check_hyper(hyper: Mapping[str, Any]) -> None:
    prefix = "tuning_job.supervised_tuning_spec.hyper_parameters."
    epochs = hyper.get("epochCount")
    if epochs is not None and int(epochs) < 1:
        raise invalid("epoch_count must be a positive number.", prefix + "epoch_count")
    lr = hyper.get("learningRateMultiplier")
    if lr is not None and float(lr) <= 0:
        raise invalid(
            "learning_rate_multiplier must be positive.", prefix + "learning_rate_multiplier"
        )


def _check_model(model_id: str, hyper: Mapping[str, Any], context: CreateContext) -> None:
    rule = context.models.get(model_id)
    if rule is None or not rule.accepted_on(context.today):
        raise invalid(f"Base model {model_id} is not supported.", "tuning_job.base_model")
    if context.region not in rule.regions:
        raise invalid(
            f"Base model {model_id} is not supported in region {context.region}.",
            "tuning_job.base_model",
        )
    size = schema.ADAPTER_SIZES.get(str(hyper.get("adapterSize", "ADAPTER_SIZE_UNSPECIFIED")))
    if size is not None and size not in rule.adapter_sizes:
        raise invalid(
            "The adapter size is not supported for this base model.",
            "tuning_job.supervised_tuning_spec.hyper_parameters.adapter_size",
        )
