"""A paid job is never doubled: create is not resent blindly, and submit_job resolves unknowns."""

from __future__ import annotations

import httpx
import pytest

from bot.emulator import EmulatorServer
from bot.tuning.spec import TuningJobSpec
from bot.tuning.submission_key import SUBMISSION_LABEL
from bot.vertex.auth import NoAuth
from bot.vertex.client import TuningClient
from bot.vertex.errors import CreateOutcomeUnknown, Unavailable
from bot.vertex.submit import find_submitted, submit_job
from tests.conftest import free_port
from tests.fakes.vertex_emulator import (
    LOCATION,
    RecordedSleeps,
    client_for,
    fast_retry,
    running_emulator,
)

KEY = "0123456789abcdef0123456789abcdef01234567"


async def test_create_answered_503_is_not_resent(
    client: TuningClient, server: EmulatorServer, spec: TuningJobSpec
) -> None:
    server.emulator.inject("create", 503, after_commit=True)

    with pytest.raises(CreateOutcomeUnknown):
        await client.create(LOCATION, spec)

    assert server.emulator.counts["create"] == 1
    assert len(server.emulator.jobs()) == 1


async def test_create_whose_answer_times_out_is_not_resent(
    server: EmulatorServer, http: httpx.AsyncClient, spec: TuningJobSpec
) -> None:
    client = client_for(server, http, timeout=0.3)
    server.emulator.inject("create", 200, delay=1.5, after_commit=True)

    with pytest.raises(CreateOutcomeUnknown):
        await client.create(LOCATION, spec)

    assert server.emulator.counts["create"] == 1
    assert client.calls["create"] == 1


async def test_create_that_never_connected_may_be_resent(
    http: httpx.AsyncClient, spec: TuningJobSpec, sleeps: RecordedSleeps
) -> None:
    client = TuningClient(
        http,
        auth=NoAuth(),
        emulator_host=f"127.0.0.1:{free_port()}",
        retry=fast_retry(3, sleeps),
        timeout=1.0,
    )

    with pytest.raises(Unavailable) as caught:
        await client.create(LOCATION, spec)

    assert caught.value.attempts == 3
    assert client.calls["create"] == 3


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 503, "after_commit": True},
        {"status": 500, "after_commit": True},
        {"status": 200, "delay": 1.5, "after_commit": True},
    ],
    ids=["503-after-commit", "500-after-commit", "timeout-after-commit"],
)
async def test_submit_job_with_a_lost_answer_yields_exactly_one_job(
    server: EmulatorServer,
    http: httpx.AsyncClient,
    spec: TuningJobSpec,
    sleeps: RecordedSleeps,
    fault: dict[str, object],
) -> None:
    client = client_for(server, http, timeout=0.5)
    server.emulator.inject("create", **fault)  # type: ignore[arg-type]

    result = await submit_job(client, LOCATION, spec, KEY, sleep=sleeps)

    jobs = server.emulator.jobs()
    assert len(jobs) == 1
    assert result.job.name == jobs[0]["name"]
    assert result.reused is True
    assert result.job.labels[SUBMISSION_LABEL] == KEY
    assert server.emulator.counts["create"] == 1


async def test_submit_job_never_sends_a_create_twice(
    server: EmulatorServer, client: TuningClient, spec: TuningJobSpec, sleeps: RecordedSleeps
) -> None:
    server.emulator.inject("create", 503)  # refused; the bot cannot know it was not created

    with pytest.raises(CreateOutcomeUnknown):
        await submit_job(client, LOCATION, spec, KEY, sleep=sleeps)

    assert server.emulator.counts["create"] == 1
    assert len(sleeps.delays) == 3  # three look-ups found nothing; the caller keeps looking


async def test_a_job_listings_do_not_show_yet_is_found_later_not_created_again(
    server: EmulatorServer, client: TuningClient, spec: TuningJobSpec, sleeps: RecordedSleeps
) -> None:
    # Google created the job and lost the answer, and `list` does not show it for a while.
    server.emulator.listing_delay = 3600.0
    server.emulator.inject("create", 503, after_commit=True)

    with pytest.raises(CreateOutcomeUnknown):
        await submit_job(client, LOCATION, spec, KEY, sleep=sleeps)
    assert await find_submitted(client, LOCATION, KEY) is None

    server.emulator.listing_delay = 0.0
    found = await find_submitted(client, LOCATION, KEY)
    assert found is not None
    assert found.name == server.emulator.jobs()[0]["name"]
    assert server.emulator.counts["create"] == 1


async def test_submit_job_with_failing_look_ups_does_not_create_again(
    server: EmulatorServer, client: TuningClient, spec: TuningJobSpec, sleeps: RecordedSleeps
) -> None:
    server.emulator.inject("list", 200)  # the first look-up works (faults queue in order)
    server.emulator.inject("list", 503, times=1000)  # every later one fails
    server.emulator.inject("create", 503, after_commit=True)

    with pytest.raises(CreateOutcomeUnknown):
        await submit_job(client, LOCATION, spec, KEY, sleep=sleeps)

    assert server.emulator.counts["create"] == 1
    assert len(server.emulator.jobs()) == 1


async def test_submit_job_reports_when_the_first_look_up_fails(
    server: EmulatorServer, client: TuningClient, spec: TuningJobSpec, sleeps: RecordedSleeps
) -> None:
    server.emulator.inject("list", 503, times=1000)

    with pytest.raises(Unavailable):
        await submit_job(client, LOCATION, spec, KEY, sleep=sleeps)

    assert server.emulator.counts["create"] == 0


async def test_resubmitting_the_same_key_reuses_the_job(
    server: EmulatorServer, client: TuningClient, spec: TuningJobSpec, sleeps: RecordedSleeps
) -> None:
    first = await submit_job(client, LOCATION, spec, KEY, sleep=sleeps)
    second = await submit_job(client, LOCATION, spec, KEY, sleep=sleeps)

    assert first.reused is False
    assert second.reused is True
    assert second.job.name == first.job.name
    assert server.emulator.counts["create"] == 1


async def test_submit_job_works_when_google_ignores_the_filter(
    http: httpx.AsyncClient, spec: TuningJobSpec, sleeps: RecordedSleeps
) -> None:
    with running_emulator(3600, honour_filter=False) as server:
        client = client_for(server, http, timeout=0.5)
        for _ in range(3):
            server.emulator.add_job(LOCATION.project, LOCATION.region, labels={"other": "x"})
        server.emulator.inject("create", 503, after_commit=True)

        result = await submit_job(client, LOCATION, spec, KEY, sleep=sleeps)

        assert result.reused is True
        assert result.job.labels[SUBMISSION_LABEL] == KEY
        assert len(server.emulator.jobs()) == 4
        assert server.emulator.counts["create"] == 1
