"""The Vertex Experiment (a Metadata `Context`) a started job names in `experiment`.

vertexai's `SupervisedTuningJob.refresh()` reads it (`GET v1/{experiment}`) and its polling loop
raises if it is missing, and the bot's training-curve chain starts from its
`backing_tensorboard_resource`; so the emulator serves it, and 404s unknown ones in Google's shape.
"""

from __future__ import annotations

import hashlib
from typing import Any

from bot.emulator.jobs import Job
from bot.emulator.render import experiment_name, rfc3339


def tensorboard_name(job: Job) -> str:
    """The TensorBoard behind the job's experiment (one per project and region, as Vertex has)."""
    digest = int(hashlib.sha256(f"{job.number}/{job.region}".encode()).hexdigest(), 16)
    return f"{job.parent}/tensorboards/{10**18 + digest % (9 * 10**18)}"


def render_context(job: Job, start: float, updated: float) -> dict[str, Any]:
    """The Context `GET v1/{experiment}` returns for a job that started at `start`."""
    return {
        "name": experiment_name(job),
        "displayName": job.experiment_id,
        "etag": str(int(updated)),
        "createTime": rfc3339(start),
        "updateTime": rfc3339(max(start, updated)),
        "schemaTitle": "system.Experiment",
        "schemaVersion": "0.0.1",
        "metadata": {
            "experiment_deleted": False,
            "backing_tensorboard_resource": tensorboard_name(job),
        },
    }
