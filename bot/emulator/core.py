"""The Emulator: jobs, faults and holds behind an ASGI app, with a Python control API for tests.

Everything that changes state goes through one lock, so tests may drive it from their own thread
while uvicorn serves it from another. HTTP lives in `routes` (Google's surface) and `control`
(`/_emulator/*`); this module holds the store, the four tuning-job operations and the
generateContent answers of tuned endpoints and base models (shaped in `generation`).
"""

from __future__ import annotations

import bisect
import collections
import copy
import datetime as dt
import itertools
import math
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette

from bot.emulator import generation, paging
from bot.emulator import jobs as timetable
from bot.emulator import metrics as curves
from bot.emulator.errors import ApiError, invalid, not_found
from bot.emulator.experiments import render_context, tensorboard_name
from bot.emulator.filters import parse_filter
from bot.emulator.jobs import Job, Moment
from bot.emulator.models import ModelTable, default_table
from bot.emulator.projects import ProjectNumbers
from bot.emulator.render import render_job, started, tuned_model
from bot.emulator.render import steps as timetable_steps
from bot.emulator.states import ALL_STATES, ENDED, PENDING, PRODUCES_MODEL
from bot.emulator.validation import CreateContext, validate_create

# Methods that are counted, and that faults and holds may target.
METHODS = ("create", "get", "list", "cancel")
# `generate_tuned` is a tuned (or checkpoint) endpoint's generateContent, `generate_base` a
# publisher model's, so a test can make one side of a comparison fail and not the other.
GENERATE_METHODS = ("generate_tuned", "generate_base")
# The TensorBoard reads behind a job's training curves; `tensorboard` in `inject` and `hold`
# stands for all four, so a test can deny a whole identity's TensorBoard access at once.
TENSORBOARD_METHODS = (
    "tensorboard_runs",
    "tensorboard_series",
    "tensorboard_batch_read",
    "tensorboard_read",
)
TENSORBOARD = "tensorboard"
FAULT_METHODS = (*METHODS, "experiment", *TENSORBOARD_METHODS, TENSORBOARD, *GENERATE_METHODS)
_TUNED_MODEL = re.compile(r"projects/[^/]+/locations/[^/]+/models/([^/@]+)(?:@[^/@]+)?")


@dataclass
class Fault:
    """An injected answer for the next `times` requests of one method."""

    status: int
    times: int
    retry_after: float | None
    message: str | None
    delay: float
    after_commit: bool
    google_status: str | None
    block_reason: str | None = None  # generate only: answer 200 with promptFeedback.blockReason
    finish_reason: str | None = None  # generate only: answer 200 with this finishReason


class Emulator:
    """Jobs, faults and holds behind an ASGI app (`.app`); safe to drive from another thread."""

    def __init__(
        self,
        seconds_per_state: float = 5.0,
        *,
        honour_filter: bool = True,
        clock: Callable[[], float] = time.time,
        require_token: str | None = None,
        project_numbers: Mapping[str, str] | None = None,
        models: ModelTable | None = None,
        listing_delay: float = 0.0,
    ) -> None:
        self.seconds_per_state = max(0.0, seconds_per_state)
        self.honour_filter = honour_filter
        # Google does not promise that `list` shows a new job at once: jobs younger than this
        # (by the emulator's clock) are left out of listings, though `get` finds them.
        self.listing_delay = max(0.0, listing_delay)
        self.clock = clock
        self.models = models or default_table()
        self.projects = ProjectNumbers(project_numbers)
        # When set, every API request needs `Authorization: Bearer <token>` (401 otherwise), and
        # `POST /_emulator/token` hands the token out as an OAuth token endpoint would.
        self.require_token = require_token
        self.counts: collections.Counter[str] = collections.Counter()
        self.received: list[tuple[str, str, Any]] = []  # (method, path, JSON body) in order
        self._jobs: dict[str, Job] = {}
        # Each location's jobs in creation order, so a page starts with a bisect, not a sort.
        self._by_location: dict[tuple[str, str], list[Job]] = {}
        self._by_model: dict[str, Job] = {}  # tuned model id -> the job that makes it
        self._faults: dict[str, list[Fault]] = collections.defaultdict(list)
        self._holds: dict[str, list[threading.Event]] = collections.defaultdict(list)
        self._lock = threading.RLock()
        self._stopping = threading.Event()  # cuts injected delays short when the server stops
        self._seq = itertools.count(1)
        from bot.emulator.routes import build_app  # routes import this module's names

        self.app: Starlette = build_app(self)

    # -- Python control API ------------------------------------------------------------
    def inject(
        self,
        method: str,
        status: int,
        *,
        times: int = 1,
        retry_after: float | None = None,
        message: str | None = None,
        delay: float = 0.0,
        after_commit: bool = False,
        google_status: str | None = None,
        block_reason: str | None = None,
        finish_reason: str | None = None,
    ) -> None:
        """Answer the next `times` requests of `method` with `status` (200 = only the delay).

        `after_commit` (create only): the job is created first, then the fault is answered —
        a create that reached Google but whose answer was lost. `block_reason` and
        `finish_reason` (generate methods, status 200): the model's answer is blocked so.
        """
        if method not in FAULT_METHODS:
            raise ValueError(f"method must be one of {FAULT_METHODS}")
        fault = Fault(
            status,
            times,
            retry_after,
            message,
            delay,
            after_commit,
            google_status,
            block_reason,
            finish_reason,
        )
        with self._lock:
            self._faults[method].append(fault)

    def hold(self, method: str) -> threading.Event:
        """The next request of `method` waits until the returned event is set."""
        if method not in FAULT_METHODS:
            raise ValueError(f"method must be one of {FAULT_METHODS}")
        event = threading.Event()
        with self._lock:
            self._holds[method].append(event)
        return event

    def add_job(
        self,
        project: str,
        region: str,
        *,
        base_model: str = "gemini-2.5-flash",
        display_name: str | None = None,
        training_uri: str = "gs://b/train.jsonl",
        state: str | None = None,
        labels: Mapping[str, str] | None = None,
        validation_uri: str | None = None,
        steps: int | None = None,
    ) -> str:
        """Add a job as if started elsewhere (without validation data unless `validation_uri`
        is given; `steps` as in `set_curves`); returns its name (number form)."""
        if state is not None and state not in ALL_STATES:
            raise ValueError(f"unknown state {state!r}")
        spec: dict[str, Any] = {"trainingDatasetUri": training_uri}
        if validation_uri is not None:
            spec["validationDatasetUri"] = validation_uri
        body: dict[str, Any] = {"baseModel": base_model, "supervisedTuningSpec": spec}
        if display_name is not None:
            body["tunedModelDisplayName"] = display_name
        if labels:
            body["labels"] = dict(labels)
        job = self._store(project, region, body, base_model)
        if steps is not None:
            self.set_curves(job.name, steps=steps)
        if state is not None:
            with self._lock:
                timetable.force(job, state, self.clock(), self.seconds_per_state, None)
        return job.name

    def set_state(self, name: str, state: str, *, error_message: str | None = None) -> None:
        """Force a job (named by project id or number) into `state` now; a state that has not
        ended keeps moving on the timetable. KeyError for unknown jobs, ValueError for ended ones.
        """
        if state not in ALL_STATES:
            raise ValueError(f"unknown state {state!r}")
        with self._lock:
            job = self._jobs[self.projects.canonical(name)]
            now = self.clock()
            if self._moment(job, now).state in ENDED:
                raise ValueError(f"{name} has ended; ended jobs stay ended")
            timetable.force(job, state, now, self.seconds_per_state, error_message)

    def withhold_stats(self, name: str, withheld: bool = True) -> None:
        """Leave `tuningDataStats` out of the job's answers until called with False, as Vertex
        does before it has read the dataset. KeyError for unknown jobs."""
        with self._lock:
            self._jobs[self.projects.canonical(name)].stats_withheld = withheld

    def set_curves(
        self,
        name: str,
        *,
        steps: int | None = None,
        experiment: bool | None = None,
        runs: bool | None = None,
    ) -> None:
        """Shape a job's training curves: `steps` planned (a long run for more points than one
        read returns; also its `tuningStepCount` and checkpoints), `experiment=False` leaves
        `experiment` out of the job and 404s its context, `runs=False` keeps its TensorBoard
        experiment without a run. Unnamed settings stay. KeyError for unknown jobs."""
        if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int)):
            raise ValueError("steps must be a whole number")
        if steps is not None and steps < 1:
            raise ValueError("steps must be at least 1")
        with self._lock:
            job = self._jobs[self.projects.canonical(name)]
            if steps is not None:
                job.planned_steps = steps
            if experiment is not None:
                job.experiment_withheld = not experiment
            if runs is not None:
                job.runs_withheld = not runs

    def jobs(self) -> list[dict[str, Any]]:
        """Every job as `get` would return it, newest first."""
        now = self.clock()
        with self._lock:
            ordered = sorted(self._jobs.values(), key=lambda j: j.seq, reverse=True)
            return [copy.deepcopy(self._render(job, now)) for job in ordered]

    def reset(self) -> None:
        """Forget jobs, counts, faults and holds (held requests are released)."""
        with self._lock:
            self.release_holds()
            self._jobs.clear()
            self._by_location.clear()
            self._by_model.clear()
            self._faults.clear()
            self.counts.clear()
            self.received.clear()

    def release_holds(self) -> None:
        """Let every held or future-held request go."""
        with self._lock:
            for events in self._holds.values():
                for event in events:
                    event.set()
            self._holds.clear()

    def stop(self) -> None:
        """Release holds and cut injected delays short (the server is going away)."""
        self.release_holds()
        self._stopping.set()

    # -- the store ---------------------------------------------------------------------
    def _store(
        self, project: str, region: str, body: dict[str, Any], base_model: str | None
    ) -> Job:
        now = self.clock()
        number = self.projects.number(project)
        with self._lock:
            job_id = timetable.new_job_id()
            while f"projects/{number}/locations/{region}/tuningJobs/{job_id}" in self._jobs:
                job_id = timetable.new_job_id()
            job = Job(
                number=number,
                region=region,
                job_id=job_id,
                seq=next(self._seq),
                body=body,
                created=now,
                anchor_state=PENDING,  # what Vertex answers a create with
                anchor_time=now,
                outcome=timetable.outcome_for(
                    str(body.get("supervisedTuningSpec", {}).get("trainingDatasetUri", ""))
                ),
                base_model=base_model,
                serving_region=self.models.serving_location(base_model or "", region),
            )
            self._jobs[job.name] = job
            self._by_location.setdefault((job.number, job.region), []).append(job)
            self._by_model[job.model_id] = job
            return job

    def _moment(self, job: Job, now: float) -> Moment:
        return timetable.state_at(job, now, self.seconds_per_state)

    def _render(self, job: Job, now: float) -> dict[str, Any]:
        return render_job(job, self._moment(job, now), job.base_model)

    def _job(self, name: str) -> Job:
        job = self._jobs.get(self.projects.canonical(name))
        if job is None:
            raise not_found(f'The TuningJob "{name}" does not exist.')
        return job

    def _tuned_model_base(self, name: str) -> str | None:
        """The base model of a tuned model this emulator made (None when unknown)."""
        match = _TUNED_MODEL.fullmatch(name)
        with self._lock:
            job = self._by_model.get(match[1]) if match else None
            if job is None or self._moment(job, self.clock()).state not in PRODUCES_MODEL:
                return None
            return job.base_model

    # -- the API operations (called by routes) -----------------------------------------
    def create(self, version: str, project: str, region: str, raw: Any) -> dict[str, Any]:
        """Validate and store a create body; the new job as Vertex answers it."""
        context = CreateContext(
            version=version,
            region=region,
            today=dt.datetime.fromtimestamp(self.clock(), tz=dt.UTC).date(),
            models=self.models,
            tuned_models=self._tuned_model_base,
        )
        body, base_model = validate_create(raw, context)
        job = self._store(project, region, body, base_model)
        return self.get(job.name)

    def get(self, name: str) -> dict[str, Any]:
        """One job as Vertex returns it."""
        with self._lock:
            return self._render(self._job(name), self.clock())

    def cancel(self, name: str) -> None:
        """Start cancelling; FAILED_PRECONDITION for a job that has ended."""
        with self._lock:
            job = self._job(name)
            now = self.clock()
            state = self._moment(job, now).state
            if state in ENDED:
                raise ApiError(
                    400,
                    f"Cannot cancel tuning job {job.name} because it is in state {state}.",
                    "FAILED_PRECONDITION",
                )
            timetable.cancel(job, now, self.seconds_per_state)

    def list(
        self, project: str, region: str, filter_text: str, page_size: int, token: str
    ) -> dict[str, Any]:
        """One page of the region's jobs, newest first."""
        size = paging.page_size(page_size)
        predicate = parse_filter(filter_text) if self.honour_filter and filter_text else None
        filter_print = paging.fingerprint(filter_text)
        after = paging.decode_token(token, filter_print) if token else None
        number = self.projects.number(project)
        now = self.clock()
        with self._lock:
            located = self._by_location.get((number, region), [])
            end = len(located) if after is None else bisect.bisect_left(located, after, key=_seq)
            page: list[dict[str, Any]] = []
            last_seq: int | None = None
            more = False
            for job in reversed(located[:end]):
                if now - job.created < self.listing_delay:
                    continue
                rendered = self._render(job, now)
                if predicate is not None and not predicate(rendered):
                    continue
                if len(page) == size:
                    more = True
                    break
                page.append(rendered)
                last_seq = job.seq
        out: dict[str, Any] = {}  # keys are absent when empty, as in Google's answers
        if page:
            out["tuningJobs"] = page
        if more and last_seq is not None:
            out["nextPageToken"] = paging.encode_token(last_seq, filter_print)
        return out

    def experiment(self, project: str, region: str, context_id: str) -> dict[str, Any]:
        """The Metadata Context of a started job's experiment; 404 for any other."""
        number = self.projects.number(project)
        name = f"projects/{number}/locations/{region}/metadataStores/default/contexts/{context_id}"
        prefix = "tuning-experiment-"
        job_id = context_id[len(prefix) :] if context_id.startswith(prefix) else ""
        now = self.clock()
        with self._lock:
            job = self._jobs.get(f"projects/{number}/locations/{region}/tuningJobs/{job_id}")
            moment = self._moment(job, now) if job is not None else None
            if job is None or moment is None or not started(moment) or moment.start is None:
                raise not_found(f'Context "{name}" is not found.')
            if job.experiment_withheld:
                raise not_found(f'Context "{name}" is not found.')
            return render_context(job, moment.start, max(moment.began, moment.start))

    # -- training curves (TensorBoard reads) -------------------------------------------
    def tensorboard_runs(self, path: str) -> dict[str, Any]:
        """`ListTensorboardRunsResponse` of a job's TensorBoard experiment (one run, or none
        before it has been written or when withheld)."""
        match = curves.RUNS.fullmatch(path)
        if match is None:
            raise not_found(f"The requested URL /v1/{path} was not found on this server.")
        with self._lock:
            job, run = self._experiment_run(*match.groups())
            if job.runs_withheld:
                return {}
            return {"tensorboardRuns": [run.render_run()]}

    def tensorboard_series(self, path: str) -> dict[str, Any]:
        """`ListTensorboardTimeSeriesResponse` of a job's run."""
        match = curves.SERIES_LIST.fullmatch(path)
        if match is None:
            raise not_found(f"The requested URL /v1/{path} was not found on this server.")
        with self._lock:
            run = self._run(*match.groups())
            listed = [run.render_series(name) for name in run.display_names()]
        return {"tensorboardTimeSeries": listed} if listed else {}

    def tensorboard_batch_read(self, path: str, names: Sequence[str]) -> dict[str, Any]:
        """`BatchReadTensorboardTimeSeriesDataResponse`: up to 1,000 points per series, a
        random sample above that; 400 for more series than Google's SDK sends at once."""
        match = curves.BATCH_READ.fullmatch(path)
        if match is None:
            raise not_found(f"The requested URL /v1/{path} was not found on this server.")
        if not names:
            raise invalid("time_series must be specified.", "time_series")
        if len(names) > curves.BATCH_READ_SERIES:
            raise invalid(
                f"At most {curves.BATCH_READ_SERIES} time series may be read at once, "
                f"got {len(names)}.",
                "time_series",
            )
        board = f"projects/{self.projects.number(match[1])}/locations/{match[2]}"
        board = f"{board}/tensorboards/{match[3]}"
        found: list[dict[str, Any]] = []
        with self._lock:
            for name in names:
                series = curves.SERIES.fullmatch(name)
                if series is None:
                    raise invalid(f"Invalid TensorboardTimeSeries name: {name}.", "time_series")
                project, region, tensorboard, *rest = series.groups()
                own = f"projects/{self.projects.number(project)}/locations/{region}"
                if f"{own}/tensorboards/{tensorboard}" != board:
                    raise invalid(
                        f"TensorboardTimeSeries {name} is not a sub resource of {path}.",
                        "time_series",
                    )
                run = self._run(project, region, tensorboard, *rest[:2])
                display_name = run.series_by_id(rest[2])
                found.append(run.data(display_name, curves.BATCH_READ_POINTS))
        return {"timeSeriesData": found}

    def tensorboard_read(self, path: str, max_points: str | None) -> dict[str, Any]:
        """`ReadTensorboardTimeSeriesDataResponse`: up to `maxDataPoints` points of one series."""
        match = curves.READ.fullmatch(path)
        if match is None:
            raise not_found(f"The requested URL /v1/{path} was not found on this server.")
        limit = curves.read_limit(max_points)
        with self._lock:
            project, region, tensorboard, experiment, run_id, ident = match.groups()
            run = self._run(project, region, tensorboard, experiment, run_id)
            return {"timeSeriesData": run.data(run.series_by_id(ident), limit)}

    def _experiment_run(
        self, project: str, region: str, tensorboard: str, experiment: str
    ) -> tuple[Job, curves.Run]:
        """The job whose TensorBoard experiment this is, and its run; 404 as Google's for
        anything else."""
        number = self.projects.number(project)
        board = f"projects/{number}/locations/{region}/tensorboards/{tensorboard}"
        missing = not_found(f'TensorboardExperiment "{board}/experiments/{experiment}" not found.')
        prefix = "tuning-experiment-"
        if not experiment.startswith(prefix):
            raise missing
        job = self._jobs.get(
            f"projects/{number}/locations/{region}/tuningJobs/{experiment[len(prefix) :]}"
        )
        if job is None or job.experiment_withheld or tensorboard_name(job) != board:
            raise missing
        now = self.clock()
        moment = self._moment(job, now)
        if not started(moment) or moment.start is None:
            raise missing
        return job, self._curve_run(job, moment, now)

    def _run(
        self, project: str, region: str, tensorboard: str, experiment: str, run_id: str
    ) -> curves.Run:
        job, run = self._experiment_run(project, region, tensorboard, experiment)
        if job.runs_withheld or run_id != curves.run_id(job):
            raise not_found(f'TensorboardRun "{run_id}" is not found.')
        return run

    def _curve_run(self, job: Job, moment: Moment, now: float) -> curves.Run:
        """The job's run as written by `now`: steps in proportion to its time in RUNNING,
        all of them once it has produced a model, frozen where an ending stopped it."""
        assert moment.start is not None
        seconds = self.seconds_per_state
        total = timetable_steps(job)
        if moment.state in PRODUCES_MODEL or seconds <= 0:
            fraction = 1.0
        else:
            # A cancel stops training when asked, not when CANCELLED is reached.
            until = job.cancel_time if job.cancel_time is not None else (moment.end or now)
            fraction = (until - moment.start) / seconds
        recorded = math.floor(min(1.0, max(0.0, fraction)) * total)
        return curves.Run(job, moment.start, seconds, recorded)

    def generate_tuned(
        self,
        project: str,
        region: str,
        endpoint_id: str,
        body: Any,
        block_reason: str | None = None,
        finish_reason: str | None = None,
    ) -> dict[str, Any]:
        """A tuned model's answer through its endpoint or a checkpoint's; 404 for an endpoint
        no succeeded job of this emulator serves."""
        number = self.projects.number(project)
        wanted = f"projects/{number}/locations/{region}/endpoints/{endpoint_id}"
        now = self.clock()
        with self._lock:
            served = None
            for job in self._jobs.values():
                if self._moment(job, now).state not in PRODUCES_MODEL:
                    continue
                tuned = tuned_model(job)
                endpoints = [tuned["endpoint"]]
                endpoints += [c["endpoint"] for c in tuned.get("checkpoints", [])]
                if wanted in endpoints:
                    served = tuned["model"]
                    break
        if served is None:
            raise not_found(
                f'Endpoint "projects/{project}/locations/{region}/endpoints/{endpoint_id}" '
                "not found."
            )
        return generation.answer(
            "tuned", served, body, block_reason=block_reason, finish_reason=finish_reason
        )

    def generate_base(
        self,
        project: str,
        region: str,
        model: str,
        body: Any,
        block_reason: str | None = None,
        finish_reason: str | None = None,
    ) -> dict[str, Any]:
        """A publisher base model's answer; 404 for a model the emulator's table lacks."""
        if self.models.get(model) is None:
            raise not_found(
                f"Publisher Model `projects/{project}/locations/{region}/publishers/google/"
                f"models/{model}` was not found or your project does not have access to it."
            )
        return generation.answer(
            "base", model, body, block_reason=block_reason, finish_reason=finish_reason
        )

    # -- faults and holds (used by routes) ---------------------------------------------
    def take_fault(self, method: str) -> Fault | None:
        """The fault to answer this request of `method` with, if one is queued (for its own
        name first, then for `tensorboard` when it is a TensorBoard read)."""
        with self._lock:
            faults = self._faults.get(method)
            if not faults and method in TENSORBOARD_METHODS:
                faults = self._faults.get(TENSORBOARD)
            if not faults:
                return None
            fault = faults[0]
            fault.times -= 1
            if fault.times <= 0:
                faults.pop(0)
            return fault

    def take_hold(self, method: str) -> threading.Event | None:
        """The event this request of `method` must wait for, if a hold is queued."""
        with self._lock:
            holds = self._holds.get(method)
            if not holds and method in TENSORBOARD_METHODS:
                holds = self._holds.get(TENSORBOARD)
            return holds.pop(0) if holds else None

    def record(self, method: str, path: str, body: Any) -> None:
        """Count a request and remember what it sent."""
        with self._lock:
            self.counts[method] += 1
            self.received.append((method, path, body))

    def wait_stopping(self, seconds: float) -> None:
        """Sleep up to `seconds`, returning early when the server stops."""
        self._stopping.wait(seconds)

    def stats(self) -> dict[str, Any]:
        """Request counts by method and the number of jobs."""
        with self._lock:
            return {"counts": {m: self.counts.get(m, 0) for m in METHODS}, "jobs": len(self._jobs)}


def _seq(job: Job) -> int:
    return job.seq
