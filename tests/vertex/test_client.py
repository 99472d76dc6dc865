"""TuningClient against the emulator over loopback HTTP: the happy path and every error path."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from bot.emulator import CANCELLED, CANCELLING, RUNNING, SUCCEEDED, EmulatorServer
from bot.metrics import REGISTRY
from bot.tuning.refs import JobRef
from bot.tuning.spec import TuningJobSpec
from bot.tuning.states import JobState
from bot.vertex.auth import NoAuth
from bot.vertex.client import TuningClient
from bot.vertex.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
    Unavailable,
)
from tests.conftest import free_port
from tests.fakes.vertex_emulator import (
    LOCATION,
    ManualClock,
    RecordedSleeps,
    client_for,
    fast_retry,
    running_emulator,
)


async def test_create_get_list_cancel(
    client: TuningClient, server: EmulatorServer, spec: TuningJobSpec
) -> None:
    job = await client.create(LOCATION, spec)
    assert job.state is JobState.PENDING
    assert job.base_model == "gemini-3.5-flash"
    assert job.epochs == 3
    assert job.adapter_size == 4
    assert job.create_time is not None

    again = await client.get(job.ref)
    assert again.ref == job.ref
    assert again.display_name == "support-bot"

    await client.cancel(job.ref)
    assert (await client.get(job.ref)).state is JobState.CANCELLING
    assert server.emulator.counts["cancel"] == 1


async def test_list_walks_every_page_newest_first(
    client: TuningClient, server: EmulatorServer
) -> None:
    names = [server.emulator.add_job(LOCATION.project, LOCATION.region) for _ in range(7)]
    server.emulator.add_job("other-project", LOCATION.region)

    pages = [page async for page in client.list_pages(LOCATION, page_size=3)]

    assert [len(page.jobs) for page in pages] == [3, 3, 1]
    assert pages[-1].next_page_token is None
    listed = [job.name for page in pages for job in page.jobs]
    assert listed == list(reversed(names))
    assert server.emulator.counts["list"] == 3


async def test_list_of_an_empty_location_is_empty(client: TuningClient) -> None:
    assert [job async for job in client.list(LOCATION)] == []


async def test_succeeded_job_has_tuned_model_and_stats(
    client: TuningClient, server: EmulatorServer
) -> None:
    name = server.emulator.add_job(LOCATION.project, LOCATION.region, state=RUNNING)
    server.emulator.set_state(name, SUCCEEDED)

    job = await client.get(JobRef.from_name(name))

    assert job.state is JobState.SUCCEEDED
    assert job.tuned_model is not None
    assert job.tuned_model.endpoint is not None
    assert "/endpoints/" in job.tuned_model.endpoint
    assert job.data_stats is not None
    assert job.data_stats.example_count is not None
    assert job.end_time is not None


async def test_find_by_label_checks_labels_even_when_the_filter_is_ignored(
    http: httpx.AsyncClient, sleeps: RecordedSleeps
) -> None:
    with running_emulator(3600, honour_filter=False) as server:
        client = client_for(server, http, retry=fast_retry(sleeps=sleeps))
        server.emulator.add_job(LOCATION.project, LOCATION.region, labels={"k": "other"})
        wanted = server.emulator.add_job(LOCATION.project, LOCATION.region, labels={"k": "v"})
        server.emulator.add_job(LOCATION.project, LOCATION.region)

        found = await client.find_by_label(LOCATION, "k", "v")
        missing = await client.find_by_label(LOCATION, "k", "nope")

    assert found is not None
    assert found.name == wanted
    assert missing is None


async def test_find_by_label_falls_back_when_google_refuses_the_filter(
    client: TuningClient, server: EmulatorServer
) -> None:
    wanted = server.emulator.add_job(LOCATION.project, LOCATION.region, labels={"k-1": "v"})
    server.emulator.add_job(LOCATION.project, LOCATION.region)
    server.emulator.inject("list", 400, message="Invalid filter.")

    found = await client.find_by_label(LOCATION, "k-1", "v")

    assert found is not None
    assert found.name == wanted
    assert server.emulator.counts["list"] == 2


async def test_invalid_argument_is_not_retried(
    client: TuningClient, server: EmulatorServer, spec: TuningJobSpec
) -> None:
    bad = dataclasses.replace(spec, base_model="gemini-3.5-flash", adapter_size=32)

    with pytest.raises(InvalidArgument) as caught:
        await client.create(LOCATION, bad)

    assert caught.value.http_status == 400
    assert caught.value.status == "INVALID_ARGUMENT"
    assert caught.value.message == "The adapter size is not supported for this base model."
    assert server.emulator.counts["create"] == 1


async def test_permission_denied_is_not_retried(
    client: TuningClient, server: EmulatorServer
) -> None:
    server.emulator.inject("list", 403, times=3, message="Permission denied on resource.")

    with pytest.raises(PermissionDenied) as caught:
        await client.find_by_label(LOCATION, "k", "v")

    assert caught.value.status == "PERMISSION_DENIED"
    assert server.emulator.counts["list"] == 1


async def test_not_found(client: TuningClient, server: EmulatorServer) -> None:
    ref = JobRef(LOCATION.project, LOCATION.region, "123")

    with pytest.raises(NotFound):
        await client.get(ref)
    with pytest.raises(NotFound):
        await client.cancel(ref)
    assert server.emulator.counts["get"] == 1


async def test_cancelling_an_ended_job_is_a_failed_precondition(
    client: TuningClient, server: EmulatorServer
) -> None:
    name = server.emulator.add_job(LOCATION.project, LOCATION.region, state=SUCCEEDED)

    with pytest.raises(FailedPrecondition):
        await client.cancel(JobRef.from_name(name))
    assert server.emulator.counts["cancel"] == 1


async def test_cancel_ends_in_cancelled_with_code_1(
    http: httpx.AsyncClient, sleeps: RecordedSleeps
) -> None:
    clock = ManualClock()
    with running_emulator(10, clock=clock) as server:
        client = client_for(server, http, retry=fast_retry(sleeps=sleeps))
        name = server.emulator.add_job(LOCATION.project, LOCATION.region, state=RUNNING)
        await client.cancel(JobRef.from_name(name))
        clock.advance(9)
        assert (await client.get(JobRef.from_name(name))).state is JobState.CANCELLING
        clock.advance(1)
        job = await client.get(JobRef.from_name(name))

    assert job.state is JobState.CANCELLED
    assert job.error is not None
    assert job.error.code == 1


async def test_429_then_success(
    client: TuningClient, server: EmulatorServer, sleeps: RecordedSleeps
) -> None:
    name = server.emulator.add_job(LOCATION.project, LOCATION.region)
    server.emulator.inject("get", 429, times=2)

    job = await client.get(JobRef.from_name(name))

    assert job.name == name
    assert server.emulator.counts["get"] == 3
    assert len(sleeps.delays) == 2


async def test_503_storm_ends_in_unavailable_after_the_budget(
    client: TuningClient, server: EmulatorServer, sleeps: RecordedSleeps
) -> None:
    name = server.emulator.add_job(LOCATION.project, LOCATION.region)
    server.emulator.inject("get", 503, times=100)
    labels = {"method": "get", "status": "503"}
    before = REGISTRY.get_sample_value("tuning_bot_vertex_requests_total", labels) or 0.0

    with pytest.raises(Unavailable) as caught:
        await client.get(JobRef.from_name(name))

    assert caught.value.attempts == 5
    assert caught.value.http_status == 503
    assert server.emulator.counts["get"] == 5
    assert client.calls["get"] == 5
    assert REGISTRY.get_sample_value("tuning_bot_vertex_requests_total", labels) == before + 5
    assert len(sleeps.delays) == 4
    # Full jitter: each delay lies between 0 and the exponential ceiling.
    for attempt, delay in enumerate(sleeps.delays, start=1):
        assert 0 <= delay <= 2 ** (attempt - 1)


async def test_retry_after_is_honoured(
    client: TuningClient, server: EmulatorServer, sleeps: RecordedSleeps
) -> None:
    name = server.emulator.add_job(LOCATION.project, LOCATION.region)
    server.emulator.inject("get", 429, retry_after=7)

    await client.get(JobRef.from_name(name))

    assert sleeps.delays == [7.0]


async def test_retry_budget_in_time_stops_early(
    server: EmulatorServer, http: httpx.AsyncClient, sleeps: RecordedSleeps
) -> None:
    client = client_for(server, http, retry=fast_retry(10, sleeps, deadline=30.0))
    name = server.emulator.add_job(LOCATION.project, LOCATION.region)
    server.emulator.inject("get", 503, times=100, retry_after=20)

    with pytest.raises(Unavailable) as caught:
        await client.get(JobRef.from_name(name))

    # The first 20 s wait fits the 30 s deadline; a second one would not.
    assert caught.value.attempts == 2
    assert sleeps.delays == [20.0]


async def test_connection_refused_is_retried_then_unavailable(
    http: httpx.AsyncClient, sleeps: RecordedSleeps
) -> None:
    client = TuningClient(
        http,
        auth=NoAuth(),
        emulator_host=f"127.0.0.1:{free_port()}",
        retry=fast_retry(max_attempts=3, sleeps=sleeps),
        timeout=1.0,
    )

    with pytest.raises(Unavailable) as caught:
        await client.get(JobRef(LOCATION.project, LOCATION.region, "1"))

    assert caught.value.attempts == 3
    assert client.calls["get"] == 3


async def test_quota_on_create_is_reported_not_retried(
    client: TuningClient, server: EmulatorServer, spec: TuningJobSpec
) -> None:
    server.emulator.inject("create", 429, message="Quota exceeded for concurrent tuning jobs.")

    with pytest.raises(QuotaExceeded) as caught:
        await client.create(LOCATION, spec)

    assert "concurrent tuning jobs" in caught.value.message
    assert server.emulator.counts["create"] == 1
    assert server.emulator.jobs() == []


async def test_non_json_error_body_is_handled(client: TuningClient, server: EmulatorServer) -> None:
    with pytest.raises(NotFound) as caught:
        await client.get(JobRef(LOCATION.project, LOCATION.region, "1"))
    assert caught.value.status == "NOT_FOUND"


async def test_states_move_along_the_timetable(
    client: TuningClient, server: EmulatorServer
) -> None:
    name = server.emulator.add_job(LOCATION.project, LOCATION.region, state=CANCELLING)
    assert (await client.get(JobRef.from_name(name))).state is JobState.CANCELLING
    server.emulator.set_state(name, CANCELLED)
    assert (await client.get(JobRef.from_name(name))).state is JobState.CANCELLED
