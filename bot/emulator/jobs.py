"""One emulated job and its timetable, computed lazily from the clock.

A job stores only what was sent and an anchor (a state and the moment it was entered); its state
at any moment is arithmetic on the clock, so thousands of jobs cost nothing until they are read
and a test's manual clock moves every job at once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from bot.emulator.states import (
    CANCELLED,
    CANCELLING,
    ENDED,
    EXPIRED,
    FAILED,
    PARTIALLY_SUCCEEDED,
    PENDING,
    QUEUED,
    RUNNING,
    SUCCEEDED,
    TIMETABLE,
)


def _resource_id() -> str:
    # Vertex ids are 19-digit decimal numbers.
    return str(secrets.randbelow(9 * 10**18) + 10**18)


@dataclass
class Job:
    """What was sent, and the anchor its timetable is computed from."""

    number: str  # the project NUMBER, as every name Vertex returns carries it
    region: str
    job_id: str
    seq: int
    body: dict[str, Any]
    created: float
    anchor_state: str
    anchor_time: float
    outcome: str
    base_model: str | None = None  # the base model this job derives from, when known
    error_message: str | None = None
    cancel_time: float | None = None
    started_at: float | None = None  # kept across forced states and cancels
    # Vertex reports `tuningDataStats` only once it has read the dataset, a while into RUNNING.
    stats_withheld: bool = False
    # Training curves: a planned step count other than the one derived from the dataset (so a
    # test can have a long run), and links of the chain to the curves left out on request.
    planned_steps: int | None = None
    experiment_withheld: bool = False
    runs_withheld: bool = False
    serving_region: str = ""
    model_id: str = field(default_factory=_resource_id)
    endpoint_id: str = field(default_factory=_resource_id)

    @property
    def parent(self) -> str:
        """`projects/NUMBER/locations/REGION`."""
        return f"projects/{self.number}/locations/{self.region}"

    @property
    def name(self) -> str:
        """The job's resource name, in project-number form."""
        return f"{self.parent}/tuningJobs/{self.job_id}"

    @property
    def training_uri(self) -> str:
        """The training dataset URI it was created with."""
        return str(self.body.get("supervisedTuningSpec", {}).get("trainingDatasetUri", ""))

    @property
    def experiment_id(self) -> str:
        """Id of the Vertex Experiment context the job logs to."""
        return f"tuning-experiment-{self.job_id}"

    @property
    def seed(self) -> int:
        """A number derived from the job id, for deterministic made-up statistics."""
        return int(hashlib.sha256(self.job_id.encode()).hexdigest()[:8], 16)


def new_job_id() -> str:
    """A fresh 19-digit job id."""
    return _resource_id()


def outcome_for(training_uri: str) -> str:
    """The ending a job will reach, chosen by words in its training URI (for tests)."""
    if "fail" in training_uri:
        return FAILED
    if "expire" in training_uri:
        return EXPIRED
    if "partial" in training_uri:
        return PARTIALLY_SUCCEEDED
    return SUCCEEDED


class Moment(NamedTuple):
    """A job's state at one moment, with the times Vertex reports."""

    state: str
    began: float  # when this state was entered
    start: float | None  # startTime: first RUNNING
    end: float | None  # endTime


def state_at(job: Job, now: float, step: float) -> Moment:
    """The job's state at `now` when each timetable stage lasts `step` seconds."""
    if job.cancel_time is not None:
        done = job.cancel_time + step
        if now >= done:
            return Moment(CANCELLED, done, job.started_at, done)
        return Moment(CANCELLING, job.cancel_time, job.started_at, None)
    if job.anchor_state in ENDED:
        return Moment(job.anchor_state, job.anchor_time, job.started_at, job.anchor_time)
    if job.anchor_state not in TIMETABLE:
        return Moment(job.anchor_state, job.anchor_time, job.started_at, None)
    first = TIMETABLE.index(job.anchor_state)
    elapsed = max(0.0, now - job.anchor_time)
    passed = len(TIMETABLE) if step == 0 else int(elapsed // step)
    stage = min(len(TIMETABLE), first + passed)
    began = job.anchor_time + (stage - first) * step
    start = _start_time(job, now, step)
    if stage >= len(TIMETABLE):
        return Moment(job.outcome, began, start, began)
    return Moment(TIMETABLE[stage], began, start, None)


def _start_time(job: Job, now: float, step: float) -> float | None:
    if job.started_at is not None:
        return job.started_at
    first = TIMETABLE.index(job.anchor_state)
    start = job.anchor_time + (TIMETABLE.index(RUNNING) - first) * step
    return start if start <= now else None


def force(job: Job, state: str, now: float, step: float, error_message: str | None) -> None:
    """Put `job` into `state` from `now` on; a state that has not ended moves on from there."""
    job.started_at = None if state in (QUEUED, PENDING) else state_at(job, now, step).start
    if job.started_at is None and state in (RUNNING, SUCCEEDED, PARTIALLY_SUCCEEDED):
        job.started_at = now
    job.anchor_state = state
    job.anchor_time = now
    job.error_message = error_message
    job.cancel_time = now if state == CANCELLING else None
    if state in ENDED:
        job.outcome = state


def cancel(job: Job, now: float, step: float) -> None:
    """Start cancelling (idempotent while CANCELLING)."""
    if job.cancel_time is None:
        job.started_at = state_at(job, now, step).start
        job.cancel_time = now
