"""The experiment a started job names is served as a Metadata Context."""

from __future__ import annotations

import httpx
import pytest

from bot.emulator import RUNNING, Emulator
from tests.emulator.conftest import GOOD, NUMBER, NUMBERED, PARENT, REGION, STEP, error_of
from tests.fakes.vertex_emulator import ManualClock


@pytest.mark.parametrize("version", ["v1", "v1beta1"])
async def test_a_running_job_s_experiment_is_a_context(
    api: httpx.AsyncClient, clock: ManualClock, version: str
) -> None:
    name = (await api.post(f"/v1/{PARENT}/tuningJobs", json=GOOD)).json()["name"]
    clock.advance(STEP)
    job = (await api.get(f"/v1/{name}")).json()
    assert job["state"] == RUNNING
    experiment = job["experiment"]
    assert experiment.startswith(f"{NUMBERED}/metadataStores/default/contexts/")

    context = (await api.get(f"/{version}/{experiment}")).json()
    context_id = experiment.rsplit("/", 1)[1]
    assert context["name"] == experiment
    assert context["displayName"] == context_id
    assert context["schemaTitle"] == "system.Experiment"
    assert context["createTime"] <= context["updateTime"]
    tensorboard = context["metadata"]["backing_tensorboard_resource"]
    assert tensorboard.startswith(f"projects/{NUMBER}/locations/{REGION}/tensorboards/")
    # The request may name the project by id too.
    by_id = f"/{version}/{PARENT}/metadataStores/default/contexts/{context_id}"
    assert (await api.get(by_id)).json() == context


async def test_no_experiment_before_the_job_starts(api: httpx.AsyncClient) -> None:
    created = (await api.post(f"/v1/{PARENT}/tuningJobs", json=GOOD)).json()
    assert "experiment" not in created
    job_id = created["name"].rsplit("/", 1)[1]
    path = f"/v1/{NUMBERED}/metadataStores/default/contexts/tuning-experiment-{job_id}"
    assert error_of(await api.get(path), 404)["status"] == "NOT_FOUND"


async def test_unknown_contexts_are_googles_404(api: httpx.AsyncClient) -> None:
    path = f"/v1beta1/{PARENT}/metadataStores/default/contexts/nothing-here"
    error = error_of(await api.get(path), 404)
    assert error["status"] == "NOT_FOUND"
    assert "nothing-here" in error["message"]


async def test_experiment_reads_take_injected_faults(
    api: httpx.AsyncClient, emulator: Emulator, clock: ManualClock
) -> None:
    name = (await api.post(f"/v1/{PARENT}/tuningJobs", json=GOOD)).json()["name"]
    clock.advance(STEP)
    experiment = (await api.get(f"/v1/{name}")).json()["experiment"]
    emulator.inject("experiment", 503)
    assert error_of(await api.get(f"/v1/{experiment}"), 503)["status"] == "UNAVAILABLE"
    assert (await api.get(f"/v1/{experiment}")).status_code == 200
    assert emulator.counts["experiment"] == 2
