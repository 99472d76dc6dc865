"""`tuning-bot emulator` as a real process answers the API the bot uses."""

from __future__ import annotations

import httpx

from bot.tuning.refs import JobRef
from bot.tuning.states import JobState
from bot.vertex.auth import NoAuth
from bot.vertex.client import TuningClient
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
