"""Vertex names every resource by project NUMBER, whatever the request URL said."""

from __future__ import annotations

import httpx
import pytest

from bot.emulator import RUNNING, SUCCEEDED, Emulator, derived_number
from bot.emulator.cli import parse_args
from tests.emulator.conftest import GOOD, NUMBER, NUMBERED, PARENT, PROJECT, REGION, STEP
from tests.fakes.vertex_emulator import ManualClock


async def test_names_carry_the_number_and_either_form_reaches_the_job(
    api: httpx.AsyncClient, clock: ManualClock
) -> None:
    created = (await api.post(f"/v1/{PARENT}/tuningJobs", json=GOOD)).json()
    job_id = created["name"].rsplit("/", 1)[1]
    assert created["name"] == f"{NUMBERED}/tuningJobs/{job_id}"

    by_id = (await api.get(f"/v1/{PARENT}/tuningJobs/{job_id}")).json()
    by_number = (await api.get(f"/v1/{NUMBERED}/tuningJobs/{job_id}")).json()
    assert by_id == by_number
    listed = (await api.get(f"/v1/{NUMBERED}/tuningJobs")).json()["tuningJobs"]
    assert [job["name"] for job in listed] == [created["name"]]

    clock.advance(2 * STEP)
    done = (await api.get(f"/v1/{PARENT}/tuningJobs/{job_id}")).json()
    assert done["state"] == SUCCEEDED
    assert done["tunedModel"]["model"].startswith(f"{NUMBERED}/models/")
    assert done["tunedModel"]["endpoint"].startswith(f"projects/{NUMBER}/locations/us/endpoints/")
    assert done["experiment"].startswith(f"{NUMBERED}/metadataStores/default/contexts/")
    assert all(
        c["endpoint"].startswith(f"projects/{NUMBER}/") for c in done["tunedModel"]["checkpoints"]
    )

    assert (await api.post(f"/v1/{PARENT}/tuningJobs/{job_id}:cancel", json={})).status_code == 400


def test_add_job_returns_the_number_form_and_set_state_takes_either(emulator: Emulator) -> None:
    name = emulator.add_job(PROJECT, REGION)
    assert name.startswith(f"{NUMBERED}/tuningJobs/")
    job_id = name.rsplit("/", 1)[1]
    emulator.set_state(f"{PARENT}/tuningJobs/{job_id}", RUNNING)
    assert emulator.jobs()[0]["state"] == RUNNING
    emulator.set_state(name, SUCCEEDED)
    assert emulator.jobs()[0]["state"] == SUCCEEDED


def test_numbers_are_stable_twelve_digit_and_differ_by_project() -> None:
    first = derived_number("some-project")
    assert first == derived_number("some-project")
    assert len(first) == 12
    assert first.isdigit()
    assert first != derived_number("other-project")
    name = Emulator().add_job("some-project", REGION)
    assert name.startswith(f"projects/{first}/locations/{REGION}/")


def test_a_default_number_applies_to_every_unnamed_project() -> None:
    emulator = Emulator(project_numbers={"*": "999999999999", "named": "111111111111"})
    assert emulator.add_job("anything", REGION).startswith("projects/999999999999/")
    assert emulator.add_job("named", REGION).startswith("projects/111111111111/")


def test_bad_numbers_are_refused() -> None:
    with pytest.raises(ValueError, match="digits"):
        Emulator(project_numbers={PROJECT: "acme"})


def test_the_cli_takes_id_equals_number_or_a_bare_number() -> None:
    args = parse_args(["--project-number", "acme-ml=123", "--project-number", "456"])
    assert dict(args.project_number) == {"acme-ml": "123", "*": "456"}
    with pytest.raises(SystemExit):
        parse_args(["--project-number", "acme-ml=x"])
