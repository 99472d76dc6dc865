"""The bookkeeping of poll cycles: what one cycle counts and writes, what a process keeps.

Time limits. Each location is read and acted on as soon as its own answers are in, so a slow
region delays nobody else. The cycle waits for one location's reads at most `read_limit`, and
for one watch's Slack calls at most `post_limit` (a hung `chat.postMessage`); what overruns goes
on in the background (`PollerMemory.hand_over`) holding its leases, every write still fenced on
them. Each new cycle renews those leases on its own clock and leaves those watches alone, so
they are never claimed twice; the background work writes its results and releases the leases
when it ends.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.tuning.job import TuningJob
from bot.tuning.refs import Location
from bot.tuning.states import JobState
from bot.tuning.subscriptions import (
    DEFAULT_SETTINGS,
    ChannelSettings,
    Delivery,
    delivery_for,
)
from bot.watch.model import AuditEntry, Watch, WatchUpdate
from bot.watch.notify import (
    NO_CHARTS,
    NO_HOMES,
    ChannelGone,
    ChartPoster,
    HomeRefresher,
    Notifier,
    NotifyError,
    RateLimited,
)
from bot.watch.policy import PollConfig
from bot.watch.ports import PollStore, SubscriptionPort
from bot.watch.progress import ProgressReads
from bot.watch.reading import QuietJob

log = logging.getLogger(__name__)

ACTOR = "tuning-bot"

# A read that worked ends every run of errors and 404s.
READ_OK = WatchUpdate(error_count=0, read_error_count=0, missing_count=0, missing_since=None)


def seen(job: TuningJob) -> WatchUpdate:
    """The job's state and update time, as read."""
    return WatchUpdate(last_state=job.state, last_update_time=job.update_time)


@dataclass
class CycleReport:
    """What a cycle did; tests and the benchmark read it."""

    claimed: int = 0
    jobs: int = 0
    vertex_calls: Counter[str] = field(default_factory=Counter)
    announced: int = 0
    cards_updated: int = 0
    unread: int = 0
    read_errors: int = 0
    ended_watches: int = 0
    lost_leases: int = 0
    posts_in_flight: int = 0  # adopted ending posts left for their flight to end
    missing: int = 0  # 404s counted but not (yet) believed
    notes: int = 0  # "cannot read" / "can read again" replies
    slow_reads: int = 0  # locations whose reads went on in the background
    slow_steps: int = 0  # watches whose Slack calls went on in the background
    discovered: int = 0  # new watches the subscriptions' discovery made

    @property
    def total_vertex_calls(self) -> int:
        """get + list requests sent."""
        return sum(self.vertex_calls.values())


# Strong references to background work: the event loop keeps only weak ones.
_RUNNING: set[asyncio.Task[None]] = set()


@dataclass
class PollerMemory:
    """What one process keeps across cycles.

    `filter_rejected` only saves requests. The work still running from earlier cycles (a
    location whose reads overran `read_limit`, a watch whose Slack calls overran `post_limit`)
    is needed for correctness: its watches stay leased to it, and the next cycle renews those
    leases and does not touch the watches. `late` counts what that work did once it finished.
    """

    filter_rejected: set[Location] = field(default_factory=set)
    # Project ids subscriptions name -> the project numbers Google names their jobs by.
    project_numbers: dict[str, str] = field(default_factory=dict)
    # The curve-read failure last logged per job (see `bot.watch.progress`).
    curve_trouble: dict[str, str] = field(default_factory=dict)
    late: CycleReport = field(default_factory=CycleReport)
    _busy: Counter[int] = field(default_factory=Counter)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def busy(self) -> frozenset[int]:
        """Ids of the watches whose work from an earlier cycle still runs."""
        return frozenset(self._busy)

    def hand_over(
        self,
        work: Awaitable[object],
        watch_ids: Sequence[int],
        release: Callable[[Sequence[int]], Awaitable[object]],
    ) -> None:
        """Let `work` finish in the background; its watches' leases are released after it."""
        ids = list(watch_ids)
        self._busy.update(ids)

        async def finish() -> None:
            try:
                await work
            except Exception:  # nobody awaits this task: say why it stopped
                log.exception("background poll work failed")
            finally:
                try:
                    # Fenced on our owner name: a lease another replica took stays theirs.
                    await asyncio.shield(release(ids))
                except Exception:
                    log.warning("could not release leases after background work", exc_info=True)
                self._busy.subtract(ids)
                self._busy = +self._busy  # drop the ids that reached zero

        task = asyncio.create_task(finish())
        for tasks in (self._tasks, _RUNNING):
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    async def settle(self) -> None:
        """Wait until all background work has finished (tests, orderly shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


@dataclass
class Cycle:
    """What the per-watch work of one location in one cycle shares: the store, the notifier,
    the report, the cycle's clock and the batch of quiet rows."""

    store: PollStore
    notifier: Notifier
    owner: str
    config: PollConfig
    now: dt.datetime
    report: CycleReport
    started: float = field(default_factory=time.monotonic)  # monotonic time at `now`
    homes: HomeRefresher = NO_HOMES
    progress: ProgressReads | None = None  # this cycle's curve reads, when the cycle has any
    charts: ChartPoster = NO_CHARTS
    # Each claimed watch's channel settings (missing: the defaults), and where delivery
    # errors are kept for `/tune debug` (None: nowhere).
    settings: Mapping[str, ChannelSettings] = field(default_factory=dict)
    subscriptions: SubscriptionPort | None = None
    # (id, state, update time, next poll) of watches whose job did not change: a tuple, not
    # a `WatchUpdate`, since 10,000 of them wait here for the batch write.
    quiet: list[tuple[int, JobState, dt.datetime | None, dt.datetime]] = field(
        init=False, default_factory=list
    )
    _next_polls: dict[float, dt.datetime] = field(init=False, default_factory=dict)

    def next_poll(self, factor: float) -> dt.datetime:
        """When to poll again after `factor` intervals; one shared object per factor."""
        due = self._next_polls.get(factor)
        if due is None:
            due = self._next_polls[factor] = self.now + dt.timedelta(
                seconds=self.config.interval * factor
            )
        return due

    def clock(self) -> dt.datetime:
        """The cycle's `now` moved on by the time the cycle has taken (lease checks need it)."""
        return self.now + dt.timedelta(seconds=time.monotonic() - self.started)

    def later(self, report: CycleReport) -> Cycle:
        """The same work for results that arrive after the cycle returned, on the moved clock."""
        return dataclasses.replace(self, now=self.clock(), report=report, started=time.monotonic())

    async def refresh_home(self, watch: Watch, job: TuningJob) -> None:
        """Tell the user's Home tab that the job's card changed; its failures stay here."""
        try:
            await self.homes.job_changed(watch, job)
        except Exception:  # a Home tab is a convenience: announcing goes on regardless
            log.warning("home refresh failed", exc_info=True, extra={"job": watch.job_name})

    def delivery(self, watch: Watch) -> Delivery:
        """How the watch's messages go out: its subscription's events, its channel's settings."""
        return delivery_for(watch.events, self.settings.get(watch.channel_id, DEFAULT_SETTINGS))

    async def post_chart(self, watch: Watch, job: TuningJob) -> None:
        """Have the training-curve chart posted under the ending; its failures stay here."""
        try:
            await self.charts.job_succeeded(watch, job)
        except Exception:  # the ending is out: a chart cannot change that
            log.warning("chart hand-off failed", exc_info=True, extra={"job": watch.job_name})

    async def write(self, watch: Watch, update: WatchUpdate, *, release: bool = True) -> bool:
        """Write `update` fenced on the lease (given back unless `release` is False); a lost
        lease is counted."""
        ok = await self.store.update_fenced(watch.id, self.owner, update, release=release)
        if not ok:
            self.report.lost_leases += 1
        return ok

    async def end_watch(self, watch: Watch, reason: str, detail: str | None) -> None:
        """Stop a watch that cannot go on (channel gone), and say so in the audit table."""
        if await self.write(watch, WatchUpdate(finished_at=self.now, end_reason=reason)):
            self.report.ended_watches += 1
            await self.store.record_audit(
                AuditEntry(
                    actor=ACTOR,
                    action="watch.end",
                    job_name=watch.job_name,
                    outcome=reason,
                    channel_id=watch.channel_id,
                    detail=detail,
                )
            )

    async def retry_later(self, watch: Watch, seconds: float, update: WatchUpdate) -> None:
        """Write `update` and poll again after `seconds`, at least one interval."""
        due = self.now + dt.timedelta(seconds=max(seconds, self.config.interval))
        await self.write(watch, update | WatchUpdate(next_poll_at=due))

    async def on_slack_error(self, watch: Watch, error: NotifyError, update: WatchUpdate) -> None:
        """Write what was done before Slack failed: end the watch when its channel is gone,
        else poll again later (after Slack's Retry-After when it gave one)."""
        await self._keep_error(watch, error)
        if isinstance(error, ChannelGone):
            await self.end_watch(watch, "channel_gone", error.error)
        elif isinstance(error, RateLimited):
            await self.retry_later(watch, error.retry_after, update)
        else:
            await self.retry_later(watch, self.config.interval, update)

    async def _keep_error(self, watch: Watch, error: NotifyError) -> None:
        if self.subscriptions is None:
            return
        try:
            await self.subscriptions.record_delivery_error(
                watch.channel_id, error.error, job_name=watch.job_name, at=self.now
            )
        except Exception:  # bookkeeping for `/tune debug`: never in the way of the watch
            log.warning("could not record a delivery error", exc_info=True)

    def unchanged(self, watch: Watch, job: QuietJob) -> None:
        """A job in the state its card shows: only the schedule moves, in the batch write."""
        due = self.next_poll(self.config.slowdown(job, watch, self.now))
        self.quiet.append((watch.id, job.state, job.update_time, due))

    async def flush_quiet(self) -> None:
        """Write the batched results of watches whose job did not change."""
        rows, self.quiet = self.quiet, []
        # The updates are made as the store consumes them, a chunk at a time.
        written = await self.store.save_many(
            self.owner,
            (
                (
                    watch_id,
                    dataclasses.replace(
                        READ_OK, last_state=state, last_update_time=update_time, next_poll_at=due
                    ),
                )
                for watch_id, state, update_time, due in rows
            ),
        )
        self.report.lost_leases += len(rows) - written
