"""Async REST client for Vertex AI tuning jobs (`projects.locations.tuningJobs`)."""

from __future__ import annotations

import collections
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from bot.metrics import VERTEX_CALLS
from bot.tuning.curves import Metric, TrainingCurves
from bot.tuning.job import TuningJob
from bot.tuning.problems import DomainError
from bot.tuning.refs import JobRef, Location
from bot.tuning.trying import ModelAnswer, Prompt, target_location
from bot.vertex import curves
from bot.vertex.auth import Auth, GoogleAuth, NoAuth
from bot.vertex.errors import (
    CreateOutcomeUnknown,
    InvalidArgument,
    QuotaExceeded,
    Unavailable,
    VertexError,
    error_for,
    parse_error_body,
)
from bot.vertex.generation import answer_from_json, prompt_to_body
from bot.vertex.retry import RETRYABLE_STATUSES, RetryPolicy, retry_after_seconds
from bot.vertex.wire import job_from_json, spec_to_body

if TYPE_CHECKING:
    # Types only: the spec module loads the model catalogue (YAML), which a watcher never needs.
    from bot.tuning.spec import TuningJobSpec

log = logging.getLogger(__name__)

# Errors raised before a single byte of the request left: a create may be sent again.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_LOOKUP_PAGE_SIZE = 100
# Someone waits in Slack for a model's answer: one quick retry, then the error is theirs to see.
GENERATE_RETRY = RetryPolicy(
    max_attempts=2, initial=0.5, deadline=5.0
)  # Google's cap: a label look-up that scans reads as few pages as it can


def regional_base_url(region: str) -> str:
    """`https://{region}-aiplatform.googleapis.com`; the `global` location uses the root host
    and the multi-region serving locations `us` / `eu` their `aiplatform.{loc}.rep` hosts."""
    if region == "global":
        return "https://aiplatform.googleapis.com"
    if region in ("us", "eu"):
        return f"https://aiplatform.{region}.rep.googleapis.com"
    return f"https://{region}-aiplatform.googleapis.com"


@dataclass(frozen=True)
class TuningJobPage:
    """One page of `list`; `next_page_token` is None on the last page."""

    jobs: list[TuningJob]
    next_page_token: str | None


class TuningClient:
    """create / get / list / cancel of tuning jobs and reads of their training curves, with
    retries, timeouts and metrics.

    `base_url_for(region)` returns the root URL (without `/v1`) for a region; `emulator_host`
    (`host:port`) sends everything over plain HTTP to a local emulator instead; `owns_http`
    makes `aclose` close `http` too.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        auth: GoogleAuth | NoAuth | Auth,
        base_url_for: Callable[[str], str] | None = None,
        emulator_host: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        owns_http: bool = False,
    ) -> None:
        self._http = http
        self._owns_http = owns_http
        self._auth: Auth = auth
        if emulator_host is not None:
            root = f"http://{emulator_host}"
            self._base_url_for: Callable[[str], str] = lambda _region: root
            self._auth = NoAuth()
        else:
            self._base_url_for = base_url_for or regional_base_url
        self._retry = retry or RetryPolicy()
        self._generate_retry = retry or GENERATE_RETRY
        self._timeout = timeout
        self.calls: collections.Counter[str] = collections.Counter()
        self._curve_chains = curves.ChainCache()

    async def aclose(self) -> None:
        """Close the HTTP client when it was handed over with `owns_http`."""
        if self._owns_http:
            await self._http.aclose()

    # -- methods -----------------------------------------------------------------------
    async def create(self, location: Location, spec: TuningJobSpec) -> TuningJob:
        """Start a tuning job. Never resent once it may have reached Google: then
        CreateOutcomeUnknown is raised and the caller looks the job up (see submit.py)."""
        data = await self._call(
            "create",
            "POST",
            location.region,
            f"{location.parent}/tuningJobs",
            body=spec_to_body(spec),
            idempotent=False,
        )
        return _job(data)

    async def get(self, ref: JobRef) -> TuningJob:
        """One job by reference."""
        return _job(await self._call("get", "GET", ref.region, ref.name))

    async def cancel(self, ref: JobRef) -> None:
        """Ask Google to cancel a job (asynchronous: it goes CANCELLING, then CANCELLED)."""
        await self._call("cancel", "POST", ref.region, f"{ref.name}:cancel", body={})

    async def list_pages(
        self,
        location: Location,
        *,
        filter: str | None = None,
        page_size: int | None = None,
        page_token: str | None = None,
    ) -> AsyncIterator[TuningJobPage]:
        """Pages of jobs, newest first as Google returns them, from `page_token` if given."""
        token: str | None = page_token
        seen: set[str] = set()
        while True:
            params: dict[str, str] = {}
            if filter:
                params["filter"] = filter
            if page_size:
                params["pageSize"] = str(page_size)
            if token:
                params["pageToken"] = token
            data = await self._call(
                "list", "GET", location.region, f"{location.parent}/tuningJobs", params=params
            )
            raw_jobs = data.get("tuningJobs")
            jobs = []
            for raw in raw_jobs if isinstance(raw_jobs, list) else []:
                try:
                    jobs.append(job_from_json(raw if isinstance(raw, dict) else {}))
                except DomainError:
                    log.warning("vertex list: skipped a job with a malformed name")
            next_token = data.get("nextPageToken")
            token = next_token if isinstance(next_token, str) and next_token else None
            yield TuningJobPage(jobs, token)
            if token is None or token in seen:  # a repeated token would loop forever
                return
            seen.add(token)

    async def list(
        self, location: Location, *, filter: str | None = None, page_size: int | None = None
    ) -> AsyncIterator[TuningJob]:
        """Every job over all pages."""
        async for page in self.list_pages(location, filter=filter, page_size=page_size):
            for job in page.jobs:
                yield job

    async def find_by_label(self, location: Location, key: str, value: str) -> TuningJob | None:
        """The newest job carrying label `key=value`, or None.

        The label is checked here too, since Google may ignore the list filter; should Google
        refuse the filter itself (400), every job is listed and checked instead.
        """
        try:
            return await self._first_labelled(location, key, value, f'labels.{key}="{value}"')
        except InvalidArgument:
            log.warning("vertex list refused the label filter; checking labels of every job")
            return await self._first_labelled(location, key, value, None)

    async def _first_labelled(
        self, location: Location, key: str, value: str, filter: str | None
    ) -> TuningJob | None:
        async for job in self.list(location, filter=filter, page_size=_LOOKUP_PAGE_SIZE):
            if job.labels.get(key) == value:
                return job
        return None

    async def generate_content(self, target: str, prompt: Prompt) -> ModelAnswer:
        """Ask a model: `target` is a tuned (or checkpoint) endpoint
        `projects/P/locations/L/endpoints/E` or a publisher model
        `projects/P/locations/L/publishers/google/models/M`. 429s that outlive the short retry
        raise QuotaExceeded."""
        try:
            data = await self._call(
                "generate",
                "POST",
                target_location(target),
                f"{target}:generateContent",
                body=prompt_to_body(prompt),
                retry=self._generate_retry,
            )
        except Unavailable as exc:
            if exc.http_status == 429:
                raise QuotaExceeded(429, exc.message, exc.status) from exc
            raise
        return answer_from_json(data)

    async def read_curves(
        self,
        job: TuningJob,
        *,
        max_points: int = 10_000,
        before_request: Callable[[], None] | None = None,
    ) -> TrainingCurves:
        """The job's training curves from the TensorBoard behind its experiment (see
        `bot.vertex.curves`); CurvesMissing says which link is not there yet."""
        return await curves.read_curves(
            self._call,
            self._curve_chains,
            job,
            max_points=max_points,
            before_request=before_request,
        )

    def read_cost(self, job: TuningJob) -> int:
        """The requests `read_curves(job)` should take, as far as this client knows."""
        return curves.read_cost(self._curve_chains, job)

    async def probe_curves(self, job: TuningJob) -> frozenset[Metric]:
        """The metrics the job's TensorBoard run holds, found as `read_curves` finds them but
        without reading a point; CurvesMissing says which link is not there yet."""
        chain = await curves.resolve(self._call, job)
        return frozenset(chain.series)

    # -- transport ---------------------------------------------------------------------
    async def _call(
        self,
        method: str,
        http_method: str,
        region: str,
        path: str,
        *,
        # A sequence of pairs for a repeated key (`timeSeries=a&timeSeries=b`).
        params: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
        body: Mapping[str, Any] | None = None,
        idempotent: bool = True,
        retry: RetryPolicy | None = None,
    ) -> dict[str, Any]:
        url = f"{self._base_url_for(region).rstrip('/')}/v1/{path}"
        query = params if params is None or isinstance(params, Mapping) else tuple(params)
        policy = retry or self._retry
        started = policy.clock()
        attempt = 0
        refreshed = False
        while True:
            attempt += 1
            headers = await self._auth.headers()
            self.calls[method] += 1
            try:
                response = await self._http.request(
                    http_method,
                    url,
                    params=query,
                    json=body,
                    headers=headers,
                    timeout=self._timeout,
                )
            except httpx.TransportError as exc:
                VERTEX_CALLS.labels(method=method, status="0").inc()
                reason = f"{type(exc).__name__}: no answer from {url}"
                if not idempotent and not isinstance(exc, _NOT_SENT):
                    raise CreateOutcomeUnknown(0, reason) from exc
                delay = policy.backoff(attempt)
                if not policy.may_retry(attempt, started, delay):
                    raise Unavailable(0, reason, attempts=attempt) from exc
                log.info("vertex %s: %s; retry %d in %.2fs", method, reason, attempt, delay)
                await policy.sleep(delay)
                continue
            status = response.status_code
            VERTEX_CALLS.labels(method=method, status=str(status)).inc()
            if 200 <= status < 300:
                return _json_object(response)
            if status == 401 and not refreshed:
                refreshed = True
                attempt -= 1  # a refused token is not a failed attempt
                await self._auth.invalidate(headers.get("Authorization"))
                continue
            if status in RETRYABLE_STATUSES:
                google_status, message, _ = parse_error_body(response.content)
                if not idempotent:
                    if status == 429:
                        raise QuotaExceeded(status, message or "quota exceeded", google_status)
                    raise CreateOutcomeUnknown(status, message or f"HTTP {status}", google_status)
                delay = policy.backoff(
                    attempt, retry_after_seconds(response.headers.get("retry-after"))
                )
                if not policy.may_retry(attempt, started, delay):
                    raise Unavailable(
                        status, message or f"HTTP {status}", google_status, attempts=attempt
                    )
                log.info("vertex %s: HTTP %d; retry %d in %.2fs", method, status, attempt, delay)
                await policy.sleep(delay)
                continue
            raise error_for(status, response.content)


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        raise VertexError(response.status_code, "answer was not JSON") from None
    if not isinstance(data, dict):
        raise VertexError(response.status_code, "answer was not a JSON object")
    return data


def _job(data: Mapping[str, Any]) -> TuningJob:
    try:
        return job_from_json(data)
    except DomainError:
        raise VertexError(200, "answer has no valid tuning job name") from None
