"""Every body the client sends, and every answer the emulator gives, fits Google's discovery
document for aiplatform v1 (the copy shipped in google-api-python-client)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
import re
from pathlib import Path
from typing import Any

import googleapiclient
import httpx
import pytest

from bot.emulator import (
    ALL_STATES,
    CANCELLING,
    EXPIRED,
    FAILED,
    PARTIALLY_SUCCEEDED,
    PAUSED,
    PENDING,
    RUNNING,
    SUCCEEDED,
    EmulatorServer,
    schema,
)
from bot.tuning.catalogue import ModelInfo, default_catalogue
from bot.tuning.refs import Location
from bot.tuning.spec import (
    ADAPTER_SIZE,
    BASE_MODEL,
    DISPLAY_NAME,
    EPOCHS,
    LEARNING_RATE_MULTIPLIER,
    TRAINING_DATASET,
    VALIDATION_DATASET,
    TuningJobSpec,
    validate_form,
)
from bot.tuning.submission_key import labels_for_submission
from bot.vertex.client import TuningClient
from bot.vertex.errors import InvalidArgument
from bot.vertex.wire import spec_to_body
from tests.fakes.vertex_emulator import ManualClock, client_for, running_emulator
from tests.vertex.discovery import document, method, validate

TUNING_JOB = "GoogleCloudAiplatformV1TuningJob"
LIST_RESPONSE = "GoogleCloudAiplatformV1ListTuningJobsResponse"
EMPTY = "GoogleProtobufEmpty"
TODAY = dt.date(2026, 11, 25)
OPTIONAL = {
    VALIDATION_DATASET: "gs://team-data/validation.jsonl",
    EPOCHS: "4",
    LEARNING_RATE_MULTIPLIER: "0.5",
    DISPLAY_NAME: "サポート用モデル v2 — 日本語",
}


def _region(model: ModelInfo) -> str:
    return model.tuning_regions[0] if model.tuning_regions else "us-central1"


def _specs() -> list[tuple[str, TuningJobSpec]]:
    """The catalogue × every subset of optional fields × every adapter size of the model."""
    specs: list[tuple[str, TuningJobSpec]] = []
    for model in default_catalogue():
        region = _region(model)
        sizes: list[int | None] = [None, *model.adapter_sizes]
        names = list(OPTIONAL)
        for count in range(len(names) + 1):
            for chosen in itertools.combinations(names, count):
                for size in sizes if count in (0, len(names)) else sizes[:2]:
                    form = {BASE_MODEL: model.model_id, TRAINING_DATASET: "gs://team-data/t.jsonl"}
                    form.update({name: OPTIONAL[name] for name in chosen})
                    if size is not None:
                        form[ADAPTER_SIZE] = str(size)
                    check = validate_form(
                        form, catalogue=default_catalogue(), region=region, today=TODAY
                    )
                    assert check.spec is not None, (form, check.errors)
                    specs.append((region, check.spec))
        # Labels and description come from elsewhere than the form: cover them too.
        _, base = specs[-1]
        key = "f" * 40
        specs.append((region, base.with_labels(labels_for_submission(key))))
        specs.append((region, dataclasses.replace(base, description="説明 & <notes>")))
        advanced = dataclasses.replace(
            base,
            export_last_checkpoint_only=True,
            service_account="tuner@my-project.iam.gserviceaccount.com",
            kms_key_name=f"projects/my-project/locations/{region}/keyRings/ring/cryptoKeys/key",
        )
        specs.append((region, advanced))
    return specs


SPECS = _specs()


def test_the_case_list_covers_every_model_and_field() -> None:
    models = {spec.base_model for _, spec in SPECS}
    assert models == {model.model_id for model in default_catalogue()}
    assert any(spec.validation_dataset_uri for _, spec in SPECS)
    assert any(spec.epochs for _, spec in SPECS)
    assert any(spec.learning_rate_multiplier for _, spec in SPECS)
    assert any(spec.display_name for _, spec in SPECS)
    assert any(spec.adapter_size == 32 or spec.adapter_size == 16 for _, spec in SPECS)
    assert any(spec.labels for _, spec in SPECS)
    assert any(spec.description for _, spec in SPECS)
    assert any(spec.export_last_checkpoint_only for _, spec in SPECS)
    assert any(spec.service_account for _, spec in SPECS)
    assert any(spec.kms_key_name for _, spec in SPECS)


def test_spec_to_body_fits_the_discovery_document() -> None:
    for _, spec in SPECS:
        body = spec_to_body(spec)
        assert validate(body, TUNING_JOB, request=True) == [], body


async def test_bodies_as_received_over_http_fit_the_discovery_document() -> None:
    create = method("create")
    assert create["request"]["$ref"] == TUNING_JOB
    path_pattern = re.compile(r"projects/[^/]+/locations/[^/]+/tuningJobs")
    accepted = 0
    refusals: list[str] = []
    with running_emulator(3600) as server:
        async with httpx.AsyncClient() as http:
            client = client_for(server, http)
            for region, spec in SPECS:
                try:
                    await client.create(Location("emulator-project", region), spec)
                    accepted += 1
                except InvalidArgument as exc:
                    # Retired models: Google refuses them, but the body must still be well-formed.
                    refusals.append(exc.message)
        received = [(path, body) for m, path, body in server.emulator.received if m == "create"]
    assert len(received) == len(SPECS)
    assert accepted > 0
    assert refusals
    assert all("is not supported" in message for message in refusals)
    for path, body in received:
        assert path_pattern.fullmatch(path), path
        assert validate(body, TUNING_JOB, request=True) == [], body


def test_emulator_accepts_exactly_the_discovery_field_names() -> None:
    schemas = document()["schemas"]

    def names(schema_id: str) -> set[str]:
        return set(schemas[schema_id]["properties"])

    assert set(schema.TUNING_JOB_FIELDS) == names(TUNING_JOB)
    assert set(schema.SUPERVISED_FIELDS) == names("GoogleCloudAiplatformV1SupervisedTuningSpec")
    assert set(schema.HYPER_FIELDS) == names("GoogleCloudAiplatformV1SupervisedHyperParameters")
    assert set(schema.ENCRYPTION_FIELDS) == names("GoogleCloudAiplatformV1EncryptionSpec")
    assert set(schema.PRE_TUNED_MODEL_FIELDS) == names("GoogleCloudAiplatformV1PreTunedModel")
    enum = schemas["GoogleCloudAiplatformV1SupervisedHyperParameters"]["properties"]["adapterSize"][
        "enum"
    ]
    assert set(schema.ADAPTER_SIZES) == set(enum)
    # Every name has exactly one proto number (numbers accepted on input, as proto3 JSON does).
    assert sorted(schema.ENUMS["adapterSize"].values()) == sorted(enum)
    states = schemas[TUNING_JOB]["properties"]["state"]["enum"]
    assert set(states) == ALL_STATES


def test_v1beta1_fields_are_the_beta_discovery_document_s() -> None:
    path = (
        Path(googleapiclient.__file__).parent / "discovery_cache/documents/aiplatform.v1beta1.json"
    )
    schemas = json.loads(path.read_text("utf-8"))["schemas"]
    beta = schema.messages("v1beta1")
    pairs = {
        "tuning_job": "TuningJob",
        "supervisedTuningSpec": "SupervisedTuningSpec",
        "hyperParameters": "SupervisedHyperParameters",
        "encryptionSpec": "EncryptionSpec",
        "preTunedModel": "PreTunedModel",
    }
    for table, schema_id in pairs.items():
        expected = set(schemas[f"GoogleCloudAiplatformV1beta1{schema_id}"]["properties"])
        assert set(beta[table]) == expected, table


async def _raw(http: httpx.AsyncClient, server: EmulatorServer, verb: str, path: str) -> Any:
    response = await http.request(
        verb, f"{server.base_url}/v1/{path}", json={} if verb == "POST" else None
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_emulator_answers_fit_the_discovery_document() -> None:
    clock = ManualClock()
    project, region = "emulator-project", "us-central1"
    parent = f"projects/{project}/locations/{region}"
    with running_emulator(10, clock=clock) as server:
        emulator = server.emulator
        async with httpx.AsyncClient() as http:
            created = (
                await http.post(
                    f"{server.base_url}/v1/{parent}/tuningJobs",
                    json=spec_to_body(SPECS[-1][1]) | {"baseModel": "gemini-3.5-flash"},
                )
            ).json()
            assert validate(created, TUNING_JOB) == []
            # The advanced fields come back on the job as they were sent.
            assert created["serviceAccount"] == "tuner@my-project.iam.gserviceaccount.com"
            assert created["encryptionSpec"]["kmsKeyName"].endswith("/cryptoKeys/key")
            assert created["supervisedTuningSpec"]["exportLastCheckpointOnly"] is True
            names = [created["name"]]
            for uri in ("gs://b/fail.jsonl", "gs://b/expire.jsonl", "gs://b/partial.jsonl"):
                names.append(emulator.add_job(project, region, training_uri=uri))
            paused = emulator.add_job(project, region, state=PAUSED)
            names.append(emulator.add_job(project, region, state="JOB_STATE_QUEUED"))
            running = emulator.add_job(project, region, state=RUNNING)
            seen: set[str] = set()
            for _ in range(4):  # (QUEUED,) PENDING, RUNNING, then each job's ending
                for name in [*names, paused, running]:
                    job = await _raw(http, server, "GET", name)
                    seen.add(job["state"])
                    assert validate(job, TUNING_JOB) == [], job
                clock.advance(10)
            cancel_me = emulator.add_job(project, region, state=RUNNING)
            assert validate(await _raw(http, server, "POST", f"{cancel_me}:cancel"), EMPTY) == []
            job = await _raw(http, server, "GET", cancel_me)
            seen.add(job["state"])
            assert validate(job, TUNING_JOB) == []
            clock.advance(10)
            job = await _raw(http, server, "GET", cancel_me)
            seen.add(job["state"])
            assert validate(job, TUNING_JOB) == []
            listing = await _raw(http, server, "GET", f"{parent}/tuningJobs?pageSize=2")
            assert validate(listing, LIST_RESPONSE) == []
            assert "nextPageToken" in listing
            empty = await _raw(http, server, "GET", "projects/nobody-here/locations/x/tuningJobs")
            assert empty == {}
            assert validate(empty, LIST_RESPONSE) == []
    assert seen >= {
        "JOB_STATE_QUEUED",
        PENDING,
        RUNNING,
        SUCCEEDED,
        FAILED,
        EXPIRED,
        PARTIALLY_SUCCEEDED,
        PAUSED,
        CANCELLING,
        "JOB_STATE_CANCELLED",
    }


@pytest.mark.parametrize("status", [400, 403, 404, 429, 503])
async def test_error_answers_have_googles_shape(status: int) -> None:
    with running_emulator(3600) as server:
        server.emulator.inject("list", status)
        async with httpx.AsyncClient() as http:
            response = await http.get(
                f"{server.base_url}/v1/projects/p-proj1/locations/us-central1/tuningJobs"
            )
    assert response.status_code == status
    error = response.json()["error"]
    assert set(error) <= {"code", "message", "status", "details"}
    assert error["code"] == status
    assert validate({k: v for k, v in error.items() if k != "status"}, "GoogleRpcStatus") == []


def test_the_client_uses_the_discovery_paths() -> None:
    assert method("create")["path"] == "v1/{+parent}/tuningJobs"
    assert method("list")["path"] == "v1/{+parent}/tuningJobs"
    assert method("get")["path"] == "v1/{+name}"
    assert method("cancel")["path"] == "v1/{+name}:cancel"
    assert method("list")["httpMethod"] == "GET"
    assert set(method("list")["parameters"]) >= {"filter", "pageSize", "pageToken"}
    assert TuningClient.__name__  # the client builds exactly these paths (see test_client)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"baseModel": "m", "supervisedTuningSpec": {"trainingDataset": "x"}}, "unknown field"),
        (
            {"supervisedTuningSpec": {"hyperParameters": {"epochCount": 3}}},
            "expected a string (int64)",
        ),
        (
            {"supervisedTuningSpec": {"hyperParameters": {"adapterSize": "ADAPTER_SIZE_3"}}},
            "is not one of",
        ),
        ({"state": "JOB_STATE_QUEUED"}, "output-only"),
        ({"labels": {"k": 1}}, "expected a string"),
        ({"tuned_model_display_name": "x"}, "unknown field"),
    ],
)
def test_the_validator_catches_what_google_would_refuse(body: dict[str, Any], problem: str) -> None:
    problems = validate(body, TUNING_JOB, request=True)
    assert any(problem in p for p in problems), problems
