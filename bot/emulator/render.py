"""A job as Vertex returns it: output-only fields, tuned model, checkpoints and data statistics.

proto3 JSON rules apply to what is made up here: int64 values as decimal strings, and fields
holding zero (or empty) omitted rather than sent as `"0"`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from typing import Any

from bot.emulator.jobs import Job, Moment
from bot.emulator.states import CANCELLED, EXPIRED, FAILED, PENDING, PRODUCES_MODEL, QUEUED

DEFAULT_EPOCHS = 3  # what the emulator's "server" picks when the body leaves epochs unset
DROP_MARKER = "drop"  # a training URI with this word has examples over the token limit
DROPPED_WHEN_MARKED = 57
SAMPLE_LIMIT = 10  # truncatedExampleIndices is a partial sample of at most this many
TOKEN_LIMIT = 131_072


def rfc3339(seconds: float) -> str:
    """A timestamp as Google writes them (UTC, microseconds, `Z`)."""
    moment = dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def derived_id(*parts: str) -> str:
    """A stable 19-digit resource id derived from `parts` (Vertex ids are 19-digit numbers)."""
    digest = int(hashlib.sha256("/".join(parts).encode()).hexdigest(), 16)
    return str(10**18 + digest % (9 * 10**18))


def _prune(value: Any) -> Any:
    """Drop zero numbers, `"0"` strings and empty lists/maps, as proto3 JSON omits defaults."""
    if isinstance(value, dict):
        pruned = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in (0, 0.0, "0", [], {}, None)}
    if isinstance(value, list):
        return [_prune(item) for item in value]
    return value


def epochs(job: Job) -> int:
    """Epochs the job trains for (the body's, or the server's pick)."""
    hyper = job.body.get("supervisedTuningSpec", {}).get("hyperParameters", {})
    return max(1, int(hyper.get("epochCount") or DEFAULT_EPOCHS))


def data_stats(job: Job) -> dict[str, Any]:
    """`supervisedTuningDataStats`, made up but consistent and deterministic for the job."""
    seed = job.seed
    examples = 100 + seed % 400
    tokens = examples * (200 + seed % 300)
    passes = epochs(job)
    truncated = DROPPED_WHEN_MARKED if DROP_MARKER in job.training_uri else 0
    # A partial sample, as Vertex sends: at most SAMPLE_LIMIT of the truncated examples.
    picker = random.Random(seed)  # noqa: S311 - made-up statistics, not security
    sample = sorted(picker.sample(range(examples), min(truncated, SAMPLE_LIMIT)))
    stats = {
        "tuningDatasetExampleCount": str(examples),
        "totalTuningCharacterCount": str(tokens * 4),
        "totalBillableTokenCount": str(tokens * passes),
        "totalBillableCharacterCount": str(tokens * 4 * passes),
        "tuningStepCount": str(steps(job)),
        "totalTruncatedExampleCount": str(truncated),
        "truncatedExampleIndices": [str(index) for index in sample],
        "droppedExampleReasons": [
            f"Example {index} has more than {TOKEN_LIMIT} tokens and was truncated."
            for index in sample
        ],
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
    return dict(_prune(stats))


def steps(job: Job) -> int:
    """Training steps planned for the job."""
    if job.planned_steps is not None:
        return job.planned_steps
    examples = 100 + job.seed % 400
    return max(1, examples * epochs(job) // 8)


def _only_last_checkpoint(job: Job) -> bool:
    return bool(job.body.get("supervisedTuningSpec", {}).get("exportLastCheckpointOnly"))


def tuned_model(job: Job) -> dict[str, Any]:
    """`tunedModel`: model, endpoint and (unless only the last is exported) one checkpoint per
    epoch, the last of which is served by the model's endpoint."""
    serving = f"projects/{job.number}/locations/{job.serving_region}"
    endpoint = f"{serving}/endpoints/{job.endpoint_id}"
    out: dict[str, Any] = {"model": f"{job.parent}/models/{job.model_id}@1", "endpoint": endpoint}
    if _only_last_checkpoint(job):
        return out
    passes, total = epochs(job), steps(job)
    checkpoints = []
    for epoch in range(1, passes + 1):
        last = epoch == passes
        endpoint_id = job.endpoint_id if last else derived_id(job.job_id, "checkpoint", str(epoch))
        checkpoints.append(
            {
                "checkpointId": str(epoch),
                "epoch": str(epoch),
                "step": str(total * epoch // passes),
                "endpoint": f"{serving}/endpoints/{endpoint_id}",
            }
        )
    out["checkpoints"] = checkpoints
    return out


def experiment_name(job: Job) -> str:
    """The Vertex Experiment (Metadata context) the job names once it has started."""
    return f"{job.parent}/metadataStores/default/contexts/{job.experiment_id}"


def render_job(job: Job, moment: Moment, base_model: str | None) -> dict[str, Any]:
    """The job as `get` returns it at `moment`; `base_model` fills `preTunedModel.baseModel`."""
    state, began, start, end = moment
    out: dict[str, Any] = {"name": job.name}
    out.update(job.body)
    if "preTunedModel" in out and base_model is not None:
        out["preTunedModel"] = {**out["preTunedModel"], "baseModel": base_model}
    out["state"] = state
    out["createTime"] = rfc3339(job.created)
    out["updateTime"] = rfc3339(max(began, job.created))
    if start is not None and state not in (QUEUED, PENDING):
        out["startTime"] = rfc3339(start)
        # Vertex names the experiment only once the job has started.
        if not job.experiment_withheld:
            out["experiment"] = experiment_name(job)
        if not job.stats_withheld:
            out["tuningDataStats"] = {"supervisedTuningDataStats": data_stats(job)}
    if end is not None:
        out["endTime"] = rfc3339(end)
    if state in PRODUCES_MODEL:
        out["tunedModel"] = tuned_model(job)
    if state == FAILED:
        out["error"] = {
            "code": 3,
            "message": job.error_message
            or f"Dataset example 1 of 16 in {job.training_uri} is not valid: "
            "contents must end with a model turn.",
        }
    elif state == CANCELLED:
        out["error"] = {"code": 1, "message": job.error_message or "CANCELLED"}
    elif state == EXPIRED and job.error_message:
        out["error"] = {"code": 4, "message": job.error_message}
    return out


def started(moment: Moment) -> bool:
    """Whether the job has started (and so has an experiment) at this moment."""
    return moment.start is not None and moment.state not in (QUEUED, PENDING)
