"""Reading running jobs' training curves for their cards, at the metrics pace, never in the way.

A card shows a running job's progress (steps done of those planned, the latest losses), read
from the job's curves every `PollConfig.metrics_interval` rather than every poll: each read
costs a request, spent from the location's budget only when it has room, and a loss moves
slowly. Within one cycle a job is read once however many channels watch it. A read that fails
(no experiment yet, no TensorBoard, permission denied) or overruns `curves_limit` leaves the
card as it is; each kind of failure is logged once per job and counted in the metrics, not
repeated every cycle.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field

from bot.metrics import CURVE_READS
from bot.tuning.curves import CurvesMissing, Progress
from bot.tuning.job import TuningJob
from bot.tuning.states import JobState
from bot.vertex.errors import VertexError
from bot.watch.budget import RequestBudget
from bot.watch.ports import CurvesReader

log = logging.getLogger(__name__)

# A read is started only while the location's budget keeps this much room for state reads.
BUDGET_RESERVE = 5


@dataclass(frozen=True, slots=True)
class ProgressRead:
    """What one read gave: `tried` (the pace is kept: the next read waits a metrics interval)
    and the progress, None when there is nothing new to show."""

    tried: bool
    progress: Progress | None = None


NOT_TRIED = ProgressRead(tried=False)


@dataclass
class ProgressReads:
    """One cycle's curve reads, one per due job; `trouble` is the process's memory of the
    failure last logged per job, so that each is logged once."""

    reader: CurvesReader
    budget: RequestBudget
    due: Collection[str]
    limit: float
    trouble: dict[str, str]
    calls: Counter[str]
    _reads: dict[str, asyncio.Task[ProgressRead]] = field(default_factory=dict)

    def wants(self, job: TuningJob) -> bool:
        """The job is running and its curves are due this cycle."""
        return job.state is JobState.RUNNING and job.name in self.due

    async def read(self, job: TuningJob) -> ProgressRead:
        """The job's progress now; never raises (a failure leaves the card as it is)."""
        task = self._reads.get(job.name)
        if task is None:
            task = self._reads[job.name] = asyncio.create_task(self._read(job))
        return await asyncio.shield(task)

    async def _read(self, job: TuningJob) -> ProgressRead:
        location = job.ref.location
        if self.budget.available(location) <= BUDGET_RESERVE or not self.budget.try_take(location):
            CURVE_READS.labels(outcome="no_budget").inc()
            return NOT_TRIED
        self.calls["curves"] += 1
        try:
            async with asyncio.timeout(self.limit):
                curves = await self.reader.read_curves(job)
        except TimeoutError:
            self._note(job, "timeout", "reading the training curves took too long")
            return ProgressRead(tried=True)
        except CurvesMissing as missing:
            # Normal for the first minutes of a run: the chain fills in as training starts.
            self._note(job, f"missing:{missing.gap.value}", str(missing), level=logging.INFO)
            return ProgressRead(tried=True)
        except VertexError as error:
            self._note(job, f"http:{error.http_status}", f"{error.status}: {error.message}")
            return ProgressRead(tried=True)
        except Exception:  # a reader bug must not reach the card or the state poll
            log.exception("reading training curves failed", extra={"job": job.name})
            CURVE_READS.labels(outcome="error").inc()
            return ProgressRead(tried=True)
        CURVE_READS.labels(outcome="ok").inc()
        if self.trouble.pop(job.name, None) is not None:
            log.info("training curves readable again", extra={"job": job.name})
        progress = curves.progress()
        return ProgressRead(tried=True, progress=None if progress.is_empty else progress)

    def _note(
        self, job: TuningJob, kind: str, detail: str, *, level: int = logging.WARNING
    ) -> None:
        CURVE_READS.labels(outcome=kind.split(":", 1)[0]).inc()
        if self.trouble.get(job.name) == kind:
            return
        self.trouble[job.name] = kind
        log.log(
            level,
            "training curves not readable; the card keeps its progress",
            extra={"job": job.name, "reason": kind, "detail": detail},
        )
