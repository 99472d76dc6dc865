"""One poll cycle: claim due watches, read their jobs' states cheaply, update cards, announce ends.

`run_poll_cycle` is a plain async function; the scheduler only decides when it runs. The cycle
claims the due watches (leaving alone those whose work from an earlier cycle still runs),
groups them by location and handles each location on its own: its jobs are read
(`bot.watch.reading`), then its endings are announced (`bot.watch.announcing`), then its cards
and notes follow the jobs still running (`bot.watch.following`), and last the watches whose
job did not change are written in one batch. Slack steps run `concurrency` at a time across
locations, endings before cards within each location; what overruns its time limit goes on in
the background (`bot.watch.bookkeeping`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import time
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.tuning.job import TuningJob
from bot.tuning.refs import JobRef, Location
from bot.tuning.states import JobState
from bot.tuning.subscriptions import ChannelSettings
from bot.vertex.errors import VertexError
from bot.watch.announcing import announce
from bot.watch.bookkeeping import Cycle, CycleReport, PollerMemory
from bot.watch.budget import RequestBudget
from bot.watch.discovery import discover
from bot.watch.following import follow, missing, read_failed
from bot.watch.model import Watch
from bot.watch.notify import NO_CHARTS, NO_HOMES, ChartPoster, HomeRefresher, Notifier
from bot.watch.policy import PollConfig, gone_ripe
from bot.watch.ports import CurvesReader, JobReader, PollStore, SubscriptionPort
from bot.watch.progress import ProgressReads
from bot.watch.reading import JobResult, Missing, QuietJob, ReadContext, read_location
from bot.watch.tasks import Step, bounded, logged

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Poller:
    """What every cycle of one process works with: its store, reader, notifier and budget,
    the lease owner name and the policy; optionally a reader of training curves for the
    cards' progress, and the poster of the charts under successful endings."""

    store: PollStore
    reader: JobReader
    notifier: Notifier
    budget: RequestBudget
    owner: str
    config: PollConfig
    homes: HomeRefresher = NO_HOMES
    curves: CurvesReader | None = None
    charts: ChartPoster = NO_CHARTS
    subscriptions: SubscriptionPort | None = None  # channel subscriptions and settings


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _shown_states(claimed: Iterable[Watch]) -> dict[str, JobState]:
    """Jobs whose every claimed watch shows the same running state and owes no message."""
    shown: dict[str, JobState] = {}
    mixed: set[str] = set()
    for watch in claimed:
        state = watch.card_state
        if (
            state is None
            or watch.message_ts is None
            or watch.announcing_at is not None
            or watch.paused_noted
            or watch.read_error_noted  # owes "can read again"
            or state.is_paused
            or state.has_ended
            or shown.setdefault(watch.job_name, state) is not state
        ):
            mixed.add(watch.job_name)
    return {name: state for name, state in shown.items() if name not in mixed}


_WatchStep = tuple[Watch, Step]


@dataclass
class _CycleRun:
    """What every location's work in one cycle shares."""

    poller: Poller
    memory: PollerMemory
    report: CycleReport
    now: dt.datetime
    started: float
    shown: Mapping[str, JobState]
    awaiting_stats: frozenset[str]  # jobs with a claimed card that lacks Google's statistics
    ripe: frozenset[int]  # watches whose next 404 would be believed
    curves_due: frozenset[str]  # running jobs whose card's progress is due for a read
    slots: asyncio.Semaphore  # Slack steps in flight, across locations
    stopping: asyncio.Event | None
    settings: dict[str, ChannelSettings] = field(default_factory=dict)
    # The first page of each location's active listing this cycle, for discovery.
    first_pages: dict[Location, Sequence[TuningJob]] = field(default_factory=dict)

    def release(self, watch_ids: Sequence[int]) -> Awaitable[int]:
        return self.poller.store.release(watch_ids, self.poller.owner)

    def cycle(self) -> Cycle:
        poller = self.poller
        progress = None
        if poller.curves is not None and self.curves_due:
            progress = ProgressReads(
                reader=poller.curves,
                budget=poller.budget,
                due=self.curves_due,
                limit=poller.config.curves_limit,
                trouble=self.memory.curve_trouble,
                calls=self.report.vertex_calls,
            )
        return Cycle(
            store=poller.store,
            notifier=poller.notifier,
            owner=poller.owner,
            config=poller.config,
            now=self.now,
            report=self.report,
            started=self.started,
            homes=poller.homes,
            progress=progress,
            charts=poller.charts,
            settings=self.settings,
            subscriptions=poller.subscriptions,
        )

    def reading(self) -> ReadContext:
        poller = self.poller
        return ReadContext(
            reader=poller.reader,
            budget=poller.budget,
            page_size=poller.config.page_size,
            concurrency=poller.config.concurrency,
            filter_rejected=self.memory.filter_rejected,
            calls=self.report.vertex_calls,
            shown=self.shown,
            awaiting_stats=self.awaiting_stats,
            wanted=self.curves_due,
            first_pages=self.first_pages,
        )

    async def poll_location(self, location: Location, group: Sequence[Watch]) -> None:
        """Read one location and act on it as soon as its answers are in, whatever the others
        do.

        Reads still running after `read_limit` (a region in a 503 storm, retried with backoff
        for up to two minutes; a hung request) go on in the background: the location's watches
        keep their leases, and are written when the answers arrive.
        """
        names = {w.job_name for w in group}
        ripe = {w.job_name for w in group if w.id in self.ripe}
        read = asyncio.create_task(read_location(self.reading(), location, names, ripe))
        try:
            done, _ = await asyncio.wait({read}, timeout=self.poller.config.read_limit)
        except asyncio.CancelledError:
            read.cancel()
            raise
        cycle = self.cycle()
        if done:
            await self.handle_location(cycle, group, read.result())
            return
        self.report.slow_reads += 1
        log.info(
            "reads overran the cycle; finishing them in the background",
            extra={"location": location.parent},
        )

        async def finish() -> None:
            results = await read
            await self.handle_location(cycle.later(self.memory.late), group, results, late=True)

        self.memory.hand_over(finish(), [w.id for w in group], self.release)

    async def handle_location(
        self,
        cycle: Cycle,
        group: Sequence[Watch],
        results: Mapping[str, JobResult],
        *,
        late: bool = False,
    ) -> None:
        """Act on one location's results: endings first, then cards and notes, then quiet
        rows."""
        report = cycle.report
        endings: list[_WatchStep] = []
        following: list[_WatchStep] = []
        untouched: list[int] = []
        for watch in group:
            result = results.get(watch.job_name)
            if result is None:
                report.unread += 1
                untouched.append(watch.id)
            elif isinstance(result, Missing):
                if result.confirmed and watch.id in self.ripe:
                    endings.append((watch, functools.partial(announce, cycle, watch, None)))
                else:
                    following.append((watch, functools.partial(missing, cycle, watch)))
            elif isinstance(result, VertexError):
                following.append((watch, functools.partial(read_failed, cycle, watch, result)))
            elif result.state is JobState.UNSPECIFIED:
                # Google left the state out (or sent one we do not know): keep the last known
                # one. The card is not edited and nothing counts as changed.
                cycle.unchanged(
                    watch, QuietJob(watch.last_state, watch.last_update_time, result.create_time)
                )
            elif isinstance(result, QuietJob):
                cycle.unchanged(watch, result)
            elif result.state.has_ended:
                endings.append((watch, functools.partial(announce, cycle, watch, result)))
            else:
                following.append((watch, functools.partial(follow, cycle, watch, result)))
        await cycle.store.release(untouched, cycle.owner)
        await self.run_steps(endings, cycle, late=late)
        if self.stopping is not None and self.stopping.is_set():
            return
        await self.run_steps(following, cycle, late=late)
        await cycle.flush_quiet()

    async def run_steps(self, steps: Sequence[_WatchStep], cycle: Cycle, *, late: bool) -> None:
        """Run the watches' steps, `concurrency` at a time.

        In the cycle itself a step still busy after `post_limit` (a hung `chat.postMessage`)
        goes on in the background with its lease, and its slot goes to the next watch. Work
        that is already late (`late`) has nobody waiting for it and runs each step to its end.
        """
        config = self.poller.config

        async def run(watch: Watch, step: Step) -> None:
            if late:
                await logged(step)
                return
            async with self.slots:
                task = asyncio.create_task(logged(step))
                try:
                    done, _ = await asyncio.wait({task}, timeout=config.post_limit)
                except asyncio.CancelledError:
                    task.cancel()
                    raise
            if not done:
                cycle.report.slow_steps += 1
                self.memory.hand_over(task, [watch.id], self.release)

        await bounded(config.concurrency, (functools.partial(run, w, s) for w, s in steps))


async def _discover(
    run: _CycleRun, subscriptions: SubscriptionPort, lease_until: dt.datetime
) -> None:
    """Find the subscriptions' new jobs and give each new watch its first step now, with the
    job as listed: a card goes out in the cycle that found the job."""
    poller = run.poller
    try:
        found = await discover(
            subscriptions,
            poller.reader,
            poller.budget,
            now=run.now,
            page_size=poller.config.page_size,
            listed=run.first_pages,
            filter_rejected=run.memory.filter_rejected,
            notes=poller.notifier,
            numbers=run.memory.project_numbers,
        )
    except Exception:  # discovery is extra work of the cycle: the watches already went on
        log.exception("discovery failed")
        return
    run.report.vertex_calls["list"] += found.calls
    run.report.discovered += len(found.watches)
    if not found.watches:
        return
    jobs = {watch.id: job for watch, job in found.watches}
    claimed = await poller.store.claim_ids(
        sorted(jobs), poller.owner, now=run.now, lease_until=lease_until
    )
    if not claimed:
        return
    run.settings.update(await subscriptions.settings({w.channel_id for w in claimed}))
    cycle = run.cycle()
    steps: list[_WatchStep] = [
        (watch, functools.partial(follow, cycle, watch, jobs[watch.id])) for watch in claimed
    ]
    await run.run_steps(steps, cycle, late=False)
    await cycle.flush_quiet()


async def run_poll_cycle(
    poller: Poller,
    memory: PollerMemory | None = None,
    *,
    now: dt.datetime | None = None,
    stopping: asyncio.Event | None = None,
) -> CycleReport:
    """Claim due watches, read their jobs location by location, announce endings first, then
    refresh changed cards; work that overruns its time limit finishes in the background."""
    store, owner, config = poller.store, poller.owner, poller.config
    now = now or _utcnow()
    started = time.monotonic()
    memory = memory or PollerMemory()
    report = CycleReport()
    lease_until = now + config.lease
    busy = memory.busy()
    if busy:
        # Work from earlier cycles still runs on these: keep their leases alive (on this
        # cycle's clock) so that nobody, this process included, claims them meanwhile.
        await store.renew_leases(sorted(busy), owner, lease_until=lease_until)
    # A watch due a moment after this cycle would otherwise wait a whole extra interval.
    due_by = now + dt.timedelta(seconds=config.interval * 0.25)
    claimed = await store.claim_due(
        owner, now=now, lease_until=lease_until, limit=config.max_claim, due_by=due_by
    )
    # A busy watch claimed again (its renewal came too late) still belongs to its work: not
    # touched here, and not released either.
    busy = memory.busy()
    claimed = [w for w in claimed if w.id not in busy]
    report.claimed = len(claimed)
    if not claimed and poller.subscriptions is None:
        return report
    report.jobs = len({w.job_name for w in claimed})
    groups: dict[Location, list[Watch]] = {}
    for watch in claimed:
        groups.setdefault(JobRef.from_name(watch.job_name).location, []).append(watch)
    run = _CycleRun(
        poller=poller,
        memory=memory,
        report=report,
        now=now,
        started=started,
        shown=_shown_states(claimed),
        awaiting_stats=frozenset(w.job_name for w in claimed if not w.card_stats),
        ripe=frozenset(w.id for w in claimed if gone_ripe(w, config, now)),
        curves_due=frozenset(
            w.job_name for w in claimed if poller.curves is not None and config.curves_due(w, now)
        ),
        slots=asyncio.Semaphore(config.concurrency),
        stopping=stopping,
    )
    if poller.subscriptions is not None and claimed:
        run.settings.update(await poller.subscriptions.settings({w.channel_id for w in claimed}))

    async def poll(location: Location, group: list[Watch]) -> None:
        try:
            await run.poll_location(location, group)
        except Exception:  # one location's failure must not stop the others
            log.exception("poll of one location failed", extra={"location": location.parent})

    try:
        await asyncio.gather(*(poll(loc, group) for loc, group in sorted(groups.items())))
        if poller.subscriptions is not None and not (stopping is not None and stopping.is_set()):
            await _discover(run, poller.subscriptions, lease_until)
    finally:
        # Whatever was not written (shutdown, cancellation) goes back to the pool now rather
        # than when the lease expires. Rows marked "announcing" keep that mark; rows whose
        # work goes on in the background keep their lease until it ends.
        busy = memory.busy()
        await asyncio.shield(store.release([w.id for w in claimed if w.id not in busy], owner))
    return report
