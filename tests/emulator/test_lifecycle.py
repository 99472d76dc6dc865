"""A created job answers PENDING, then RUNNING, then its outcome, on the timetable."""

from __future__ import annotations

import httpx

from bot.emulator import CANCELLED, CANCELLING, PENDING, RUNNING, SUCCEEDED
from tests.emulator.conftest import GOOD, PARENT, STEP
from tests.fakes.vertex_emulator import ManualClock


async def test_create_answers_pending_then_the_job_runs_and_ends(
    api: httpx.AsyncClient, clock: ManualClock
) -> None:
    created = (await api.post(f"/v1beta1/{PARENT}/tuningJobs", json=GOOD)).json()
    assert created["state"] == PENDING
    assert "startTime" not in created
    assert "experiment" not in created
    states = []
    for _ in range(3):
        states.append((await api.get(f"/v1/{created['name']}")).json()["state"])
        clock.advance(STEP)
    assert states == [PENDING, RUNNING, SUCCEEDED]


async def test_cancel_of_a_pending_job(api: httpx.AsyncClient, clock: ManualClock) -> None:
    name = (await api.post(f"/v1/{PARENT}/tuningJobs", json=GOOD)).json()["name"]
    assert (await api.post(f"/v1/{name}:cancel", json={})).json() == {}
    assert (await api.get(f"/v1/{name}")).json()["state"] == CANCELLING
    clock.advance(STEP)
    job = (await api.get(f"/v1/{name}")).json()
    assert job["state"] == CANCELLED
    assert job["error"]["code"] == 1
    assert "startTime" not in job
