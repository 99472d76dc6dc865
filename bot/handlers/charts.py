"""`/tune chart`: a job's training curves, read on behalf of a Slack user.

The job is read as `get` reads it (the same permission and project checks); its curves then
come from the TensorBoard behind its experiment. A missing link of that chain (no experiment
yet, no run, nothing recorded) is said in the user's words, not as Google's 404.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.handlers.errors import BadInput, google_failures
from bot.handlers.jobs import Actor, JobHandlers
from bot.tuning.curves import CurvesMissing, Gap, TrainingCurves
from bot.tuning.job import TuningJob
from bot.tuning.problems import Problem
from bot.watch.ports import CurvesReader

# What to tell the user for each missing link.
_GAP_KEYS = {
    Gap.NO_EXPERIMENT: "chart.no_experiment",
    Gap.NO_TENSORBOARD: "chart.not_yet",
    Gap.NO_RUN: "chart.not_yet",
    Gap.NO_SERIES: "chart.not_yet",
}


def _nothing_to_draw(job: TuningJob, shown: str, key: str) -> Problem:
    # "Try again in a few minutes" is wrong for a job that will never train.
    if job.state.has_ended:
        return Problem.of("chart.ended_empty", job=shown)
    return Problem.of(key, job=shown)


@dataclass(frozen=True)
class JobCurves:
    """A job and its curves as recorded so far."""

    job: TuningJob
    curves: TrainingCurves


class ChartHandlers:
    """Reads the training curves of the job a user names."""

    def __init__(self, jobs: JobHandlers, reader: CurvesReader) -> None:
        self.jobs = jobs
        self.reader = reader

    async def curves(self, actor: Actor, text: str) -> JobCurves:
        """The named job and its curves; raises `BadInput` when it has none to draw yet."""
        job = await self.jobs.read_for("chart", actor, text)
        shown = job.display_name or f"#{job.ref.job_id}"
        try:
            with google_failures(job.ref.project, job.name):
                curves = await self.reader.read_curves(job)
        except CurvesMissing as missing:
            raise BadInput(_nothing_to_draw(job, shown, _GAP_KEYS[missing.gap])) from missing
        if curves.is_empty:
            raise BadInput(_nothing_to_draw(job, shown, "chart.not_yet"))
        await self.jobs.audit(actor, "chart", job.name, "ok", None)
        return JobCurves(job, curves)
