"""The emulator behaves like Google's tuning API over real loopback HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from bot.emulator import (
    CANCELLED,
    FAILED,
    PENDING,
    RUNNING,
    SUCCEEDED,
    EmulatorServer,
    derived_number,
)
from tests.fakes.vertex_emulator import ManualClock, running_emulator

PARENT = "projects/emulator-project/locations/us-central1"
NUMBER = derived_number("emulator-project")
# Vertex names resources by project NUMBER whatever the URL said.
NUMBERED = f"projects/{NUMBER}/locations/us-central1"
JOBS = f"/v1/{PARENT}/tuningJobs"
GOOD = {
    "baseModel": "gemini-3.5-flash",
    "supervisedTuningSpec": {"trainingDatasetUri": "gs://b/t.jsonl"},
}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def emu(clock: ManualClock) -> Iterator[EmulatorServer]:
    with running_emulator(10, clock=clock) as server:
        yield server


@pytest.fixture
async def api(emu: EmulatorServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=emu.base_url) as client:
        yield client


def _with(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {**GOOD, "supervisedTuningSpec": dict(GOOD["supervisedTuningSpec"])}
    for key, value in changes.items():
        if key in ("trainingDatasetUri", "validationDatasetUri", "hyperParameters"):
            body["supervisedTuningSpec"][key] = value
        else:
            body[key] = value
    return body


async def _error(response: httpx.Response, code: int) -> dict[str, Any]:
    assert response.status_code == code, response.text
    error = response.json()["error"]
    assert error["code"] == code
    return dict(error)


async def test_a_job_moves_through_its_states_on_the_timetable(
    api: httpx.AsyncClient, clock: ManualClock
) -> None:
    created = (await api.post(JOBS, json=GOOD)).json()
    path = f"/v1/{created['name']}"
    states = []
    for _ in range(3):
        states.append((await api.get(path)).json()["state"])
        clock.advance(10)
    job = (await api.get(path)).json()

    assert created["state"] == PENDING
    assert states == [PENDING, RUNNING, SUCCEEDED]
    assert created["createTime"] < job["startTime"] < job["endTime"]
    assert job["updateTime"] == job["endTime"]
    assert job["tunedModel"]["model"].startswith(f"{NUMBERED}/models/")
    assert job["tunedModel"]["model"].endswith("@1")
    # gemini-3.x endpoints are served from the multi-region location.
    assert job["tunedModel"]["endpoint"].startswith(f"projects/{NUMBER}/locations/us/")
    assert job["experiment"].startswith(NUMBERED)
    stats = job["tuningDataStats"]["supervisedTuningDataStats"]
    assert isinstance(stats["tuningDatasetExampleCount"], str)
    assert int(stats["totalBillableTokenCount"]) > 0


@pytest.mark.parametrize(
    ("uri", "state", "code"),
    [
        ("gs://b/will-fail.jsonl", FAILED, 3),
        ("gs://b/expire.jsonl", "JOB_STATE_EXPIRED", None),
        ("gs://b/partial.jsonl", "JOB_STATE_PARTIALLY_SUCCEEDED", None),
    ],
)
async def test_training_uri_chooses_the_ending(
    api: httpx.AsyncClient, clock: ManualClock, uri: str, state: str, code: int | None
) -> None:
    name = (await api.post(JOBS, json=_with(trainingDatasetUri=uri))).json()["name"]
    clock.advance(19)
    assert (await api.get(f"/v1/{name}")).json()["state"] == RUNNING
    clock.advance(1)
    job = (await api.get(f"/v1/{name}")).json()
    assert job["state"] == state
    assert job.get("error", {}).get("code") == code
    assert ("tunedModel" in job) == (state == "JOB_STATE_PARTIALLY_SUCCEEDED")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            _with(trainingDatasetUri="https://example.com/t.jsonl"),
            "should be a GCS object of type JSONL",
        ),
        (_with(trainingDatasetUri="gs://b/t.csv"), "should be a GCS object of type JSONL"),
        (_with(validationDatasetUri="/tmp/v.jsonl"), "should be a GCS object of type JSONL"),
        (
            _with(hyperParameters={"adapterSize": "ADAPTER_SIZE_THIRTY_TWO"}),
            "The adapter size is not supported for this base model.",
        ),
        (_with(hyperParameters={"adapterSize": "ADAPTER_SIZE_3"}), "Invalid value"),
        (_with(hyperParameters={"epochCount": "three"}), "TYPE_INT64"),
        (_with(hyperParameters={"epochCount": 2.5}), "TYPE_INT64"),
        (_with(hyperParameters={"epochCount": "0"}), "epoch_count"),
        (_with(baseModel="gemini-9-ultra"), "Base model gemini-9-ultra is not supported."),
        (_with(baseModel="gemini-1.5-flash-002"), "is not supported"),
        (_with(baseModel="gemini-2.5-flash"), "is not supported"),  # retired 2026-10-20
        ({"supervisedTuningSpec": GOOD["supervisedTuningSpec"]}, "base_model is required"),
        ({"baseModel": "gemini-3.5-flash"}, "supervised_tuning_spec"),
        (_with(tunedModelDisplayName="x" * 129), "at most 128 characters"),
        (_with(surprise=1), 'Unknown name "surprise"'),
        (_with(hyperParameters={"epochs": "3"}), 'Unknown name "epochs"'),
        (_with(labels={"Bad Key": "v"}), "Label"),
        (_with(labels={"k": 3}), "Invalid value"),
    ],
)
async def test_create_refuses_what_google_refuses(
    api: httpx.AsyncClient, emu: EmulatorServer, body: dict[str, Any], message: str
) -> None:
    error = await _error(await api.post(JOBS, json=body), 400)
    assert error["status"] == "INVALID_ARGUMENT"
    assert message in error["message"]
    assert emu.emulator.jobs() == []


async def test_model_restricted_to_other_regions_is_refused(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/v1/projects/emulator-project/locations/asia-northeast1/tuningJobs", json=GOOD
    )
    assert "not supported in region" in (await _error(response, 400))["message"]


async def test_create_accepts_snake_case_and_numbers_and_ignores_output_fields(
    api: httpx.AsyncClient,
) -> None:
    body = {
        "base_model": "gemini-3.5-flash",
        "supervised_tuning_spec": {
            "training_dataset_uri": "gs://b/t.jsonl",
            "hyper_parameters": {"epoch_count": 3, "learning_rate_multiplier": "0.5"},
        },
        "state": "JOB_STATE_SUCCEEDED",
        "name": "projects/x/locations/y/tuningJobs/1",
        "tunedModel": {"model": "m"},
    }
    job = (await api.post(JOBS, json=body)).json()
    assert job["state"] == PENDING
    assert job["name"].startswith(f"{NUMBERED}/tuningJobs/")
    assert "tunedModel" not in job
    assert job["supervisedTuningSpec"]["hyperParameters"]["epochCount"] == "3"


async def test_bad_json_is_refused(api: httpx.AsyncClient) -> None:
    response = await api.post(
        JOBS, content=b"{not json", headers={"content-type": "application/json"}
    )
    assert (await _error(response, 400))["status"] == "INVALID_ARGUMENT"


async def test_unknown_and_malformed_jobs(api: httpx.AsyncClient) -> None:
    missing = await _error(await api.get(f"{JOBS}/42"), 404)
    assert missing["status"] == "NOT_FOUND"
    assert f"{PARENT}/tuningJobs/42" in missing["message"]
    assert (await _error(await api.get(f"{JOBS}/not-a-number"), 400))[
        "status"
    ] == "INVALID_ARGUMENT"
    assert (await _error(await api.post(f"{JOBS}/42:cancel", json={}), 404))[
        "status"
    ] == "NOT_FOUND"
    await _error(await api.get("/v1/projects/p/elsewhere"), 404)


async def test_cancel_goes_through_cancelling_to_cancelled(
    api: httpx.AsyncClient, clock: ManualClock
) -> None:
    name = (await api.post(JOBS, json=GOOD)).json()["name"]
    clock.advance(15)  # running
    response = await api.post(f"/v1/{name}:cancel", json={})
    assert response.status_code == 200
    assert response.json() == {}
    assert (await api.get(f"/v1/{name}")).json()["state"] == "JOB_STATE_CANCELLING"
    assert (await api.post(f"/v1/{name}:cancel", json={})).status_code == 200  # again: fine
    clock.advance(10)
    job = (await api.get(f"/v1/{name}")).json()
    assert job["state"] == CANCELLED
    assert job["error"]["code"] == 1
    assert "startTime" in job  # it had started before the cancel
    assert "tunedModel" not in job
    refused = await _error(await api.post(f"/v1/{name}:cancel", json={}), 400)
    assert refused["status"] == "FAILED_PRECONDITION"


async def test_list_pages_newest_first_with_opaque_tokens(
    api: httpx.AsyncClient, emu: EmulatorServer
) -> None:
    names = [emu.emulator.add_job("emulator-project", "us-central1") for _ in range(130)]
    first = (await api.get(JOBS)).json()
    assert len(first["tuningJobs"]) == 50  # default page size
    assert first["tuningJobs"][0]["name"] == names[-1]
    capped = (await api.get(JOBS, params={"pageSize": 500})).json()
    assert len(capped["tuningJobs"]) == 100
    token = first["nextPageToken"]
    assert "50" not in token  # opaque, not an offset

    # Jobs created between pages neither repeat nor hide older ones.
    emu.emulator.add_job("emulator-project", "us-central1")
    seen = [job["name"] for job in first["tuningJobs"]]
    while token:
        page = (await api.get(JOBS, params={"pageToken": token})).json()
        seen += [job["name"] for job in page["tuningJobs"]]
        token = page.get("nextPageToken")
    assert seen == list(reversed(names))


async def test_list_refuses_bad_tokens_and_sizes(
    api: httpx.AsyncClient, emu: EmulatorServer
) -> None:
    for _ in range(3):
        emu.emulator.add_job("emulator-project", "us-central1")
    token = (await api.get(JOBS, params={"pageSize": 1})).json()["nextPageToken"]
    await _error(await api.get(JOBS, params={"pageToken": "garbage"}), 400)
    other_filter = {"pageToken": token, "filter": 'state="JOB_STATE_PENDING"'}
    await _error(await api.get(JOBS, params=other_filter), 400)
    await _error(await api.get(JOBS, params={"pageSize": -1}), 400)
    assert (await api.get("/v1/projects/nobody/locations/us-central1/tuningJobs")).json() == {}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('state="JOB_STATE_RUNNING"', {"running"}),
        ("state=JOB_STATE_RUNNING", {"running"}),
        ('state!="JOB_STATE_RUNNING"', {"pending", "done", "labelled"}),
        ('labels.team="ml"', {"labelled"}),
        ("labels.team:*", {"labelled"}),
        ('state="JOB_STATE_RUNNING" OR state="JOB_STATE_SUCCEEDED"', {"running", "done"}),
        (
            '(state="JOB_STATE_PENDING" OR state="JOB_STATE_RUNNING") AND labels.team="ml"',
            {"labelled"},
        ),
        ('NOT state="JOB_STATE_PENDING"', {"running", "done"}),
        ('state="JOB_STATE_PENDING" labels.team="ml"', {"labelled"}),
    ],
)
async def test_list_filters(
    api: httpx.AsyncClient, emu: EmulatorServer, text: str, expected: set[str]
) -> None:
    e = emu.emulator
    ids = {
        e.add_job("emulator-project", "us-central1", display_name="pending"): "pending",
        e.add_job(
            "emulator-project", "us-central1", display_name="running", state=RUNNING
        ): "running",
        e.add_job("emulator-project", "us-central1", display_name="done", state=SUCCEEDED): "done",
        e.add_job("emulator-project", "us-central1", labels={"team": "ml"}): "labelled",
    }
    jobs = (await api.get(JOBS, params={"filter": text})).json().get("tuningJobs", [])
    assert {ids[job["name"]] for job in jobs} == expected


async def test_bad_filters_are_refused(api: httpx.AsyncClient) -> None:
    for text in ('colour="red"', 'state="X" AND', "(state=X", "state"):
        await _error(await api.get(JOBS, params={"filter": text}), 400)


async def test_ignore_filter_returns_everything() -> None:
    with running_emulator(10, honour_filter=False) as server:
        server.emulator.add_job("emulator-project", "us-central1")
        server.emulator.add_job("emulator-project", "us-central1", state=RUNNING)
        async with httpx.AsyncClient(base_url=server.base_url) as api:
            jobs = (await api.get(JOBS, params={"filter": 'state="JOB_STATE_RUNNING"'})).json()
    assert len(jobs["tuningJobs"]) == 2


async def test_injected_faults_answer_like_google(
    api: httpx.AsyncClient, emu: EmulatorServer
) -> None:
    emu.emulator.inject("list", 429, times=2, retry_after=3, message="Quota exceeded.")
    emu.emulator.inject("list", 400, google_status="FAILED_PRECONDITION")
    for _ in range(2):
        response = await api.get(JOBS)
        error = await _error(response, 429)
        assert error == {"code": 429, "message": "Quota exceeded.", "status": "RESOURCE_EXHAUSTED"}
        assert response.headers["retry-after"] == "3"
    assert (await _error(await api.get(JOBS), 400))["status"] == "FAILED_PRECONDITION"
    assert (await api.get(JOBS)).status_code == 200
    assert emu.emulator.counts["list"] == 4


async def test_hold_keeps_a_request_until_released(
    api: httpx.AsyncClient, emu: EmulatorServer
) -> None:
    release = emu.emulator.hold("list")
    pending = asyncio.create_task(api.get(JOBS))
    while emu.emulator.counts["list"] == 0:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    assert not pending.done()
    release.set()
    assert (await pending).status_code == 200


def test_set_state_rules(emu: EmulatorServer) -> None:
    e = emu.emulator
    name = e.add_job("emulator-project", "us-central1", state=RUNNING)
    e.set_state(name, FAILED, error_message="Dataset example 3 is invalid.")
    job = e.jobs()[0]
    assert job["state"] == FAILED
    assert job["error"] == {"code": 3, "message": "Dataset example 3 is invalid."}
    with pytest.raises(ValueError, match="ended"):
        e.set_state(name, RUNNING)
    with pytest.raises(KeyError):
        e.set_state("projects/x/locations/y/tuningJobs/1", RUNNING)
    with pytest.raises(ValueError, match="unknown state"):
        e.add_job("p-proj1", "us-central1", state="RUNNING")


def test_ten_thousand_jobs_cost_nothing_until_read(emu: EmulatorServer) -> None:
    for _ in range(10_000):
        emu.emulator.add_job("emulator-project", "us-central1")
    with httpx.Client(base_url=emu.base_url) as api:
        page = api.get(JOBS, params={"pageSize": 100, "filter": 'state="JOB_STATE_PENDING"'}).json()
    assert len(page["tuningJobs"]) == 100


def test_http_control_plane(emu: EmulatorServer) -> None:
    with httpx.Client(base_url=emu.base_url) as api:
        name = api.post(
            "/_emulator/jobs", json={"project": "emulator-project", "region": "us-central1"}
        ).json()["name"]
        assert (
            api.post("/_emulator/state", json={"name": name, "state": RUNNING}).status_code == 200
        )
        assert api.get(f"/v1/{name}").json()["state"] == RUNNING
        assert (
            api.post("/_emulator/faults", json={"method": "get", "status": 503}).status_code == 200
        )
        assert api.get(f"/v1/{name}").status_code == 503
        assert (
            api.post("/_emulator/faults", json={"method": "nope", "status": 503}).status_code == 400
        )
        assert api.get("/_emulator/stats").json()["counts"] == {
            "create": 0,
            "get": 2,
            "list": 0,
            "cancel": 0,
        }
        assert api.post("/_emulator/reset").status_code == 200
        assert api.get("/_emulator/stats").json() == {
            "counts": {"create": 0, "get": 0, "list": 0, "cancel": 0},
            "jobs": 0,
        }


def test_forced_endings_keep_the_start_time(emu: EmulatorServer, clock: ManualClock) -> None:
    e = emu.emulator
    name = e.add_job("emulator-project", "us-central1", state=RUNNING)
    started = e.jobs()[0]["startTime"]
    clock.advance(5)
    e.set_state(name, SUCCEEDED)
    job = e.jobs()[0]
    assert job["startTime"] == started
    assert job["endTime"] > started
    assert "tunedModel" in job
