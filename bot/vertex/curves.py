"""Reading a tuning job's training curves off the TensorBoard behind its experiment.

The tuning API has no metrics method: the curves are reached through a chain of reads, each on
the regional host of the resource's own location — the job's `experiment` (a Metadata context),
its `backing_tensorboard_resource`, the run under the TensorBoard experiment of the same id, the
run's scalar time series, and finally `batchRead` of their points. Nothing of this was tried on
a live project, so every link may be missing and is reported as a `Gap`, not an error.

The chain of a job does not change once it is complete, so it is remembered: a later read costs
one `batchRead` (plus a `:read` of any series too long for it). A chain that still lacks a series
the running job will write (Vertex creates a series with its first point) is not remembered, nor
is a missing link, since either may appear later.
"""

from __future__ import annotations

import collections
import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol

from bot.tuning.curves import (
    GOOGLE_SAMPLE_LIMIT,
    CurvesMissing,
    Gap,
    Metric,
    Point,
    Series,
    TrainingCurves,
    curves_of,
)
from bot.tuning.job import TuningJob
from bot.vertex.errors import NotFound
from bot.vertex.wire import json_float, parse_time

log = logging.getLogger(__name__)

METHOD = "curves"  # the label of every request here, in `TuningClient.calls` and metrics
# Google's SDK reads at most this many series per batchRead; more may be refused.
BATCH_READ_SERIES = 20
CHAIN_CACHE_SIZE = 4096
CHAIN_REQUESTS = 3  # the experiment's context, the runs, the run's series
# Listings are one page in practice; the bound only stops a server that pages forever.
_MAX_PAGES = 20
_EPOCH = dt.datetime.min.replace(tzinfo=dt.UTC)

Params = Mapping[str, str] | Sequence[tuple[str, str]]


class Transport(Protocol):
    """`TuningClient._call`: one request with retries, Google's errors as VertexError."""

    async def __call__(
        self, method: str, http_method: str, region: str, path: str, *, params: Params | None = ...
    ) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Chain:
    """Where a job's curves are: its TensorBoard (and the region serving it), its run and the
    series of each metric."""

    region: str
    tensorboard: str
    run: str
    series: Mapping[Metric, str]  # time series resource names


class ChainCache:
    """Resolved chains by job name, the least recently used dropped beyond `size`."""

    def __init__(self, size: int = CHAIN_CACHE_SIZE) -> None:
        self._size = size
        self._chains: collections.OrderedDict[str, Chain] = collections.OrderedDict()

    def get(self, job_name: str) -> Chain | None:
        """The job's chain, if resolved before."""
        chain = self._chains.get(job_name)
        if chain is not None:
            self._chains.move_to_end(job_name)
        return chain

    def put(self, job_name: str, chain: Chain) -> None:
        """Remember the job's chain."""
        self._chains[job_name] = chain
        self._chains.move_to_end(job_name)
        while len(self._chains) > self._size:
            self._chains.popitem(last=False)

    def drop(self, job_name: str) -> None:
        """Forget the job's chain (it led to something that is gone)."""
        self._chains.pop(job_name, None)

    def __len__(self) -> int:
        return len(self._chains)


def read_cost(cache: ChainCache, job: TuningJob) -> int:
    """Requests a read of the job's curves should take: one `batchRead` once its chain is
    known, four to find it first (a series too long for batchRead adds a `:read`)."""
    return 1 if cache.get(job.name) is not None else CHAIN_REQUESTS + 1


def charged(call: Transport, before_request: Callable[[], None]) -> Transport:
    """`call`, with `before_request` run before each request: it may raise to stop the read
    (a budget spent), and then no further request is sent."""

    async def send(
        method: str, http_method: str, region: str, path: str, *, params: Params | None = None
    ) -> dict[str, Any]:
        before_request()
        return await call(method, http_method, region, path, params=params)

    return send


async def read_curves(
    call: Transport,
    cache: ChainCache,
    job: TuningJob,
    *,
    max_points: int = 10_000,
    before_request: Callable[[], None] | None = None,
) -> TrainingCurves:
    """The job's curves; CurvesMissing names the first missing link. A remembered chain that
    answers 404 is forgotten and resolved again, once. `before_request` (see `charged`) sees
    every request of the read, which may be one or eight."""
    if before_request is not None:
        call = charged(call, before_request)
    chain = cache.get(job.name)
    series: dict[Metric, Series] | None = None
    if chain is not None:
        try:
            series = await read_series(call, chain, max_points=max_points)
        except NotFound:
            log.info("curves of %s: the remembered chain is gone; resolving again", job.name)
            cache.drop(job.name)
    if series is None:
        chain = await resolve(call, job)
        if job.state.has_ended or _expected(job) <= chain.series.keys():
            cache.put(job.name, chain)
        series = await read_series(call, chain, max_points=max_points)
    stats = job.data_stats
    checkpoints = job.tuned_model.checkpoints if job.tuned_model is not None else ()
    return curves_of(
        series,
        planned_steps=stats.tuning_steps if stats is not None else None,
        checkpoint_steps=[c.step for c in checkpoints],
    )


async def resolve(call: Transport, job: TuningJob) -> Chain:
    """Follow the chain from the job to its metrics' time series."""
    experiment = job.experiment
    if not experiment:
        raise CurvesMissing(Gap.NO_EXPERIMENT, job.name)
    try:
        context = await call(METHOD, "GET", location_of(experiment, job.ref.region), experiment)
    except NotFound as exc:  # named before Vertex has made it, or deleted since
        raise CurvesMissing(Gap.NO_EXPERIMENT, experiment) from exc
    tensorboard = _tensorboard_of(context)
    if tensorboard is None:
        raise CurvesMissing(Gap.NO_TENSORBOARD, experiment)
    region = location_of(tensorboard, job.ref.region)
    board_experiment = f"{tensorboard}/experiments/{experiment.rsplit('/', 1)[-1]}"
    try:
        runs = await _list(call, region, f"{board_experiment}/runs", "tensorboardRuns")
    except NotFound as exc:  # the TensorBoard experiment is made with the first run
        raise CurvesMissing(Gap.NO_RUN, board_experiment) from exc
    run = _latest_run(runs)
    if run is None:
        raise CurvesMissing(Gap.NO_RUN, board_experiment)
    try:
        listed = await _list(call, region, f"{run}/timeSeries", "tensorboardTimeSeries")
    except NotFound as exc:
        raise CurvesMissing(Gap.NO_RUN, run) from exc
    series = _metric_series(listed)
    if not series:
        raise CurvesMissing(Gap.NO_SERIES, run)
    return Chain(region, tensorboard, run, MappingProxyType(series))


async def read_series(
    call: Transport, chain: Chain, *, max_points: int = 10_000
) -> dict[Metric, Series]:
    """The points of the chain's series: batchRead in chunks, then `:read` of each series that
    came back with as many points as batchRead returns before sampling."""
    region = chain.region
    by_name = {name: metric for metric, name in chain.series.items()}
    names = list(by_name)
    points: dict[str, list[Point]] = {}
    for chunk in chunked(names, BATCH_READ_SERIES):
        data = await call(
            METHOD,
            "GET",
            region,
            f"{chain.tensorboard}:batchRead",
            params=[("timeSeries", name) for name in chunk],
        )
        points.update(_batch_points(data, chunk))
    out: dict[Metric, Series] = {}
    for name, metric in by_name.items():
        got = points.get(name, [])
        sampled = False
        if len(got) >= GOOGLE_SAMPLE_LIMIT:
            if max_points > GOOGLE_SAMPLE_LIMIT:
                data = await call(
                    METHOD,
                    "GET",
                    location_of(name, region),
                    f"{name}:read",
                    params={"maxDataPoints": str(max_points)},
                )
                got = _points(_dict(data.get("timeSeriesData")).get("values"))
                sampled = len(got) >= max_points
            else:
                sampled = True
        out[metric] = Series.of(got, sampled=sampled)
    return out


def _expected(job: TuningJob) -> set[Metric]:
    """The metrics a job's run will hold: the eval ones only with validation data."""
    metrics = {Metric.TRAIN_LOSS, Metric.TRAIN_ACCURACY}
    if job.validation_dataset_uri:
        metrics |= {Metric.EVAL_LOSS, Metric.EVAL_ACCURACY}
    return metrics


def chunked(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    """`items` in consecutive slices of at most `size`."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def location_of(name: str, default: str) -> str:
    """The location segment of `projects/P/locations/L/...`; `default` for other names."""
    parts = name.split("/")
    if len(parts) >= 4 and parts[0] == "projects" and parts[2] == "locations" and parts[3]:
        return parts[3]
    return default


# -- reading answers tolerantly ----------------------------------------------------------
async def _list(call: Transport, region: str, path: str, key: str) -> list[Mapping[str, Any]]:
    items: list[Mapping[str, Any]] = []
    token: str | None = None
    seen: set[str] = set()
    for _ in range(_MAX_PAGES):
        data = await call(METHOD, "GET", region, path, params={"pageToken": token} if token else {})
        raw = data.get(key)
        items.extend(item for item in (raw if isinstance(raw, list) else []) if _dict(item))
        next_token = data.get("nextPageToken")
        if not isinstance(next_token, str) or not next_token or next_token in seen:
            break
        seen.add(next_token)
        token = next_token
    return items


def _tensorboard_of(context: Mapping[str, Any]) -> str | None:
    value = _dict(context.get("metadata")).get("backing_tensorboard_resource")
    if isinstance(value, list):  # metadata values are free-form; take a list's first name
        value = next((v for v in value if isinstance(v, str) and v), None)
    return value if isinstance(value, str) and value else None


def _latest_run(runs: Iterable[Mapping[str, Any]]) -> str | None:
    """The run last written to (a tuning job writes one; should there be more, the newest)."""
    best: tuple[dt.datetime, str] | None = None
    for run in runs:
        name = run.get("name")
        if not isinstance(name, str) or not name:
            continue
        when = parse_time(run.get("updateTime")) or parse_time(run.get("createTime")) or _EPOCH
        if best is None or when > best[0]:
            best = (when, name)
    return best[1] if best else None


def _metric_series(listed: Iterable[Mapping[str, Any]]) -> dict[Metric, str]:
    series: dict[Metric, str] = {}
    for item in listed:
        name, display = item.get("name"), item.get("displayName")
        kind = item.get("valueType")
        if not isinstance(name, str) or not name or not isinstance(display, str):
            continue
        if kind not in (None, "SCALAR"):
            continue
        metric = Metric.from_display_name(display)
        if metric is not None and metric not in series:
            series[metric] = name
    return series


def _batch_points(data: Mapping[str, Any], names: Sequence[str]) -> dict[str, list[Point]]:
    """Points by series name; answers without ids are matched to the request by position."""
    raw = data.get("timeSeriesData")
    answers = [_dict(item) for item in (raw if isinstance(raw, list) else [])]
    by_id = {name.rsplit("/", 1)[-1]: name for name in names}
    out: dict[str, list[Point]] = {}
    for index, answer in enumerate(answers):
        ident = answer.get("tensorboardTimeSeriesId")
        name = by_id.get(ident) if isinstance(ident, str) else None
        if name is None and ident is None and len(answers) == len(names):
            name = names[index]
        if name is not None:
            out.setdefault(name, []).extend(_points(answer.get("values")))
    return out


def _points(raw: Any) -> list[Point]:
    points = []
    for item in raw if isinstance(raw, list) else []:
        entry = _dict(item)
        scalar = entry.get("scalar")
        if not isinstance(scalar, dict):
            continue  # not a scalar point
        # proto3 JSON leaves zeros out: no `step` is step 0, no `value` is 0.0.
        step = _int(entry.get("step", 0))
        value = json_float(scalar.get("value", 0.0))
        if step is not None and value is not None:
            points.append(Point(step, value))
    return points


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None
    return None
    return None
