"""A finished job carries checkpoints and dataset statistics as Vertex sends them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bot.emulator import SUCCEEDED
from tests.emulator.conftest import PARENT, STEP, body
from tests.fakes.vertex_emulator import ManualClock


async def _finished(api: httpx.AsyncClient, clock: ManualClock, job: dict[str, Any]) -> Any:
    name = (await api.post(f"/v1/{PARENT}/tuningJobs", json=job)).json()["name"]
    clock.advance(2 * STEP)
    finished = (await api.get(f"/v1/{name}")).json()
    assert finished["state"] == SUCCEEDED
    return finished


async def test_one_checkpoint_per_epoch_and_the_last_is_the_model_s_endpoint(
    api: httpx.AsyncClient, clock: ManualClock
) -> None:
    job = await _finished(api, clock, body(hyperParameters={"epochCount": "4"}))
    tuned = job["tunedModel"]
    checkpoints = tuned["checkpoints"]
    assert [c["checkpointId"] for c in checkpoints] == ["1", "2", "3", "4"]
    assert [c["epoch"] for c in checkpoints] == ["1", "2", "3", "4"]  # int64: strings
    steps = [int(c["step"]) for c in checkpoints]
    assert steps == sorted(steps)
    total = job["tuningDataStats"]["supervisedTuningDataStats"]["tuningStepCount"]
    assert steps[-1] == int(total)
    assert checkpoints[-1]["endpoint"] == tuned["endpoint"]
    assert len({c["endpoint"] for c in checkpoints}) == 4


async def test_export_last_checkpoint_only_leaves_checkpoints_out(
    api: httpx.AsyncClient, clock: ManualClock
) -> None:
    job = await _finished(api, clock, body(exportLastCheckpointOnly=True))
    assert "checkpoints" not in job["tunedModel"]
    assert job["tunedModel"]["endpoint"]


async def test_truncated_examples_are_counted_and_sampled(
    api: httpx.AsyncClient, clock: ManualClock
) -> None:
    job = await _finished(api, clock, body(trainingDatasetUri="gs://team-data/drop-long.jsonl"))
    stats = job["tuningDataStats"]["supervisedTuningDataStats"]
    assert stats["totalTruncatedExampleCount"] == "57"
    indices = stats["truncatedExampleIndices"]
    assert 0 < len(indices) <= 10  # a partial sample, not all 57
    assert all(isinstance(index, str) for index in indices)
    assert len(set(indices)) == len(indices)
    assert all(int(index) < int(stats["tuningDatasetExampleCount"]) for index in indices)
    assert len(stats["droppedExampleReasons"]) == len(indices)


async def test_zero_counts_are_omitted_not_sent_as_zero(
    api: httpx.AsyncClient, clock: ManualClock
) -> None:
    job = await _finished(api, clock, body())
    stats = job["tuningDataStats"]["supervisedTuningDataStats"]
    assert "totalTruncatedExampleCount" not in stats
    assert "truncatedExampleIndices" not in stats
    assert "droppedExampleReasons" not in stats

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        else:
            assert value not in (0, "0"), job

    walk(stats)


@pytest.mark.parametrize(
    "field",
    ["tuningDatasetExampleCount", "totalBillableTokenCount", "tuningStepCount"],
)
async def test_int64_counts_travel_as_strings(
    api: httpx.AsyncClient, clock: ManualClock, field: str
) -> None:
    job = await _finished(api, clock, body())
    value = job["tuningDataStats"]["supervisedTuningDataStats"][field]
    assert isinstance(value, str)
    assert int(value) > 0
