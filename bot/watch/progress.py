"""Reading running jobs' training curves for their cards, at the metrics pace, never in the way.

A card shows a running job's progress (steps done of those planned, the latest losses), read
from the job's curves every `PollConfig.metrics_interval` rather than every poll: each read
costs one to eight requests, each paid from the location's budget only while it keeps room for
the state reads, and a loss moves slowly. Within one cycle a job is read once however many
channels watch it. A read that fails (no experiment yet, no TensorBoard, permission denied) or
overruns `curves_limit` leaves the card as it is; each kind of failure is logged once per job
and counted in the metrics, not repeated every cycle.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from bot.metrics import CURVE_READS
from bot.tuning.curves import CurvesMissing, Progress
from bot.tuning.job import TuningJob
from bot.tuning.states import JobState
from bot.vertex.errors import VertexError
from bot.watch.budget import RequestBudget
from bot.watch.ports import CurvesReader

log = logging.getLogger(__name__)

# Each request of a curve read is sent only while the location's budget keeps room for the
# next cycle's state reads: at least this many requests, and at least as many as this cycle's
# state reads took.
BUDGET_RESERVE = 5
STATE_METHODS = ("get", "list", "cancel")


class _BudgetSpent(Exception):
    """The budget's room for curves ran out before the read's next request."""


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

    def _reserve(self) -> int:
        # The state reads of every location so far this cycle: more than this location's
        # share when several are watched, which errs on the side of state reads.
        return max(BUDGET_RESERVE, sum(self.calls[method] for method in STATE_METHODS))

    async def _read(self, job: TuningJob) -> ProgressRead:
        location = job.ref.location
        # A read starts only when it can pay what it is expected to cost, taken up front, so
        # that reads started together do not each send a first request and all run out
        # half-way; what it does not spend is given back.
        cost = self.reader.read_cost(job)
        if self.budget.available(location) - cost < self._reserve():
            CURVE_READS.labels(outcome="no_budget").inc()
            return NOT_TRIED
        held = 0
        while held < cost and self.budget.try_take(location):
            held += 1

        def pay() -> None:
            nonlocal held
            if held > 0:
                held -= 1
            elif self.budget.available(location) <= self._reserve() or not self.budget.try_take(
                location
            ):
                raise _BudgetSpent
            self.calls["curves"] += 1  # requests, as the state reads count theirs

        try:
            return await self._attempt(job, pay)
        finally:
            for _ in range(held):
                self.budget.refund(location)

    async def _attempt(self, job: TuningJob, pay: Callable[[], None]) -> ProgressRead:
        try:
            async with asyncio.timeout(self.limit):
                curves = await self.reader.read_curves(job, before_request=pay)
        except _BudgetSpent:
            # Cut short (a long series wanted more than the budget had): tried again later.
            CURVE_READS.labels(outcome="no_budget").inc()
            return NOT_TRIED
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
