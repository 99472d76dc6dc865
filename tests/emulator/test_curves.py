"""A started job's training curves are served as Vertex's TensorBoard serves them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bot.emulator import CANCELLED, RUNNING, SUCCEEDED, Emulator
from tests.emulator.conftest import NUMBER, PARENT, PROJECT, REGION, STEP, error_of
from tests.fakes.vertex_emulator import ManualClock
from tests.vertex.discovery import document, validate

RUNS = "GoogleCloudAiplatformV1ListTensorboardRunsResponse"
SERIES = "GoogleCloudAiplatformV1ListTensorboardTimeSeriesResponse"
BATCH = "GoogleCloudAiplatformV1BatchReadTensorboardTimeSeriesDataResponse"
READ = "GoogleCloudAiplatformV1ReadTensorboardTimeSeriesDataResponse"
TRAIN = [
    "/train_total_loss",
    "/train_fraction_of_correct_next_step_preds",
    "/train_num_predictions",
]
EVAL = [name.replace("/train_", "/eval_") for name in TRAIN]


class Chain:
    """The links from a job to its curves, read the way a client would."""

    def __init__(self, api: httpx.AsyncClient, name: str) -> None:
        self.api = api
        self.name = name

    async def job(self) -> dict[str, Any]:
        return dict((await self.api.get(f"/v1/{self.name}")).json())

    async def experiment(self) -> tuple[str, str]:
        """(tensorboard, TensorBoard experiment) of the job."""
        experiment = (await self.job())["experiment"]
        context = (await self.api.get(f"/v1/{experiment}")).json()
        tensorboard = context["metadata"]["backing_tensorboard_resource"]
        return tensorboard, f"{tensorboard}/experiments/{experiment.rsplit('/', 1)[1]}"

    async def runs(self) -> dict[str, Any]:
        _, experiment = await self.experiment()
        answer = await self.api.get(f"/v1/{experiment}/runs")
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    async def series(self) -> dict[str, str]:
        """Time series names by display name."""
        run = (await self.runs())["tensorboardRuns"][0]["name"]
        answer = (await self.api.get(f"/v1/{run}/timeSeries")).json()
        assert validate(answer, SERIES) == []
        return {s["displayName"]: s["name"] for s in answer.get("tensorboardTimeSeries", [])}

    async def batch_read(self, names: list[str]) -> httpx.Response:
        tensorboard, _ = await self.experiment()
        params = [("timeSeries", name) for name in names]
        return await self.api.get(f"/v1/{tensorboard}:batchRead", params=params)

    async def points(self) -> dict[str, list[tuple[int, float]]]:
        """Every series' (step, value) pairs by display name, sorted by step."""
        series = await self.series()
        answer = (await self.batch_read(list(series.values()))).json()
        assert validate(answer, BATCH) == []
        by_id = {name.rsplit("/", 1)[1]: display for display, name in series.items()}
        return {
            by_id[data["tensorboardTimeSeriesId"]]: sorted(
                (int(v["step"]), v["scalar"]["value"]) for v in data.get("values", [])
            )
            for data in answer["timeSeriesData"]
        }


def _running(emulator: Emulator, **options: Any) -> Chain:
    return Chain(_api(emulator), emulator.add_job(PROJECT, REGION, state=RUNNING, **options))


def _api(emulator: Emulator) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=emulator.app)
    return httpx.AsyncClient(transport=transport, base_url="http://vertex.test")


def _planned(job: dict[str, Any]) -> int:
    return int(job["tuningDataStats"]["supervisedTuningDataStats"]["tuningStepCount"])


def test_paths_are_the_discovery_document_s() -> None:
    resources = document()["resources"]["projects"]["resources"]["locations"]["resources"]
    board = resources["tensorboards"]
    runs = board["resources"]["experiments"]["resources"]["runs"]
    series = runs["resources"]["timeSeries"]["methods"]
    assert board["methods"]["batchRead"]["path"] == "v1/{+tensorboard}:batchRead"
    assert board["methods"]["batchRead"]["httpMethod"] == "GET"
    assert runs["methods"]["list"]["path"] == "v1/{+parent}/runs"
    assert series["list"]["path"] == "v1/{+parent}/timeSeries"
    assert series["read"]["path"] == "v1/{+tensorboardTimeSeries}:read"
    assert document()["schemas"][READ]["properties"]["timeSeriesData"]


async def test_a_running_job_s_curves_grow_and_fit_google_s_shapes(
    emulator: Emulator, clock: ManualClock
) -> None:
    chain = _running(emulator, validation_uri="gs://team-data/validation.jsonl")
    async with chain.api:
        runs = await chain.runs()
        assert validate(runs, RUNS) == []
        (run,) = runs["tensorboardRuns"]
        assert run["name"].startswith(f"projects/{NUMBER}/locations/{REGION}/tensorboards/")
        assert await chain.series() == {}  # nothing written at the very start

        clock.advance(STEP / 2)
        series = await chain.series()
        assert sorted(series) == sorted(TRAIN + EVAL)
        first = await chain.points()
        planned = _planned(await chain.job())
        assert len(first["/train_total_loss"]) == planned // 2
        assert [s for s, _ in first["/train_total_loss"]] == list(range(1, planned // 2 + 1))
        assert first["/eval_total_loss"][0][0] == 1
        assert len(first["/eval_total_loss"]) < len(first["/train_total_loss"])

        clock.advance(STEP / 4)
        later = await chain.points()
        assert len(later["/train_total_loss"]) > len(first["/train_total_loss"])
        assert (
            later["/train_total_loss"][: len(first["/train_total_loss"])]
            == (first["/train_total_loss"])
        )


async def test_a_succeeded_job_has_every_planned_step(emulator: Emulator) -> None:
    name = emulator.add_job(
        PROJECT, REGION, state=SUCCEEDED, validation_uri="gs://team-data/validation.jsonl"
    )
    chain = Chain(_api(emulator), name)
    async with chain.api:
        job = await chain.job()
        planned = _planned(job)
        points = await chain.points()
        loss = [value for _, value in points["/train_total_loss"]]
        accuracy = [value for _, value in points["/train_fraction_of_correct_next_step_preds"]]
        assert len(loss) == planned
        assert points["/eval_total_loss"][-1][0] == planned
        assert job["tunedModel"]["checkpoints"][-1]["step"] == str(planned)
        assert loss[-1] < loss[0] / 2  # falls
        assert 0.8 < accuracy[-1] <= 1.0  # rises towards ~0.9
        assert accuracy[0] < 0.6
        assert await chain.points() == points  # deterministic


async def test_without_validation_data_the_eval_loss_series_is_empty(
    emulator: Emulator, clock: ManualClock
) -> None:
    chain = _running(emulator)
    clock.advance(STEP / 2)
    async with chain.api:
        assert sorted(await chain.series()) == sorted([*TRAIN, "/eval_total_loss"])
        points = await chain.points()
        assert points["/eval_total_loss"] == []
        assert points["/train_total_loss"]


async def test_a_cancelled_job_keeps_what_it_wrote(emulator: Emulator, clock: ManualClock) -> None:
    chain = _running(emulator)
    clock.advance(STEP / 2)
    emulator.cancel(chain.name)
    clock.advance(STEP * 2)
    async with chain.api:
        assert (await chain.job())["state"] == CANCELLED
        points = await chain.points()
        assert len(points["/train_total_loss"]) == _planned(await chain.job()) // 2


async def test_long_series_are_sampled_by_batch_read_and_read_whole(emulator: Emulator) -> None:
    name = emulator.add_job(PROJECT, REGION, state=SUCCEEDED, steps=2500)
    chain = Chain(_api(emulator), name)
    async with chain.api:
        job = await chain.job()
        assert _planned(job) == 2500
        assert job["tunedModel"]["checkpoints"][-1]["step"] == "2500"
        loss = (await chain.series())["/train_total_loss"]
        sample = (await chain.batch_read([loss])).json()["timeSeriesData"][0]["values"]
        steps = [int(v["step"]) for v in sample]
        assert len(steps) == 1000 == len(set(steps))
        assert steps != sorted(steps)  # Google promises no order
        assert steps[:1000] != list(range(1, 1001))  # a sample, not the first thousand
        again = (await chain.batch_read([loss])).json()["timeSeriesData"][0]["values"]
        assert again == sample

        read = (await chain.api.get(f"/v1/{loss}:read", params={"maxDataPoints": 10000})).json()
        assert validate(read, READ) == []
        whole = [int(v["step"]) for v in read["timeSeriesData"]["values"]]
        assert whole == list(range(1, 2501))
        default = (await chain.api.get(f"/v1/{loss}:read")).json()
        assert len(default["timeSeriesData"]["values"]) == 1000
        everything = (await chain.api.get(f"/v1/{loss}:read", params={"maxDataPoints": -1})).json()
        assert len(everything["timeSeriesData"]["values"]) == 2500
        refused = await chain.api.get(f"/v1/{loss}:read", params={"maxDataPoints": -5})
        assert error_of(refused, 400)["status"] == "INVALID_ARGUMENT"


async def test_read_returns_at_most_ten_thousand_points(emulator: Emulator) -> None:
    name = emulator.add_job(PROJECT, REGION, state=SUCCEEDED, steps=10_500)
    chain = Chain(_api(emulator), name)
    async with chain.api:
        loss = (await chain.series())["/train_total_loss"]
        read = (await chain.api.get(f"/v1/{loss}:read", params={"maxDataPoints": 50_000})).json()
        assert len(read["timeSeriesData"]["values"]) == 10_000


async def test_batch_read_refuses_more_than_twenty_and_foreign_series(
    emulator: Emulator, clock: ManualClock
) -> None:
    chain = _running(emulator)
    clock.advance(STEP / 2)
    async with chain.api:
        loss = (await chain.series())["/train_total_loss"]
        assert (await chain.batch_read([loss] * 20)).status_code == 200
        error = error_of(await chain.batch_read([loss] * 21), 400)
        assert error["status"] == "INVALID_ARGUMENT"
        assert error_of(await chain.batch_read([]), 400)["status"] == "INVALID_ARGUMENT"
        tensorboard, _ = await chain.experiment()
        foreign = loss.replace(tensorboard, f"{tensorboard}0")
        assert error_of(await chain.batch_read([foreign]), 400)["status"] == "INVALID_ARGUMENT"
        unknown = loss.rsplit("/", 1)[0] + "/123"
        assert error_of(await chain.batch_read([unknown]), 404)["status"] == "NOT_FOUND"
        # The project may be named by id, as in any request.
        by_id = tensorboard.replace(f"projects/{NUMBER}/", f"projects/{PROJECT}/")
        answer = await chain.api.get(f"/v1/{by_id}:batchRead", params={"timeSeries": loss})
        assert answer.status_code == 200, answer.text


async def test_tensorboard_faults_follow_the_fault_rules(
    emulator: Emulator, clock: ManualClock
) -> None:
    chain = _running(emulator)
    clock.advance(STEP / 2)
    async with chain.api:
        series = await chain.series()
        emulator.inject("tensorboard", 403, times=2, message="Permission denied on tensorboard")
        _, experiment = await chain.experiment()
        assert error_of(await chain.api.get(f"/v1/{experiment}/runs"), 403)["status"] == (
            "PERMISSION_DENIED"
        )
        assert error_of(await chain.batch_read(list(series.values())), 403)["message"] == (
            "Permission denied on tensorboard"
        )
        assert (await chain.batch_read(list(series.values()))).status_code == 200

        emulator.inject("tensorboard_batch_read", 503)
        assert (await chain.api.get(f"/v1/{experiment}/runs")).status_code == 200
        assert error_of(await chain.batch_read(list(series.values())), 503)
        emulator.inject("experiment", 403)
        experiment_name = (await chain.job())["experiment"]
        error = error_of(await chain.api.get(f"/v1/{experiment_name}"), 403)
        assert "aiplatform.contexts.get" in error["message"]
        emulator.inject("tensorboard_read", 403)
        error = error_of(await chain.api.get(f"/v1/{series['/train_total_loss']}:read"), 403)
        assert "aiplatform.tensorboardTimeSeries.read" in error["message"]
        assert emulator.counts["tensorboard_batch_read"] == 3


async def test_a_job_without_experiment_or_runs(emulator: Emulator, clock: ManualClock) -> None:
    chain = _running(emulator)
    clock.advance(STEP / 2)
    async with chain.api:
        _, experiment = await chain.experiment()
        run = (await chain.runs())["tensorboardRuns"][0]["name"]
        emulator.set_curves(chain.name, runs=False)
        assert await chain.runs() == {}
        assert error_of(await chain.api.get(f"/v1/{run}/timeSeries"), 404)
        emulator.set_curves(chain.name, runs=True)
        assert (await chain.runs())["tensorboardRuns"][0]["name"] == run

        context = (await chain.job())["experiment"]
        emulator.set_curves(chain.name, experiment=False)
        assert "experiment" not in await chain.job()
        assert error_of(await chain.api.get(f"/v1/{context}"), 404)["status"] == "NOT_FOUND"
        assert error_of(await chain.api.get(f"/v1/{experiment}/runs"), 404)


async def test_no_tensorboard_experiment_before_the_job_starts(emulator: Emulator) -> None:
    name = emulator.add_job(PROJECT, REGION)
    job_id = name.rsplit("/", 1)[1]
    running = emulator.add_job(PROJECT, REGION, state=RUNNING)
    context = emulator.get(running)["experiment"]
    async with _api(emulator) as api:
        tensorboard = (await api.get(f"/v1/{context}")).json()["metadata"][
            "backing_tensorboard_resource"
        ]
        path = f"/v1/{tensorboard}/experiments/tuning-experiment-{job_id}/runs"
        assert error_of(await api.get(path), 404)["status"] == "NOT_FOUND"


async def test_curve_settings_over_http(emulator: Emulator) -> None:
    name = emulator.add_job(PROJECT, REGION, state=RUNNING)
    async with _api(emulator) as api:
        shaped = await api.post("/_emulator/curves", json={"name": name, "steps": 5000})
        assert shaped.json() == {}
        assert _planned(emulator.get(name)) == 5000
        refused = await api.post("/_emulator/curves", json={"name": name, "steps": 0})
        assert refused.status_code == 400
        unknown = await api.post("/_emulator/curves", json={"name": f"{PARENT}/tuningJobs/1"})
        assert unknown.status_code == 404
        await api.post("/_emulator/curves", json={"name": name, "experiment": False})
        assert "experiment" not in emulator.get(name)
        added = await api.post(
            "/_emulator/jobs", json={"project": PROJECT, "region": REGION, "steps": 1200}
        )
        assert emulator.jobs()[0]["name"] == added.json()["name"]


@pytest.mark.parametrize("version", ["v1", "v1beta1"])
async def test_both_versions_serve_the_curves(
    emulator: Emulator, clock: ManualClock, version: str
) -> None:
    chain = _running(emulator)
    clock.advance(STEP / 2)
    async with chain.api:
        _, experiment = await chain.experiment()
        assert (await chain.api.get(f"/{version}/{experiment}/runs")).status_code == 200
