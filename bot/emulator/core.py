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
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette

from bot.emulator import generation, paging
from bot.emulator import jobs as timetable
from bot.emulator.errors import ApiError, not_found
from bot.emulator.experiments import render_context
from bot.emulator.filters import parse_filter
from bot.emulator.jobs import Job, Moment
from bot.emulator.models import ModelTable, default_table
from bot.emulator.projects import ProjectNumbers
from bot.emulator.render import render_job, started, tuned_model
from bot.emulator.states import ALL_STATES, ENDED, PENDING, PRODUCES_MODEL
from bot.emulator.validation import CreateContext, validate_create

# Methods that are counted, and that faults and holds may target.
METHODS = ("create", "get", "list", "cancel")
# `generate_tuned` is a tuned (or checkpoint) endpoint's generateContent, `generate_base` a
# publisher model's, so a test can make one side of a comparison fail and not the other.
GENERATE_METHODS = ("generate_tuned", "generate_base")
FAULT_METHODS = (*METHODS, "experiment", *GENERATE_METHODS)
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
    ) -> str:
        """Add a job as if started elsewhere (no validation); returns its name (number form)."""
        if state is not None and state not in ALL_STATES:
            raise ValueError(f"unknown state {state!r}")
        body: dict[str, Any] = {
            "baseModel": base_model,
            "supervisedTuningSpec": {"trainingDatasetUri": training_uri},
        }
        if display_name is not None:
            body["tunedModelDisplayName"] = display_name
        if labels:
            body["labels"] = dict(labels)
        job = self._store(project, region, body, base_model)
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
            return render_context(job, moment.start, max(moment.began, moment.start))

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
        """The fault to answer this request of `method` with, if one is queued."""
        with self._lock:
            faults = self._faults.get(method)
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
            return self._holds[method].pop(0) if self._holds.get(method) else None

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
