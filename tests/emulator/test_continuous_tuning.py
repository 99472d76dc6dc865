"""Continuous tuning: `preTunedModel` instead of `baseModel` (a oneof)."""

from __future__ import annotations

import httpx

from bot.emulator import SUCCEEDED
from tests.emulator.conftest import GOOD, NUMBERED, PARENT, STEP, error_of
from tests.fakes.vertex_emulator import ManualClock

SPEC = GOOD["supervisedTuningSpec"]


async def test_tuning_a_model_the_emulator_made_names_its_base_model(
    api: httpx.AsyncClient, clock: ManualClock
) -> None:
    first = (await api.post(f"/v1/{PARENT}/tuningJobs", json=GOOD)).json()["name"]
    clock.advance(2 * STEP)
    done = (await api.get(f"/v1/{first}")).json()
    assert done["state"] == SUCCEEDED
    tuned = done["tunedModel"]["model"]

    pre = {"tunedModelName": tuned, "checkpointId": "2"}
    again = await api.post(
        f"/v1beta1/{PARENT}/tuningJobs", json={"preTunedModel": pre, "supervisedTuningSpec": SPEC}
    )
    assert again.status_code == 200, again.text
    job = again.json()
    assert job["name"].startswith(f"{NUMBERED}/tuningJobs/")
    assert job["preTunedModel"] == {**pre, "baseModel": "gemini-3.5-flash"}
    assert "baseModel" not in job  # one member of the oneof only
    clock.advance(2 * STEP)
    finished = (await api.get(f"/v1/{job['name']}")).json()
    # The base model decides where the endpoint is served (3.x: multi-region).
    assert "/locations/us/endpoints/" in finished["tunedModel"]["endpoint"]


async def test_a_tuned_model_from_elsewhere_is_echoed(api: httpx.AsyncClient) -> None:
    pre = {"tunedModelName": "projects/other/locations/us-central1/models/42@3"}
    job = (
        await api.post(
            f"/v1/{PARENT}/tuningJobs", json={"pre_tuned_model": pre, "supervisedTuningSpec": SPEC}
        )
    ).json()
    assert job["preTunedModel"] == pre


async def test_both_or_neither_source_model_is_refused(api: httpx.AsyncClient) -> None:
    pre = {"tunedModelName": "projects/p/locations/us-central1/models/42"}
    both = {**GOOD, "preTunedModel": pre}
    assert (
        "oneof"
        in error_of(await api.post(f"/v1/{PARENT}/tuningJobs", json=both), 400)["message"].lower()
    )
    neither = {"supervisedTuningSpec": SPEC}
    error_of(await api.post(f"/v1/{PARENT}/tuningJobs", json=neither), 400)
    malformed = {"preTunedModel": {"tunedModelName": "models/42"}, "supervisedTuningSpec": SPEC}
    error = error_of(await api.post(f"/v1/{PARENT}/tuningJobs", json=malformed), 400)
    assert "tuned_model_name" in error["message"]


async def test_the_base_model_rules_apply_to_a_known_tuned_model(
    api: httpx.AsyncClient, clock: ManualClock
) -> None:
    first = (await api.post(f"/v1/{PARENT}/tuningJobs", json=GOOD)).json()["name"]
    clock.advance(2 * STEP)
    tuned = (await api.get(f"/v1/{first}")).json()["tunedModel"]["model"]
    spec = {**SPEC, "hyperParameters": {"adapterSize": "ADAPTER_SIZE_THIRTY_TWO"}}
    response = await api.post(
        f"/v1/{PARENT}/tuningJobs",
        json={"preTunedModel": {"tunedModelName": tuned}, "supervisedTuningSpec": spec},
    )
    assert "adapter size" in error_of(response, 400)["message"]
