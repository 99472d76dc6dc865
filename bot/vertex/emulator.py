"""A local emulator of the Vertex AI tuning REST API (`projects.locations.tuningJobs`).

It answers like Google: the same paths, camelCase JSON, int64 values as strings, Google's error
shape. Jobs move QUEUED → PENDING → RUNNING → an end state on a timetable computed lazily from
the clock, so thousands of jobs cost nothing until they are read. Tests drive it in process
(`Emulator`, `EmulatorServer`) or over HTTP (`/_emulator/...`), and can inject faults, hold
requests and force states.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import copy
import datetime as dt
import hashlib
import itertools
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.tuning.catalogue import Catalogue, ModelStatus, default_catalogue

METHODS = ("create", "get", "list", "cancel")
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100

QUEUED = "JOB_STATE_QUEUED"
PENDING = "JOB_STATE_PENDING"
RUNNING = "JOB_STATE_RUNNING"
SUCCEEDED = "JOB_STATE_SUCCEEDED"
FAILED = "JOB_STATE_FAILED"
CANCELLING = "JOB_STATE_CANCELLING"
CANCELLED = "JOB_STATE_CANCELLED"
EXPIRED = "JOB_STATE_EXPIRED"
PARTIALLY_SUCCEEDED = "JOB_STATE_PARTIALLY_SUCCEEDED"
PAUSED = "JOB_STATE_PAUSED"
UPDATING = "JOB_STATE_UPDATING"
ALL_STATES = frozenset(
    {
        "JOB_STATE_UNSPECIFIED",
        QUEUED,
        PENDING,
        RUNNING,
        SUCCEEDED,
        FAILED,
        CANCELLING,
        CANCELLED,
        PAUSED,
        EXPIRED,
        UPDATING,
        PARTIALLY_SUCCEEDED,
    }
)
ENDED = frozenset({SUCCEEDED, FAILED, CANCELLED, EXPIRED, PARTIALLY_SUCCEEDED})
_TIMETABLE = (QUEUED, PENDING, RUNNING)  # stage 3 is the job's outcome

# Google's canonical status names by HTTP status, for injected faults.
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

# Field names of the discovery document's TuningJob and the messages under it (camelCase; proto3
# JSON also accepts the snake_case spelling on input). `None` marks a message whose inside the
# emulator does not check.
_ADAPTER_SIZES = {
    "ADAPTER_SIZE_UNSPECIFIED": None,
    "ADAPTER_SIZE_ONE": 1,
    "ADAPTER_SIZE_TWO": 2,
    "ADAPTER_SIZE_FOUR": 4,
    "ADAPTER_SIZE_EIGHT": 8,
    "ADAPTER_SIZE_SIXTEEN": 16,
    "ADAPTER_SIZE_THIRTY_TWO": 32,
}
_TUNING_JOB_FIELDS = {
    "baseModel": "string",
    "createTime": "output",
    "description": "string",
    "encryptionSpec": "encryptionSpec",
    "endTime": "output",
    "error": "output",
    "evaluateDatasetRuns": "output",
    "experiment": "output",
    "gcsMetricsUri": "output",
    "labels": "labels",
    "name": "output",
    "preTunedModel": "object",
    "preferenceOptimizationSpec": "object",
    "serviceAccount": "string",
    "startTime": "output",
    "state": "output",
    "supervisedTuningSpec": "supervisedTuningSpec",
    "tunedModel": "output",
    "tunedModelDisplayName": "string",
    "tuningDataStats": "output",
    "updateTime": "output",
}
_SUPERVISED_FIELDS = {
    "evaluationConfig": "object",
    "exportLastCheckpointOnly": "boolean",
    "hyperParameters": "hyperParameters",
    "trainingDatasetUri": "string",
    "validationDatasetUri": "string",
}
_HYPER_FIELDS = {
    "adapterSize": "adapterSize",
    "epochCount": "int64",
    "learningRateMultiplier": "double",
}
_ENCRYPTION_FIELDS = {"kmsKeyName": "string"}
_MESSAGES: dict[str, dict[str, str]] = {
    "tuning_job": _TUNING_JOB_FIELDS,
    "supervisedTuningSpec": _SUPERVISED_FIELDS,
    "hyperParameters": _HYPER_FIELDS,
    "encryptionSpec": _ENCRYPTION_FIELDS,
}
_MULTI_REGION = {"us-central1": "us", "europe-west4": "eu"}
_JOBS_PATH = re.compile(r"projects/([^/]+)/locations/([^/]+)/tuningJobs")
_JOB_PATH = re.compile(r"projects/([^/]+)/locations/([^/]+)/tuningJobs/([^/:]+)(:cancel)?")
_LABEL_KEY = re.compile(r"[a-z\u00c0-\uffff][a-z0-9_\-\u00c0-\uffff]{0,62}")
_LABEL_VALUE = re.compile(r"[a-z0-9_\-\u00c0-\uffff]{0,63}")


class ApiError(Exception):
    """An answer in Google's error shape."""

    def __init__(
        self,
        code: int,
        message: str,
        status: str | None = None,
        *,
        retry_after: float | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or STATUS_NAMES.get(code, "UNKNOWN")
        self.retry_after = retry_after
        self.details = details or []

    def response(self) -> JSONResponse:
        """Google's `{"error": {code, message, status, details}}` body."""
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.details:
            error["details"] = self.details
        headers = {}
        if self.retry_after is not None:
            headers["Retry-After"] = f"{self.retry_after:g}"
        return JSONResponse({"error": error}, status_code=self.code, headers=headers)


def _invalid(message: str, field_path: str | None = None) -> ApiError:
    details = None
    if field_path is not None:
        details = [
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{"field": field_path, "description": message}],
            }
        ]
    return ApiError(400, message, "INVALID_ARGUMENT", details=details)


@dataclass
class _Fault:
    status: int
    times: int
    retry_after: float | None
    message: str | None
    delay: float
    after_commit: bool
    google_status: str | None


@dataclass
class _Job:
    """One job: what was sent, and the anchor its timetable is computed from."""

    project: str
    region: str
    job_id: str
    seq: int
    body: dict[str, Any]
    created: float
    anchor_state: str
    anchor_time: float
    outcome: str
    error_message: str | None = None
    cancel_time: float | None = None
    started_at: float | None = None  # kept across forced states and cancels
    serving_region: str = ""
    model_id: str = field(default_factory=lambda: str(secrets.randbelow(10**18) + 10**18))
    endpoint_id: str = field(default_factory=lambda: str(secrets.randbelow(10**18) + 10**18))

    @property
    def name(self) -> str:
        return f"projects/{self.project}/locations/{self.region}/tuningJobs/{self.job_id}"

    @property
    def training_uri(self) -> str:
        return str(self.body.get("supervisedTuningSpec", {}).get("trainingDatasetUri", ""))


def _rfc3339(seconds: float) -> str:
    moment = dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _outcome_for(training_uri: str) -> str:
    if "fail" in training_uri:
        return FAILED
    if "expire" in training_uri:
        return EXPIRED
    if "partial" in training_uri:
        return PARTIALLY_SUCCEEDED
    return SUCCEEDED


class Emulator:
    """Jobs, faults and holds behind an ASGI app (`.app`); safe to drive from another thread."""

    def __init__(
        self,
        seconds_per_state: float = 5.0,
        *,
        honour_filter: bool = True,
        clock: Callable[[], float] = time.time,
        catalogue: Catalogue | None = None,
        require_token: str | None = None,
    ) -> None:
        self.seconds_per_state = max(0.0, seconds_per_state)
        self.honour_filter = honour_filter
        self.clock = clock
        self.catalogue = catalogue or default_catalogue()
        # When set, every API request needs `Authorization: Bearer <token>` (401 otherwise), and
        # `POST /_emulator/token` hands the token out as an OAuth token endpoint would.
        self.require_token = require_token
        self.counts: collections.Counter[str] = collections.Counter()
        self.received: list[tuple[str, str, Any]] = []  # (method, path, JSON body) in order
        self._jobs: dict[str, _Job] = {}
        self._faults: dict[str, list[_Fault]] = collections.defaultdict(list)
        self._holds: dict[str, list[threading.Event]] = collections.defaultdict(list)
        self._lock = threading.RLock()
        self._stopping = threading.Event()  # cuts injected delays short when the server stops
        self._seq = itertools.count(1)
        self.app = self._build_app()

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
    ) -> None:
        """Answer the next `times` requests of `method` with `status` (200 = only the delay).

        `after_commit` (create only): the job is created first, then the fault is answered —
        a create that reached Google but whose answer was lost.
        """
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}")
        fault = _Fault(status, times, retry_after, message, delay, after_commit, google_status)
        with self._lock:
            self._faults[method].append(fault)

    def hold(self, method: str) -> threading.Event:
        """The next request of `method` waits until the returned event is set."""
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}")
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
        """Add a job as if started elsewhere (no validation); returns its resource name."""
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
        job = self._store(project, region, body)
        if state is not None:
            self._force(job, state, None)
        return job.name

    def set_state(self, name: str, state: str, *, error_message: str | None = None) -> None:
        """Force a job into `state` now; a forced state that has not ended keeps moving on the
        timetable from this moment. Raises KeyError for unknown jobs, ValueError for ended ones.
        """
        if state not in ALL_STATES:
            raise ValueError(f"unknown state {state!r}")
        with self._lock:
            job = self._jobs[name]
            if self._state_at(job, self.clock())[0] in ENDED:
                raise ValueError(f"{name} has ended; ended jobs stay ended")
            self._force(job, state, error_message)

    def jobs(self) -> list[dict[str, Any]]:
        """Every job as `get` would return it, newest first."""
        now = self.clock()
        with self._lock:
            ordered = sorted(self._jobs.values(), key=lambda j: j.seq, reverse=True)
            return [copy.deepcopy(self._render(job, now)) for job in ordered]

    def reset(self) -> None:
        """Forget jobs, counts, faults and holds (held requests are released)."""
        with self._lock:
            for events in self._holds.values():
                for event in events:
                    event.set()
            self._jobs.clear()
            self._faults.clear()
            self._holds.clear()
            self.counts.clear()
            self.received.clear()

    def release_holds(self) -> None:
        """Let every held or future-held request go."""
        with self._lock:
            for events in self._holds.values():
                for event in events:
                    event.set()
            self._holds.clear()

    # -- state -------------------------------------------------------------------------
    def _store(self, project: str, region: str, body: dict[str, Any]) -> _Job:
        now = self.clock()
        with self._lock:
            job_id = str(secrets.randbelow(9 * 10**18) + 10**18)
            while f"projects/{project}/locations/{region}/tuningJobs/{job_id}" in self._jobs:
                job_id = str(secrets.randbelow(9 * 10**18) + 10**18)
            model = self.catalogue.get(str(body.get("baseModel", "")))
            serving = region
            if model is not None and model.serving_location:
                serving = _MULTI_REGION.get(region, region)
            job = _Job(
                project=project,
                region=region,
                job_id=job_id,
                seq=next(self._seq),
                body=body,
                created=now,
                anchor_state=QUEUED,
                anchor_time=now,
                outcome=_outcome_for(
                    str(body.get("supervisedTuningSpec", {}).get("trainingDatasetUri", ""))
                ),
                serving_region=serving,
            )
            self._jobs[job.name] = job
            return job

    def _force(self, job: _Job, state: str, error_message: str | None) -> None:
        now = self.clock()
        job.started_at = None if state in (QUEUED, PENDING) else self._state_at(job, now)[2]
        if job.started_at is None and state in (RUNNING, SUCCEEDED, PARTIALLY_SUCCEEDED):
            job.started_at = now
        job.anchor_state = state
        job.anchor_time = now
        job.error_message = error_message
        job.cancel_time = now if state == CANCELLING else None
        if state in ENDED:
            job.outcome = state

    def _state_at(self, job: _Job, now: float) -> tuple[str, float, float | None, float | None]:
        """(state, time it began, start time, end time) at `now`."""
        step = self.seconds_per_state
        if job.cancel_time is not None:
            done = job.cancel_time + step
            start = job.started_at
            if now >= done:
                return CANCELLED, done, start, done
            return CANCELLING, job.cancel_time, start, None
        if job.anchor_state in ENDED:
            return job.anchor_state, job.anchor_time, job.started_at, job.anchor_time
        if job.anchor_state not in _TIMETABLE:
            return job.anchor_state, job.anchor_time, job.started_at, None
        first = _TIMETABLE.index(job.anchor_state)
        elapsed = max(0.0, now - job.anchor_time)
        passed = len(_TIMETABLE) if step == 0 else int(elapsed // step)
        stage = min(len(_TIMETABLE), first + passed)
        began = job.anchor_time + (stage - first) * step
        start = self._start_time(job, now)
        if stage >= len(_TIMETABLE):
            return job.outcome, began, start, began
        return _TIMETABLE[stage], began, start, None

    def _start_time(self, job: _Job, now: float) -> float | None:
        if job.anchor_state not in _TIMETABLE:
            return job.started_at
        if job.started_at is not None:
            return job.started_at
        first = _TIMETABLE.index(job.anchor_state)
        start = job.anchor_time + (2 - first) * self.seconds_per_state
        return start if start <= now else None

    def _render(self, job: _Job, now: float) -> dict[str, Any]:
        state, began, start, end = self._state_at(job, now)
        out: dict[str, Any] = {"name": job.name}
        out.update(job.body)
        out["state"] = state
        out["createTime"] = _rfc3339(job.created)
        out["updateTime"] = _rfc3339(max(began, job.created))
        if start is not None and state not in (QUEUED, PENDING):
            out["startTime"] = _rfc3339(start)
        if end is not None:
            out["endTime"] = _rfc3339(end)
        parent = f"projects/{job.project}/locations/{job.region}"
        if state in (RUNNING, *ENDED) and start is not None:
            out["experiment"] = (
                f"{parent}/metadataStores/default/contexts/tuning-experiment-{job.job_id}"
            )
            out["tuningDataStats"] = {"supervisedTuningDataStats": _data_stats(job)}
        if state in (SUCCEEDED, PARTIALLY_SUCCEEDED):
            serving = f"projects/{job.project}/locations/{job.serving_region}"
            out["tunedModel"] = {
                "model": f"{parent}/models/{job.model_id}@1",
                "endpoint": f"{serving}/endpoints/{job.endpoint_id}",
            }
        if state == FAILED:
            out["error"] = {
                "code": 3,
                "message": job.error_message
                or f"Dataset example 1 of 16 in {job.training_uri} is not valid: "
                "contents must end with a model turn.",
            }
        elif state in (CANCELLED,):
            out["error"] = {"code": 1, "message": job.error_message or "CANCELLED"}
        elif state == EXPIRED and job.error_message:
            out["error"] = {"code": 4, "message": job.error_message}
        return out

    # -- API ---------------------------------------------------------------------------
    def _create(self, project: str, region: str, raw: Any) -> _Job:
        body = self._validate(raw, region)
        return self._store(project, region, body)

    def _get(self, name: str) -> dict[str, Any]:
        with self._lock:
            job = self._jobs.get(name)
            if job is None:
                raise ApiError(404, f'The TuningJob "{name}" does not exist.', "NOT_FOUND")
            return self._render(job, self.clock())

    def _cancel(self, name: str) -> None:
        with self._lock:
            job = self._jobs.get(name)
            if job is None:
                raise ApiError(404, f'The TuningJob "{name}" does not exist.', "NOT_FOUND")
            now = self.clock()
            state = self._state_at(job, now)[0]
            if state in ENDED:
                raise ApiError(
                    400,
                    f"Cannot cancel tuning job {name} because it is in state {state}.",
                    "FAILED_PRECONDITION",
                )
            if job.cancel_time is None:
                job.started_at = self._state_at(job, now)[2]
                job.cancel_time = now

    def _list(
        self, project: str, region: str, filter_text: str, page_size: int, token: str
    ) -> dict[str, Any]:
        if page_size < 0:
            raise _invalid("page_size must be non-negative.", "page_size")
        size = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        predicate = parse_filter(filter_text) if self.honour_filter and filter_text else None
        fingerprint = hashlib.sha256(filter_text.encode()).hexdigest()[:12]
        after = _decode_token(token, fingerprint) if token else None
        now = self.clock()
        with self._lock:
            candidates = sorted(
                (j for j in self._jobs.values() if j.project == project and j.region == region),
                key=lambda j: j.seq,
                reverse=True,
            )
            page: list[dict[str, Any]] = []
            last_seq: int | None = None
            more = False
            for job in candidates:
                if after is not None and job.seq >= after:
                    continue
                rendered = self._render(job, now)
                if predicate is not None and not predicate(rendered):
                    continue
                if len(page) == size:
                    more = True
                    break
                page.append(rendered)
                last_seq = job.seq
        out: dict[str, Any] = {}
        if page:
            out["tuningJobs"] = page
        if more and last_seq is not None:
            out["nextPageToken"] = _encode_token(last_seq, fingerprint)
        return out

    # -- validation like Google's ------------------------------------------------------
    def _validate(self, raw: Any, region: str) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise _invalid(
                "Invalid JSON payload received. Expected an object for 'tuning_job'.", "tuning_job"
            )
        body = _normalise(raw, "tuning_job", "tuning_job")
        for output_only in [k for k, kind in _TUNING_JOB_FIELDS.items() if kind == "output"]:
            body.pop(output_only, None)  # output-only fields in a request are ignored
        model_id = body.get("baseModel")
        if not model_id:
            raise _invalid("base_model is required.", "tuning_job.base_model")
        supervised = body.get("supervisedTuningSpec")
        if not isinstance(supervised, dict):
            raise _invalid(
                "Tuning spec is required: set supervised_tuning_spec.",
                "tuning_job.supervised_tuning_spec",
            )
        for key in ("trainingDatasetUri", "validationDatasetUri"):
            if key == "trainingDatasetUri" or key in supervised:
                _check_dataset_uri(supervised.get(key), key)
        name = body.get("tunedModelDisplayName")
        if isinstance(name, str) and len(name) > 128:
            raise _invalid(
                "tuned_model_display_name must be at most 128 characters.",
                "tuning_job.tuned_model_display_name",
            )
        _check_labels(body.get("labels"))
        model = self.catalogue.get(str(model_id))
        today = dt.datetime.fromtimestamp(self.clock(), tz=dt.UTC).date()
        if model is None or model.status_on(today) is ModelStatus.RETIRED:
            raise _invalid(f"Base model {model_id} is not supported.", "tuning_job.base_model")
        if not model.tunes_in(region):
            raise _invalid(
                f"Base model {model_id} is not supported in region {region}.",
                "tuning_job.base_model",
            )
        hyper = supervised.get("hyperParameters") or {}
        epochs = hyper.get("epochCount")
        if epochs is not None and int(epochs) < 1:
            raise _invalid(
                "epoch_count must be a positive number.",
                "tuning_job.supervised_tuning_spec.hyper_parameters.epoch_count",
            )
        lr = hyper.get("learningRateMultiplier")
        if lr is not None and float(lr) <= 0:
            raise _invalid(
                "learning_rate_multiplier must be positive.",
                "tuning_job.supervised_tuning_spec.hyper_parameters.learning_rate_multiplier",
            )
        size = _ADAPTER_SIZES.get(str(hyper.get("adapterSize", "ADAPTER_SIZE_UNSPECIFIED")))
        if size is not None and size not in model.adapter_sizes:
            raise _invalid(
                "The adapter size is not supported for this base model.",
                "tuning_job.supervised_tuning_spec.hyper_parameters.adapter_size",
            )
        return body

    # -- HTTP --------------------------------------------------------------------------
    def _build_app(self) -> Starlette:
        routes = [
            Route("/v1/{path:path}", self._api, methods=["GET", "POST"]),
            Route("/_emulator/stats", self._http_stats, methods=["GET"]),
            Route("/_emulator/faults", self._http_faults, methods=["POST"]),
            Route("/_emulator/jobs", self._http_jobs, methods=["GET", "POST"]),
            Route("/_emulator/state", self._http_state, methods=["POST"]),
            Route("/_emulator/reset", self._http_reset, methods=["POST"]),
            Route("/_emulator/token", self._http_token, methods=["POST"]),
        ]
        return Starlette(routes=routes)

    async def _api(self, request: Request) -> Response:
        path = request.path_params["path"]
        try:
            method, target = _route(request.method, path)
        except ApiError as exc:
            return exc.response()
        raw_body: Any = None
        if request.method == "POST":
            data = await request.body()
            try:
                raw_body = json.loads(data) if data.strip() else {}
            except ValueError:
                raw_body = _BadJson()
        with self._lock:
            self.counts[method] += 1
            self.received.append((method, path, raw_body))
        if self.require_token is not None:
            header = request.headers.get("authorization", "")
            if header != f"Bearer {self.require_token}":
                return ApiError(
                    401,
                    "Request had invalid authentication credentials. Expected OAuth 2 access "
                    "token, login cookie or other valid authentication credential.",
                    "UNAUTHENTICATED",
                ).response()
        await self._wait_if_held(method)
        fault = self._take_fault(method)
        try:
            if fault is not None and not fault.after_commit:
                await self._delay(fault.delay)
                if fault.status >= 300:
                    return _fault_response(fault)
            if isinstance(raw_body, _BadJson):
                raise _invalid("Invalid JSON payload received.", None)
            result = self._dispatch(method, target, request, raw_body)
        except ApiError as exc:
            return exc.response()
        if fault is not None and fault.after_commit:
            await self._delay(fault.delay)
            if fault.status >= 300:
                return _fault_response(fault)
        return JSONResponse(result)

    def _dispatch(
        self, method: str, target: tuple[str, str, str], request: Request, body: Any
    ) -> dict[str, Any]:
        project, region, job_id = target
        name = f"projects/{project}/locations/{region}/tuningJobs/{job_id}"
        if method == "create":
            return self._get(self._create(project, region, body).name)
        if method == "get":
            return self._get(name)
        if method == "cancel":
            if body not in ({}, None):
                raise _invalid("Invalid JSON payload received. Unknown name in request.", None)
            self._cancel(name)
            return {}
        params = request.query_params
        try:
            page_size = int(params.get("pageSize", params.get("page_size", "0")) or 0)
        except ValueError:
            raise _invalid("Invalid value at 'page_size' (TYPE_INT32).", "page_size") from None
        return self._list(
            project,
            region,
            params.get("filter", ""),
            page_size,
            params.get("pageToken", params.get("page_token", "")),
        )

    async def _wait_if_held(self, method: str) -> None:
        with self._lock:
            event = self._holds[method].pop(0) if self._holds.get(method) else None
        if event is not None:
            await asyncio.to_thread(event.wait)

    async def _delay(self, seconds: float) -> None:
        if seconds > 0:
            await asyncio.to_thread(self._stopping.wait, seconds)

    def _take_fault(self, method: str) -> _Fault | None:
        with self._lock:
            faults = self._faults.get(method)
            if not faults:
                return None
            fault = faults[0]
            fault.times -= 1
            if fault.times <= 0:
                faults.pop(0)
            return fault

    async def _http_stats(self, request: Request) -> Response:
        with self._lock:
            return JSONResponse(
                {"counts": {m: self.counts.get(m, 0) for m in METHODS}, "jobs": len(self._jobs)}
            )

    async def _http_faults(self, request: Request) -> Response:
        args = await request.json()
        try:
            self.inject(**args)
        except (TypeError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({})

    async def _http_jobs(self, request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse({"jobs": self.jobs()})
        args = await request.json()
        try:
            name = self.add_job(**args)
        except (TypeError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"name": name})

    async def _http_state(self, request: Request) -> Response:
        args = await request.json()
        try:
            self.set_state(args["name"], args["state"], error_message=args.get("error_message"))
        except KeyError as exc:
            return JSONResponse({"error": f"unknown job or field {exc}"}, status_code=404)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=409)
        return JSONResponse({})

    async def _http_reset(self, request: Request) -> Response:
        self.reset()
        return JSONResponse({})

    async def _http_token(self, request: Request) -> Response:
        with self._lock:
            self.counts["token"] += 1
        token = self.require_token or "emulator-token"
        return JSONResponse({"access_token": token, "expires_in": 3600, "token_type": "Bearer"})


class _BadJson:
    """Marks a request body that was not JSON."""


def _fault_response(fault: _Fault) -> Response:
    return ApiError(
        fault.status,
        fault.message or _default_fault_message(fault.status),
        fault.google_status,
        retry_after=fault.retry_after,
    ).response()


def _default_fault_message(status: int) -> str:
    return {
        400: "Request contains an invalid argument.",
        401: "Request had invalid authentication credentials.",
        403: "Permission 'aiplatform.tuningJobs.create' denied on resource (or it may not exist).",
        404: "The requested resource was not found.",
        429: "Quota exceeded for aiplatform.googleapis.com/concurrent_tuning_jobs.",
        500: "Internal error encountered.",
        503: "The service is currently unavailable.",
        504: "The request timed out.",
    }.get(status, "Error.")


def _route(http_method: str, path: str) -> tuple[str, tuple[str, str, str]]:
    """Which API method a request is, and (project, region, job id)."""
    if match := _JOBS_PATH.fullmatch(path):
        method = "create" if http_method == "POST" else "list"
        return method, (match[1], match[2], "")
    if match := _JOB_PATH.fullmatch(path):
        cancel = bool(match[4])
        if cancel != (http_method == "POST"):
            raise ApiError(404, f"The requested URL /v1/{path} was not found.", "NOT_FOUND")
        if not match[3].isdigit():
            raise _invalid(f"Invalid resource field value in the request: {match[3]}.", "name")
        return ("cancel" if cancel else "get"), (match[1], match[2], match[3])
    raise ApiError(404, f"The requested URL /v1/{path} was not found.", "NOT_FOUND")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m[1].lower(), name)


def _normalise(raw: Mapping[str, Any], message: str, where: str) -> dict[str, Any]:
    """Check field names and types of one message, camelCasing snake_case names."""
    fields = _MESSAGES[message]
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = _camel(key)
        kind = fields.get(name)
        if kind is None:
            raise _invalid(
                f"Invalid JSON payload received. Unknown name \"{key}\" at '{where}': "
                "Cannot find field.",
                where,
            )
        path = f"{where}.{_snake(name)}"
        if value is None:
            continue
        out[name] = _typed(kind, value, path)
    return out


def _typed(kind: str, value: Any, path: str) -> Any:
    bad = _invalid(f"Invalid value at '{path}', {json.dumps(value)[:80]}", path)
    if kind in _MESSAGES:
        if not isinstance(value, dict):
            raise bad
        return _normalise(value, kind, path)
    if kind == "string":
        if not isinstance(value, str):
            raise bad
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise bad
        return value
    if kind == "int64":
        if isinstance(value, bool):
            raise bad
        if isinstance(value, int) or (
            isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,19}", value)
        ):
            return str(int(value))
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        raise _invalid(f"Invalid value at '{path}' (TYPE_INT64), {json.dumps(value)[:80]}", path)
    if kind == "double":
        if isinstance(value, bool):
            raise bad
        if isinstance(value, int | float):
            return value
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                raise bad from None
        raise bad
    if kind == "adapterSize":
        if value not in _ADAPTER_SIZES:
            raise _invalid(
                f"Invalid value at '{path}' (type.googleapis.com/google.cloud.aiplatform.v1."
                f'SupervisedHyperParameters.AdapterSize), "{str(value)[:40]}"',
                path,
            )
        return value
    if kind == "labels":
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise bad
        return dict(value)
    if kind in ("object", "output"):
        return value
    raise bad


def _check_dataset_uri(value: Any, key: str) -> None:
    if isinstance(value, str) and re.fullmatch(
        r"projects/[^/]+/locations/[^/]+/datasets/[^/]+", value
    ):
        return
    if (
        not isinstance(value, str)
        or not re.fullmatch(r"gs://[a-z0-9][a-z0-9._\-]{0,221}/\S+", value)
        or not value.endswith(".jsonl")
    ):
        path = "tuning_job.supervised_tuning_spec." + _snake(key)
        raise _invalid(f"{_snake(key)} should be a GCS object of type JSONL", path)


def _check_labels(labels: Any) -> None:
    if not labels:
        return
    if len(labels) > 64:
        raise _invalid("At most 64 labels are allowed.", "tuning_job.labels")
    for key, value in labels.items():
        if not _LABEL_KEY.fullmatch(key) or not _LABEL_VALUE.fullmatch(value):
            raise _invalid(
                f"Label key and value must be lowercase letters, digits, '_' or '-', at most 63 "
                f"characters; key must start with a letter: {key[:64]}",
                "tuning_job.labels",
            )


def _data_stats(job: _Job) -> dict[str, Any]:
    seed = int(hashlib.sha256(job.job_id.encode()).hexdigest()[:8], 16)
    examples = 100 + seed % 400
    tokens = examples * (200 + seed % 300)
    epochs = int(
        job.body.get("supervisedTuningSpec", {}).get("hyperParameters", {}).get("epochCount", 3)
    )
    return {
        "tuningDatasetExampleCount": str(examples),
        "totalTuningCharacterCount": str(tokens * 4),
        "totalBillableTokenCount": str(tokens * epochs),
        "totalBillableCharacterCount": str(tokens * 4 * epochs),
        "tuningStepCount": str(max(1, examples * epochs // 8)),
        "totalTruncatedExampleCount": "0",
        "userInputTokenDistribution": {
            "sum": str(tokens // 2),
            "billableSum": str(tokens // 2),
            "min": 8,
            "max": 512,
            "mean": tokens / 2 / examples,
            "median": tokens / 2 / examples,
            "p5": 16,
            "p95": 480,
        },
    }


def _encode_token(seq: int, fingerprint: str) -> str:
    raw = json.dumps({"s": seq, "f": fingerprint}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str, fingerprint: str) -> int:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        seq = int(data["s"])
        same = data["f"] == fingerprint
    except (ValueError, KeyError, TypeError):
        raise _invalid("Invalid page token.", "page_token") from None
    if not same:
        raise _invalid("The page token does not match the filter of the request.", "page_token")
    return seq


# -- AIP-160 filters ------------------------------------------------------------------------
Predicate = Callable[[Mapping[str, Any]], bool]
_TOKEN = re.compile(r'\s*(?:(\()|(\))|(!=|=|:)|("(?:[^"\\]|\\.)*")|([A-Za-z0-9_.\-*]+))')
_FIELD_ALIASES = {
    "state": "state",
    "base_model": "baseModel",
    "baseModel": "baseModel",
    "tuned_model_display_name": "tunedModelDisplayName",
    "tunedModelDisplayName": "tunedModelDisplayName",
    "display_name": "tunedModelDisplayName",
    "name": "name",
}


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    while pos < len(text):
        if not text[pos:].strip():
            break
        match = _TOKEN.match(text, pos)
        if match is None:
            raise _invalid(f"Invalid filter: cannot parse {text[pos : pos + 20]!r}.", "filter")
        tokens.append(match.group(match.lastindex or 0))
        pos = match.end()
    return tokens


def parse_filter(text: str) -> Predicate:
    """Parse `state="JOB_STATE_RUNNING" AND (labels.k="v" OR NOT state!=...)` to a predicate."""
    tokens = _tokens(text)
    position = 0

    def peek() -> str | None:
        return tokens[position] if position < len(tokens) else None

    def take() -> str:
        nonlocal position
        if position >= len(tokens):
            raise _invalid("Invalid filter: unexpected end.", "filter")
        position += 1
        return tokens[position - 1]

    def expression() -> Predicate:
        parts = [conjunction()]
        while peek() == "OR":
            take()
            parts.append(conjunction())
        return parts[0] if len(parts) == 1 else (lambda j: any(p(j) for p in parts))

    def conjunction() -> Predicate:
        parts = [factor()]
        while peek() not in (None, ")", "OR"):
            if peek() == "AND":
                take()
            parts.append(factor())
        return parts[0] if len(parts) == 1 else (lambda j: all(p(j) for p in parts))

    def factor() -> Predicate:
        word = take()
        if word in ("NOT", "-"):
            inner = factor()
            return lambda j: not inner(j)
        if word == "(":
            inner = expression()
            if take() != ")":
                raise _invalid("Invalid filter: missing ')'.", "filter")
            return inner
        return comparison(word)

    def comparison(field_name: str) -> Predicate:
        op = take()
        if op not in ("=", "!=", ":"):
            raise _invalid(f"Invalid filter: expected an operator after {field_name}.", "filter")
        value = take()
        if value.startswith('"'):
            value = json.loads(value)
        getter = _getter(field_name)

        def check(job: Mapping[str, Any]) -> bool:
            actual = getter(job)
            if op == ":":
                return actual is not None and (value == "*" or actual == value)
            return (actual == value) == (op == "=")

        return check

    predicate = expression()
    if position != len(tokens):
        raise _invalid(f"Invalid filter: unexpected {tokens[position]!r}.", "filter")
    return predicate


def _getter(field_name: str) -> Callable[[Mapping[str, Any]], str | None]:
    if field_name.startswith("labels."):
        key = field_name[len("labels.") :]
        return lambda job: job.get("labels", {}).get(key)
    wire = _FIELD_ALIASES.get(field_name)
    if wire is None:
        raise _invalid(f"Unsupported filter field: {field_name}.", "filter")
    return lambda job: job.get(wire)


# -- running it ------------------------------------------------------------------------------
class EmulatorServer:
    """Serves an Emulator with uvicorn in a background thread on a loopback port."""

    def __init__(self, emulator: Emulator, host: str = "127.0.0.1", port: int = 0) -> None:
        self.emulator = emulator
        self.host = host
        self.port = port
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> EmulatorServer:
        """Start listening; returns once the socket accepts connections."""
        import uvicorn

        config = uvicorn.Config(
            self.emulator.app,
            host=self.host,
            port=self.port,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(target=server.run, name="vertex-emulator", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"emulator did not start on {self.host}:{self.port}")
            time.sleep(0.01)
        self.port = int(server.servers[0].sockets[0].getsockname()[1])
        return self

    def stop(self) -> None:
        """Release held requests and stop the server."""
        self.emulator.release_holds()
        self.emulator._stopping.set()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def host_port(self) -> str:
        """`host:port`, the value for VERTEX_EMULATOR_HOST."""
        return f"{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """`http://host:port`."""
        return f"http://{self.host_port}"

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str]) -> int:
    """`tuning-bot emulator [--host H] [--port P] [--seconds-per-state S] [--ignore-filter]`."""
    parser = argparse.ArgumentParser(
        prog="tuning-bot emulator",
        description="Local emulator of the Vertex AI tuning REST API (plain HTTP, no auth).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--seconds-per-state", type=float, default=5.0)
    parser.add_argument(
        "--ignore-filter",
        action="store_true",
        help="ignore list filters, as Google may do",
    )
    args = parser.parse_args(argv)
    import uvicorn

    emulator = Emulator(args.seconds_per_state, honour_filter=not args.ignore_filter)
    print(
        f"Vertex AI tuning emulator on http://{args.host}:{args.port} — "
        f"set VERTEX_EMULATOR_HOST={args.host}:{args.port}",
        flush=True,
    )
    uvicorn.run(emulator.app, host=args.host, port=args.port, log_level="warning", lifespan="off")
    return 0
