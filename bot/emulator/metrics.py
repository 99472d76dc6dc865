"""A started job's training curves, as Vertex's TensorBoard serves them.

Vertex writes a supervised tuning job's per-step figures to one TensorBoard run under the
experiment the job names: scalar time series `/train_total_loss`,
`/train_fraction_of_correct_next_step_preds`, `/train_num_predictions` and, with a validation
dataset, the same three as `/eval_…`. Here they are made up but deterministic: a job's points
depend only on its id, and how many steps are written grows with its progress through RUNNING
until every planned step is there at SUCCEEDED.

Shapes follow Google's discovery document (`TensorboardRun`, `TensorboardTimeSeries`,
`TimeSeriesData`): int64 as decimal strings, RFC 3339 times, zero values left out.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from typing import Any

from bot.emulator.errors import invalid, not_found
from bot.emulator.experiments import tensorboard_name
from bot.emulator.jobs import Job
from bot.emulator.render import derived_id, rfc3339, steps

TRAIN_SERIES = (
    "/train_total_loss",
    "/train_fraction_of_correct_next_step_preds",
    "/train_num_predictions",
)
EVAL_SERIES = (
    "/eval_total_loss",
    "/eval_fraction_of_correct_next_step_preds",
    "/eval_num_predictions",
)
# Above this many points per series batchRead answers with a random sample.
BATCH_READ_POINTS = 1000
# Google's SDK asks batchRead for at most this many series at a time; the emulator refuses more
# so a client that does not chunk fails here rather than only against some production limit.
BATCH_READ_SERIES = 20
READ_DEFAULT_POINTS = 1000
READ_MAX_POINTS = 10_000
# Validation runs every this many parts of the plan, besides the first and the last step.
EVAL_PARTS = 10

_TENSORBOARD = r"projects/([^/]+)/locations/([^/]+)/tensorboards/([^/:]+)"
_EXPERIMENT = _TENSORBOARD + r"/experiments/([^/:]+)"
RUNS = re.compile(_EXPERIMENT + r"/runs")
SERIES_LIST = re.compile(_EXPERIMENT + r"/runs/([^/:]+)/timeSeries")
SERIES = re.compile(_EXPERIMENT + r"/runs/([^/:]+)/timeSeries/([^/:]+)")
READ = re.compile(_EXPERIMENT + r"/runs/([^/:]+)/timeSeries/([^/:]+):read")
BATCH_READ = re.compile(_TENSORBOARD + r":batchRead")


def run_id(job: Job) -> str:
    """The id of the one run Vertex writes a job's figures to."""
    return derived_id(job.job_id, "tensorboard-run")


def run_name(job: Job) -> str:
    """`{tensorboard}/experiments/{contextId}/runs/{run}`."""
    return f"{tensorboard_name(job)}/experiments/{job.experiment_id}/runs/{run_id(job)}"


def series_id(job: Job, display_name: str) -> str:
    """The id of one of the job's time series."""
    return derived_id(job.job_id, "time-series", display_name)


def has_validation(job: Job) -> bool:
    """The job was created with a validation dataset."""
    return bool(job.body.get("supervisedTuningSpec", {}).get("validationDatasetUri"))


def eval_steps(total: int) -> list[int]:
    """The steps validation figures are written at: the first, every tenth of the plan, the last."""
    every = max(1, total // EVAL_PARTS)
    return sorted({1, total, *range(every, total + 1, every)})


def _unit(*parts: int | str) -> float:
    """A deterministic number in [-1, 1) for `parts`, cheap enough for every point."""
    value = hash_text("/".join(str(p) for p in parts))
    return value / 2**63 - 1.0


def hash_text(text: str) -> int:
    """A stable 64-bit hash (FNV-1a, then splitmix64's finaliser so that texts differing only
    in their last character differ in every bit), unlike Python's salted `hash`."""
    mask = 0xFFFFFFFFFFFFFFFF
    value = 0xCBF29CE484222325
    for byte in text.encode():
        value = ((value ^ byte) * 0x100000001B3) & mask
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & mask
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & mask
    return value ^ (value >> 31)


@dataclass(frozen=True)
class Run:
    """A started job's run at one moment: how many of its planned steps have been written."""

    job: Job
    start: float  # when the job started RUNNING, the wall time of step 0
    seconds: float  # seconds the whole plan takes, for the wall times of steps
    recorded: int  # steps written so far

    @property
    def total(self) -> int:
        """Steps planned (`tuningStepCount`)."""
        return steps(self.job)

    def wall_time(self, step: int) -> float:
        """When `step` was written."""
        return self.start + self.seconds * step / self.total

    @property
    def updated(self) -> float:
        """When the last step was written (the start before any)."""
        return self.wall_time(self.recorded)

    def display_names(self) -> list[str]:
        """The series the run holds now: none before the first step is written; the eval ones
        only with validation data, else an empty `/eval_total_loss` as one recorded run had."""
        if self.recorded == 0:
            return []
        if has_validation(self.job):
            return [*TRAIN_SERIES, *EVAL_SERIES]
        return [*TRAIN_SERIES, EVAL_SERIES[0]]

    def steps_of(self, display_name: str) -> list[int]:
        """The steps the series has a point at, so far."""
        if display_name in TRAIN_SERIES:
            return list(range(1, self.recorded + 1))
        if display_name in EVAL_SERIES and has_validation(self.job):
            return [s for s in eval_steps(self.total) if s <= self.recorded]
        return []

    def value(self, display_name: str, step: int) -> float:
        """The made-up figure of a series at a step: loss falls roughly exponentially and
        accuracy rises towards ~0.9, each with a little deterministic noise."""
        seed = self.job.seed
        decay = math.exp(-step / max(1.0, self.total / 4))
        noise = _unit(seed, display_name, step)
        start_loss = 2.0 + (seed % 100) / 100
        final_loss = 0.2 + (seed % 17) / 100
        if display_name.endswith("_total_loss"):
            offset = 0.08 if display_name.startswith("/eval") else 0.0
            loss = final_loss + offset + (start_loss - final_loss) * decay
            return loss * (1 + 0.03 * noise)
        if display_name.endswith("_fraction_of_correct_next_step_preds"):
            offset = -0.02 if display_name.startswith("/eval") else 0.0
            accuracy = 0.9 + offset - (0.9 - 0.35) * decay + 0.01 * noise
            return min(1.0, max(0.0, accuracy))
        tokens = 2048 + seed % 1024
        return float(round(tokens * (1 + 0.1 * noise)))

    def points(self, display_name: str) -> list[dict[str, Any]]:
        """The series' points (`TimeSeriesDataPoint`), in step order."""
        return [
            {
                "step": str(step),
                "wallTime": rfc3339(self.wall_time(step)),
                "scalar": {"value": self.value(display_name, step)},
            }
            for step in self.steps_of(display_name)
        ]

    # -- Google's resources ----------------------------------------------------------
    def render_run(self) -> dict[str, Any]:
        """The `TensorboardRun`."""
        return {
            "name": run_name(self.job),
            "displayName": run_id(self.job),
            "createTime": rfc3339(self.start),
            "updateTime": rfc3339(self.updated),
            "etag": str(self.recorded),
        }

    def render_series(self, display_name: str) -> dict[str, Any]:
        """One `TensorboardTimeSeries`, with the step and time of its last point."""
        written = self.steps_of(display_name)
        metadata: dict[str, Any] = {}
        if written:
            metadata = {
                "maxStep": str(written[-1]),
                "maxWallTime": rfc3339(self.wall_time(written[-1])),
            }
        out: dict[str, Any] = {
            "name": f"{run_name(self.job)}/timeSeries/{series_id(self.job, display_name)}",
            "displayName": display_name,
            "valueType": "SCALAR",
            "createTime": rfc3339(self.wall_time(1)),
            "updateTime": rfc3339(self.wall_time(written[-1]) if written else self.start),
            "etag": str(len(written)),
            "pluginName": "scalars",
        }
        if metadata:
            out["metadata"] = metadata
        return out

    def series_by_id(self, ident: str) -> str:
        """The display name of the series `ident`; 404 for none the run holds."""
        for display_name in self.display_names():
            if series_id(self.job, display_name) == ident:
                return display_name
        raise not_found(f'TensorboardTimeSeries "{ident}" is not found.')

    def data(self, display_name: str, limit: int) -> dict[str, Any]:
        """`TimeSeriesData` of one series: every point up to `limit`, above it a deterministic
        random sample of `limit` points in no particular order (Google promises none)."""
        values = self.points(display_name)
        if len(values) > limit:
            picker = random.Random(f"{self.job.job_id}/{display_name}/{len(values)}")  # noqa: S311
            values = picker.sample(values, limit)
        out: dict[str, Any] = {
            "tensorboardTimeSeriesId": series_id(self.job, display_name),
            "valueType": "SCALAR",
        }
        if values:
            out["values"] = values
        return out


def read_limit(raw: str | None) -> int:
    """Points `:read` returns for `maxDataPoints`: 1,000 by default, -1 for all, at most 10,000."""
    if raw is None or raw == "":
        return READ_DEFAULT_POINTS
    try:
        wanted = int(raw)
    except ValueError:
        raise invalid(f"Invalid value at 'max_data_points' (TYPE_INT32), {raw!r}") from None
    if wanted == -1:
        return 2**31 - 1
    if wanted < 0:
        raise invalid("max_data_points must be positive or -1.", "max_data_points")
    return min(wanted or READ_DEFAULT_POINTS, READ_MAX_POINTS)
