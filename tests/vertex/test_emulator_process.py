"""`tuning-bot emulator` as a real process answers the API the bot uses."""

from __future__ import annotations

import httpx
import pytest

from bot.tuning.curves import CurvesMissing, Gap, Metric
from bot.tuning.refs import JobRef
from bot.tuning.states import JobState
from bot.vertex.auth import NoAuth
from bot.vertex.client import TuningClient
from bot.vertex.errors import PermissionDenied
from tests.fakes.vertex_emulator import LOCATION, EmulatorProcess, fast_retry


async def test_emulator_subprocess_answers_a_list(vertex_emulator_process: EmulatorProcess) -> None:
    emulator = vertex_emulator_process
    name = emulator.add_job(LOCATION.project, LOCATION.region, state="JOB_STATE_RUNNING")
    emulator.inject("list", 503)
    async with httpx.AsyncClient() as http:
        client = TuningClient(
            http, auth=NoAuth(), emulator_host=emulator.host_port, retry=fast_retry()
        )
        jobs = [job async for job in client.list(LOCATION)]
        job = await client.get(JobRef.from_name(name))

    assert [j.name for j in jobs] == [name]
    assert job.state is JobState.RUNNING
    assert emulator.stats()["list"] == 2  # the 503, then the answer


def test_the_process_names_jobs_by_the_project_number_it_was_given() -> None:
    from tests.conftest import free_port

    process = EmulatorProcess(free_port(), "--project-number", f"{LOCATION.project}=555555555555")
    process.start()
    try:
        name = process.add_job(LOCATION.project, LOCATION.region)
        with httpx.Client(base_url=process.base_url) as http:
            by_id = http.get(
                f"/v1beta1/projects/{LOCATION.project}/locations/{LOCATION.region}/tuningJobs"
            )
            missing = http.get("/v1/nowhere/at/all")
    finally:
        process.stop()
    assert name.startswith(f"projects/555555555555/locations/{LOCATION.region}/tuningJobs/")
    assert [job["name"] for job in by_id.json()["tuningJobs"]] == [name]
    assert missing.json()["error"]["status"] == "NOT_FOUND"


async def test_the_process_serves_curves_and_their_faults(
    vertex_emulator_process: EmulatorProcess,
) -> None:
    emulator = vertex_emulator_process
    name = emulator.add_job(
        LOCATION.project, LOCATION.region, state="JOB_STATE_SUCCEEDED", steps=1500
    )
    hidden = emulator.add_job(LOCATION.project, LOCATION.region, state="JOB_STATE_RUNNING")
    async with httpx.AsyncClient() as http:
        client = TuningClient(
            http, auth=NoAuth(), emulator_host=emulator.host_port, retry=fast_retry()
        )
        job = await client.get(JobRef.from_name(name))
        curves = await client.read_curves(job)
        emulator.set_curves(hidden, runs=False)
        with pytest.raises(CurvesMissing) as missing:
            await client.read_curves(await client.get(JobRef.from_name(hidden)))
        emulator.inject("tensorboard", 403, times=5)
        with pytest.raises(PermissionDenied):
            await client.read_curves(job)

    assert len(curves.get(Metric.TRAIN_LOSS)) == 1500
    assert missing.value.gap is Gap.NO_RUN
