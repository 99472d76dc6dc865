"""Both API versions are served, and nothing answers outside Google's JSON error shape."""

from __future__ import annotations

import httpx
import pytest

from bot.emulator import Emulator
from tests.emulator.conftest import GOOD, PARENT, error_of


@pytest.mark.parametrize("version", ["v1", "v1beta1"])
async def test_both_versions_create_get_list_and_cancel(
    api: httpx.AsyncClient, version: str
) -> None:
    created = (await api.post(f"/{version}/{PARENT}/tuningJobs", json=GOOD)).json()
    job_id = created["name"].rsplit("/", 1)[1]
    other = "v1" if version == "v1beta1" else "v1beta1"
    assert (await api.get(f"/{other}/{created['name']}")).json()["name"] == created["name"]
    listed = (await api.get(f"/{version}/{PARENT}/tuningJobs")).json()
    assert [job["name"] for job in listed["tuningJobs"]] == [created["name"]]
    cancel = await api.post(f"/{version}/{PARENT}/tuningJobs/{job_id}:cancel", json={})
    assert cancel.json() == {}


@pytest.mark.parametrize(
    ("verb", "path"),
    [
        ("GET", "/"),
        ("GET", "/nowhere"),
        ("GET", "/v2/projects/p/locations/l/tuningJobs"),
        ("GET", "/v1/projects/p/elsewhere"),
        ("GET", "/v1beta1/projects/p/locations/l/models"),
        ("DELETE", f"/v1/{PARENT}/tuningJobs/1"),
        ("PATCH", f"/v1/{PARENT}/tuningJobs"),
        ("POST", f"/v1/{PARENT}/tuningJobs/1"),
        ("GET", f"/v1/{PARENT}/tuningJobs/1:cancel"),
        ("PUT", "/_emulator/stats"),
    ],
)
async def test_unknown_paths_and_methods_answer_googles_404(
    api: httpx.AsyncClient, verb: str, path: str
) -> None:
    error = error_of(await api.request(verb, path), 404)
    assert error["status"] == "NOT_FOUND"
    assert error["message"]


async def test_v1beta1_only_fields_are_accepted_there_only(api: httpx.AsyncClient) -> None:
    beta = {**GOOD, "supervisedTuningSpec": {**GOOD["supervisedTuningSpec"], "tuningMode": 2}}
    job = (await api.post(f"/v1beta1/{PARENT}/tuningJobs", json=beta)).json()
    assert job["supervisedTuningSpec"]["tuningMode"] == "TUNING_MODE_PEFT_ADAPTER"
    error = error_of(await api.post(f"/v1/{PARENT}/tuningJobs", json=beta), 400)
    assert 'Unknown name "tuningMode"' in error["message"]


async def test_the_token_is_checked_on_every_google_route() -> None:
    emulator = Emulator(require_token="static-token")
    transport = httpx.ASGITransport(app=emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://vertex.test") as api:
        error = error_of(await api.post(f"/v1beta1/{PARENT}/tuningJobs", json=GOOD), 401)
        assert error["status"] == "UNAUTHENTICATED"
        good = {"Authorization": "Bearer static-token"}
        created = await api.post(f"/v1beta1/{PARENT}/tuningJobs", json=GOOD, headers=good)
        assert created.status_code == 200
        context = "metadataStores/default/contexts/tuning-experiment-1"
        error_of(await api.get(f"/v1/{PARENT}/{context}"), 401)
