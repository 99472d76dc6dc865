"""TuningClient.read_curves: the chain from a job to its TensorBoard series, against the
emulator and against a scripted Google for what the emulator does not do."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

from bot.emulator import PENDING, RUNNING, SUCCEEDED, EmulatorServer
from bot.tuning.curves import GOOGLE_SAMPLE_LIMIT, CurvesMissing, Gap, Metric
from bot.tuning.job import TuningJob
from bot.tuning.refs import JobRef
from bot.tuning.states import JobState
from bot.vertex.auth import NoAuth
from bot.vertex.client import TuningClient
from bot.vertex.curves import BATCH_READ_SERIES, METHOD, chunked
from bot.vertex.errors import InvalidArgument, NotFound, PermissionDenied
from tests.fakes.vertex_emulator import ManualClock, client_for, fast_retry, running_emulator

PROJECT = "emulator-project"
REGION = "us-central1"
STEP = 100.0  # seconds per timetable stage
VALIDATION = "gs://team-data/validation.jsonl"
# The emulator's counters of the requests behind a job's curves.
TENSORBOARD_READS = (
    "experiment",
    "tensorboard_runs",
    "tensorboard_series",
    "tensorboard_batch_read",
    "tensorboard_read",
)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def emu(clock: ManualClock) -> Iterator[EmulatorServer]:
    """An emulator whose jobs move only with the test's clock."""
    with running_emulator(STEP, clock=clock) as server:
        yield server


@pytest.fixture
async def tuning(emu: EmulatorServer) -> AsyncIterator[TuningClient]:
    async with httpx.AsyncClient() as http:
        yield client_for(emu, http, retry=fast_retry())


async def _job(emu: EmulatorServer, client: TuningClient, **options: Any) -> TuningJob:
    name = emu.emulator.add_job(PROJECT, REGION, **options)
    return await client.get(JobRef.from_name(name))


async def _running(
    emu: EmulatorServer, client: TuningClient, clock: ManualClock, fraction: float, **options: Any
) -> TuningJob:
    job = await _job(emu, client, state=RUNNING, **options)
    clock.advance(STEP * fraction)
    return await client.get(job.ref)


async def test_a_running_job_s_curves_grow(
    emu: EmulatorServer, tuning: TuningClient, clock: ManualClock
) -> None:
    job = await _running(emu, tuning, clock, 0.3, validation_uri=VALIDATION)
    first = await tuning.read_curves(job)
    clock.advance(STEP * 0.4)
    later = await tuning.read_curves(await tuning.get(job.ref))
    assert first.last_step is not None
    assert later.last_step is not None
    assert later.last_step > first.last_step
    assert len(later.get(Metric.TRAIN_LOSS)) > len(first.get(Metric.TRAIN_LOSS))
    assert later.has_validation
    assert set(later.series) == set(Metric)
    progress = later.progress()
    assert job.data_stats is not None
    assert progress.planned_steps == job.data_stats.tuning_steps
    assert progress.percent is not None
    assert 0 < progress.percent < 100


async def test_a_job_without_validation_data_has_no_eval_series(
    emu: EmulatorServer, tuning: TuningClient, clock: ManualClock
) -> None:
    curves = await tuning.read_curves(await _running(emu, tuning, clock, 0.5))
    assert set(curves.series) == {Metric.TRAIN_LOSS, Metric.TRAIN_ACCURACY}
    assert not curves.has_validation
    assert curves.progress().eval_loss is None


async def test_a_succeeded_job_has_its_planned_and_checkpoint_steps(
    emu: EmulatorServer, tuning: TuningClient
) -> None:
    job = await _job(emu, tuning, state=SUCCEEDED, validation_uri=VALIDATION)
    assert job.data_stats is not None
    assert job.tuned_model is not None
    curves = await tuning.read_curves(job)
    planned = job.data_stats.tuning_steps
    assert curves.planned_steps == planned
    assert curves.checkpoint_steps == tuple(c.step for c in job.tuned_model.checkpoints)
    assert curves.checkpoint_steps[-1] == planned
    assert curves.last_step == planned
    assert curves.progress().percent == 100
    assert not curves.sampled
    steps = [p.step for p in curves.get(Metric.TRAIN_LOSS).points]
    assert steps == list(range(1, (planned or 0) + 1))


async def test_long_series_are_read_whole_and_sorted(
    emu: EmulatorServer, tuning: TuningClient
) -> None:
    job = await _job(emu, tuning, state=SUCCEEDED, steps=2500)
    curves = await tuning.read_curves(job)
    for metric in (Metric.TRAIN_LOSS, Metric.TRAIN_ACCURACY):
        series = curves.get(metric)
        assert [p.step for p in series.points] == list(range(1, 2501))
        assert not series.sampled
    reads = emu.emulator.counts["tensorboard_read"]
    assert reads == 2  # the two long series; the eval one is empty

    capped = await tuning.read_curves(job, max_points=2000)
    loss = capped.get(Metric.TRAIN_LOSS)
    assert len(loss) == 2000
    assert loss.sampled
    assert capped.sampled
    assert [p.step for p in loss.points] == sorted(p.step for p in loss.points)

    only_batch = await tuning.read_curves(job, max_points=GOOGLE_SAMPLE_LIMIT)
    assert len(only_batch.get(Metric.TRAIN_LOSS)) == GOOGLE_SAMPLE_LIMIT
    assert only_batch.sampled
    assert emu.emulator.counts["tensorboard_read"] == reads + 2  # only for max_points=2000


async def test_a_second_read_costs_one_request(
    emu: EmulatorServer, tuning: TuningClient, clock: ManualClock
) -> None:
    job = await _running(emu, tuning, clock, 0.5, validation_uri=VALIDATION)
    await tuning.read_curves(job)
    assert tuning.calls[METHOD] == 4  # context, runs, series, batchRead
    clock.advance(STEP * 0.2)
    curves = await tuning.read_curves(job)
    assert tuning.calls[METHOD] == 5
    assert emu.emulator.received[-1][0] == "tensorboard_batch_read"
    assert curves.last_step is not None


async def test_the_expected_cost_and_every_request_are_told_to_the_caller(
    emu: EmulatorServer, tuning: TuningClient, clock: ManualClock
) -> None:
    job = await _running(emu, tuning, clock, 0.5, validation_uri=VALIDATION)
    paid: list[int] = []
    assert tuning.read_cost(job) == 4
    await tuning.read_curves(job, before_request=lambda: paid.append(1))
    assert len(paid) == sum(emu.emulator.counts[m] for m in TENSORBOARD_READS) == 4
    assert tuning.read_cost(job) == 1  # the chain is known now
    await tuning.read_curves(job, before_request=lambda: paid.append(1))
    assert len(paid) == 5


class Spent(Exception):
    pass


async def test_a_caller_that_stops_paying_stops_the_read(
    emu: EmulatorServer, tuning: TuningClient, clock: ManualClock
) -> None:
    job = await _running(emu, tuning, clock, 0.5)
    paid: list[int] = []

    def two_then_spent() -> None:
        if len(paid) == 2:
            raise Spent
        paid.append(1)

    with pytest.raises(Spent):
        await tuning.read_curves(job, before_request=two_then_spent)
    # The context and the runs were read; the series and their points were never asked for.
    assert sum(emu.emulator.counts[m] for m in TENSORBOARD_READS) == 2
    assert emu.emulator.counts["tensorboard_series"] == 0
    assert tuning.read_cost(job) == 4  # a chain read half-way is not remembered


async def test_a_remembered_chain_that_is_gone_is_resolved_again_once(
    emu: EmulatorServer, tuning: TuningClient, clock: ManualClock
) -> None:
    job = await _running(emu, tuning, clock, 0.5)
    await tuning.read_curves(job)
    emu.emulator.set_curves(job.name, runs=False)
    with pytest.raises(CurvesMissing) as missing:
        await tuning.read_curves(job)
    assert missing.value.gap is Gap.NO_RUN
    # batchRead 404, then context and runs again; the gap is not remembered.
    assert tuning.calls[METHOD] == 4 + 3
    emu.emulator.set_curves(job.name, runs=True)
    assert (await tuning.read_curves(job)).last_step is not None
    assert tuning.calls[METHOD] == 7 + 4


async def test_missing_links_are_gaps(
    emu: EmulatorServer, tuning: TuningClient, clock: ManualClock
) -> None:
    pending = await _job(emu, tuning, state=PENDING)
    with pytest.raises(CurvesMissing) as missing:
        await tuning.read_curves(pending)
    assert missing.value.gap is Gap.NO_EXPERIMENT
    assert tuning.calls[METHOD] == 0

    withheld = await _job(emu, tuning, state=RUNNING)
    emu.emulator.set_curves(withheld.name, experiment=False)
    assert (await tuning.get(withheld.ref)).experiment is None
    with pytest.raises(CurvesMissing) as missing:  # a stale job still naming it: the context 404s
        await tuning.read_curves(withheld)
    assert missing.value.gap is Gap.NO_EXPERIMENT

    no_runs = await _running(emu, tuning, clock, 0.5)
    emu.emulator.set_curves(no_runs.name, runs=False)
    with pytest.raises(CurvesMissing) as missing:
        await tuning.read_curves(no_runs)
    assert missing.value.gap is Gap.NO_RUN

    just_started = await _job(emu, tuning, state=RUNNING)
    with pytest.raises(CurvesMissing) as missing:
        await tuning.read_curves(just_started)
    assert missing.value.gap is Gap.NO_SERIES


@pytest.mark.parametrize("method", ["experiment", "tensorboard", "tensorboard_batch_read"])
async def test_permission_errors_stay_errors(
    emu: EmulatorServer, tuning: TuningClient, clock: ManualClock, method: str
) -> None:
    job = await _running(emu, tuning, clock, 0.5)
    emu.emulator.inject(method, 403, times=5, message="Permission denied.")
    with pytest.raises(PermissionDenied):
        await tuning.read_curves(job)


async def test_the_emulator_refuses_more_than_twenty_series(
    emu: EmulatorServer, tuning: TuningClient, clock: ManualClock
) -> None:
    job = await _running(emu, tuning, clock, 0.5)
    await tuning.read_curves(job)
    name = next(path for method, path, _ in emu.emulator.received if method.endswith("series"))
    series = (await tuning._call("t", "GET", REGION, name))["tensorboardTimeSeries"][0]["name"]
    tensorboard = series.split("/experiments/")[0]
    repeated = [("timeSeries", series)] * BATCH_READ_SERIES
    answer = await tuning._call("t", "GET", REGION, f"{tensorboard}:batchRead", params=repeated)
    assert len(answer["timeSeriesData"]) == BATCH_READ_SERIES
    with pytest.raises(InvalidArgument):
        await tuning._call(
            "t", "GET", REGION, f"{tensorboard}:batchRead", params=[*repeated, repeated[0]]
        )


def test_chunks_hold_at_most_twenty_names() -> None:
    names = [str(i) for i in range(45)]
    chunks = list(chunked(names, BATCH_READ_SERIES))
    assert [len(c) for c in chunks] == [20, 20, 5]
    assert [n for c in chunks for n in c] == names
    assert list(chunked([], BATCH_READ_SERIES)) == []


# -- a scripted Google, for answers the emulator does not give -----------------------------
EXPERIMENT = "projects/9/locations/europe-west4/metadataStores/default/contexts/tuning-experiment-1"
BOARD = "projects/9/locations/europe-west4/tensorboards/77"
RUN = f"{BOARD}/experiments/tuning-experiment-1/runs/r"


def _job_naming(experiment: str | None, state: JobState = JobState.RUNNING) -> TuningJob:
    ref = JobRef("9", "europe-west4", "1")
    return TuningJob(ref=ref, state=state, experiment=experiment)


class Scripted:
    """Answers by path; a callable answer sees the request."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        path = request.url.path.removeprefix("/v1/")
        answer = self.answers.get(path)
        if callable(answer):
            answer = answer(request)
        if isinstance(answer, httpx.Response):
            return answer
        if answer is None:
            return httpx.Response(404, json={"error": {"code": 404, "status": "NOT_FOUND"}})
        return httpx.Response(200, json=answer)


async def _read(scripted: Scripted, job: TuningJob) -> Any:
    async with httpx.AsyncClient(transport=httpx.MockTransport(scripted)) as http:
        client = TuningClient(http, auth=NoAuth(), retry=fast_retry())
        return await client.read_curves(job)


def _context(tensorboard: Any) -> dict[str, Any]:
    return {"name": EXPERIMENT, "metadata": {"backing_tensorboard_resource": tensorboard}}


def _values(*pairs: tuple[Any, Any]) -> list[dict[str, Any]]:
    return [{"step": step, "scalar": {"value": value}} for step, value in pairs]


def _full_chain(batch: Callable[[httpx.Request], Any] | dict[str, Any]) -> dict[str, Any]:
    return {
        EXPERIMENT: _context(BOARD),
        f"{BOARD}/experiments/tuning-experiment-1/runs": {
            "tensorboardRuns": [
                {"name": f"{RUN}-old", "updateTime": "2026-01-01T00:00:00Z"},
                {"name": RUN, "updateTime": "2026-02-01T00:00:00.123456789Z"},
            ]
        },
        f"{RUN}/timeSeries": {
            "tensorboardTimeSeries": [
                {"name": f"{RUN}/timeSeries/1", "displayName": "/train_total_loss"},
                {"name": f"{RUN}/timeSeries/2", "displayName": "train_num_predictions"},
                {"name": f"{RUN}/timeSeries/3", "displayName": "eval_total_loss"},
                {"name": f"{RUN}/timeSeries/4", "displayName": "/x", "valueType": "TENSOR"},
            ]
        },
        f"{BOARD}:batchRead": batch,
    }


async def test_the_scripted_chain_is_read_tolerantly_on_regional_hosts() -> None:
    def batch(request: httpx.Request) -> dict[str, Any]:
        assert request.url.params.get_list("timeSeries") == [
            f"{RUN}/timeSeries/1",
            f"{RUN}/timeSeries/3",
        ]
        return {
            "timeSeriesData": [
                # Zeros are left out in proto3 JSON; NaN travels as a string; order is Google's.
                {"tensorboardTimeSeriesId": "1", "values": _values(("3", 0.5), ("2", "NaN"))},
                {"tensorboardTimeSeriesId": "1", "values": [{"scalar": {}}]},
                {"tensorboardTimeSeriesId": "3", "values": _values(("3", 0.7), ("x", 1))},
            ]
        }

    scripted = Scripted(_full_chain(batch))
    curves = await _read(scripted, _job_naming(EXPERIMENT))
    loss = curves.get(Metric.TRAIN_LOSS)
    assert [(p.step, p.value) for p in loss.points] == [(0, 0.0), (3, 0.5)]
    assert [p.step for p in curves.get(Metric.EVAL_LOSS).points] == [3]
    assert {r.url.host for r in scripted.seen} == {"europe-west4-aiplatform.googleapis.com"}
    listings = [r for r in scripted.seen if r.url.path.endswith("/timeSeries")]
    assert listings[0].url.path == f"/v1/{RUN}/timeSeries"  # the newest run


@pytest.mark.parametrize(
    ("answers", "gap"),
    [
        ({}, Gap.NO_EXPERIMENT),
        ({EXPERIMENT: {"name": EXPERIMENT}}, Gap.NO_TENSORBOARD),
        ({EXPERIMENT: _context("")}, Gap.NO_TENSORBOARD),
        ({EXPERIMENT: _context(BOARD)}, Gap.NO_RUN),  # the TensorBoard experiment 404s
        (
            {EXPERIMENT: _context(BOARD), f"{BOARD}/experiments/tuning-experiment-1/runs": {}},
            Gap.NO_RUN,
        ),
        (
            {
                EXPERIMENT: _context(BOARD),
                f"{BOARD}/experiments/tuning-experiment-1/runs": {"tensorboardRuns": [{}]},
            },
            Gap.NO_RUN,
        ),
        (
            {
                EXPERIMENT: _context(BOARD),
                f"{BOARD}/experiments/tuning-experiment-1/runs": {
                    "tensorboardRuns": [{"name": RUN}]
                },
                f"{RUN}/timeSeries": {
                    "tensorboardTimeSeries": [
                        {"name": "n", "displayName": "/train_num_predictions"}
                    ]
                },
            },
            Gap.NO_SERIES,
        ),
    ],
)
async def test_scripted_gaps(answers: dict[str, Any], gap: Gap) -> None:
    with pytest.raises(CurvesMissing) as missing:
        await _read(Scripted(answers), _job_naming(EXPERIMENT))
    assert missing.value.gap is gap


async def test_a_job_naming_no_experiment_sends_nothing() -> None:
    scripted = Scripted({})
    with pytest.raises(CurvesMissing) as missing:
        await _read(scripted, _job_naming(None))
    assert missing.value.gap is Gap.NO_EXPERIMENT
    assert scripted.seen == []


async def test_a_remembered_chain_is_resolved_again_when_its_run_moved() -> None:
    moved = f"{BOARD}/experiments/tuning-experiment-1/runs/new"
    answers = _full_chain({"timeSeriesData": [{"tensorboardTimeSeriesId": "1", "values": []}]})
    scripted = Scripted(answers)
    async with httpx.AsyncClient(transport=httpx.MockTransport(scripted)) as http:
        client = TuningClient(http, auth=NoAuth(), retry=fast_retry())
        job = _job_naming(EXPERIMENT, JobState.SUCCEEDED)
        await client.read_curves(job)
        await client.read_curves(job)
        assert client.calls[METHOD] == 4 + 1  # an ended job's chain is remembered
        answers[f"{BOARD}:batchRead"] = lambda request: (
            {"timeSeriesData": [{"tensorboardTimeSeriesId": "9", "values": _values(("5", 1.0))}]}
            if request.url.params.get_list("timeSeries") == [f"{moved}/timeSeries/9"]
            else httpx.Response(404, json={"error": {"code": 404, "status": "NOT_FOUND"}})
        )
        answers[f"{BOARD}/experiments/tuning-experiment-1/runs"] = {
            "tensorboardRuns": [{"name": moved}]
        }
        answers[f"{moved}/timeSeries"] = {
            "tensorboardTimeSeries": [
                {"name": f"{moved}/timeSeries/9", "displayName": "/train_total_loss"}
            ]
        }
        curves = await client.read_curves(job)
        assert curves.last_step == 5
        # A 404 that survives resolving again is Google's to report.
        answers[f"{BOARD}:batchRead"] = None
        with pytest.raises(NotFound):
            await client.read_curves(job)


async def test_a_running_job_s_incomplete_chain_is_not_remembered() -> None:
    # No accuracy series yet: Vertex may create it with its first point, so look again.
    answers = _full_chain({"timeSeriesData": []})
    async with httpx.AsyncClient(transport=httpx.MockTransport(Scripted(answers))) as http:
        client = TuningClient(http, auth=NoAuth(), retry=fast_retry())
        job = _job_naming(EXPERIMENT)
        await client.read_curves(job)
        await client.read_curves(job)
        assert client.calls[METHOD] == 4 + 4
