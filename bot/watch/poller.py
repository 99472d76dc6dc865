"""One poll cycle: claim due watches, read their jobs' states cheaply, update cards, announce ends.

`run_poll_cycle` is a plain async function; the scheduler only decides when it runs.

Reading. The claimed watches are grouped by job (channels watching the same job share one read)
and the jobs by project and region. A lone job is read with `get`. Several jobs in one location
are read with a paged `list` filtered to the active states, stopping as soon as every watched job
was seen, when one is left, or once the pages read reach half the location's watched jobs (a page
must save `get`s to be worth it). Listed jobs are matched to watches by job id, since Google
names them by project number whatever the watch says.

Jobs missing from the active listing have ended (or are gone). When several are missing at once
(a mass cancel, a quota event), the unfiltered listing, newest first, `page_size` (100) a page,
is scanned for them: 200 simultaneous endings cost two or three pages instead of 200 `get`s.
The scan stops when every missing job was found, when one is left, when it has cost
`_SCAN_SLACK` requests more than the `get`s it saved, or after `_SCAN_SLACK` pages in a row
without a missing job (an old job behind thousands of newer ones): whatever is still missing is
read with `get`. Listed jobs carry the same fields as `get` answers (tuned model, error), so
announcements are complete either way. When the server rejects the filter, the location is
listed without it from then on; when it ignores the filter (the answer holds ended jobs), the
first listing already was the unfiltered one and is not repeated. Each request spends one unit
of the location's `RequestBudget`; when it runs out, the unread watches stay due for the next
cycle. A failed listing (or scan) is the failure of every job it had not yet shown. Jobs whose
state every claimed watch already shows come back as the small `QuietJob`, which keeps memory
flat with 10,000 watches.

Announcing exactly once. For an ended job the poller, holding the lease, first marks the row
"announcing" (a conditional update that succeeds only if nobody marked it before), then posts the
thread reply, then marks the row "announced" in one single-row update. A crash before the post
leaves "announcing" set; whoever claims the row next asks the chat service whether the thread
already holds the ending (the post carries the watch id in its message metadata) and posts only
if it does not. The one window that can still repeat a message: Slack has accepted the post but
the process dies before the "announced" update commits *and* the thread cannot be checked
(missing history scope, or the check fails). That window is one HTTP answer plus one indexed
single-row update long; it cannot be closed because `chat.postMessage` has no idempotency key.
An error that proves the post did not happen (Slack's `ok: false`, HTTP 429) clears the mark so
the ending is tried again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import functools
import logging
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.tuning.job import TuningJob
from bot.tuning.refs import JobRef, Location
from bot.tuning.states import ACTIVE_STATES, JobState
from bot.vertex.errors import InvalidArgument, NotFound, VertexError
from bot.watch.budget import RequestBudget
from bot.watch.model import AuditEntry, Watch
from bot.watch.notify import ChannelGone, Notifier, NotifyError, RateLimited
from bot.watch.store import SqlWatchStore

log = logging.getLogger(__name__)

ACTOR = "tuning-bot"
PAGE_SIZE = 100
_ACTIVE_FILTER = " OR ".join(
    f'state="{s.value}"' for s in sorted(ACTIVE_STATES, key=lambda s: s.value)
)


class JobPage(Protocol):
    """One page of a `list` answer."""

    @property
    def jobs(self) -> Sequence[TuningJob]:
        """The tuning jobs on this page."""
        ...


class JobReader(Protocol):
    """The part of the Vertex tuning client the poller uses."""

    async def get(self, ref: JobRef) -> TuningJob:
        """The job as it is now (raises NotFound when it is gone)."""
        ...

    def list_pages(
        self,
        location: Location,
        *,
        filter: str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[JobPage]:
        """The jobs of one project and region, page by page, optionally filtered."""
        ...


class _Gone:
    """A `get` answered 404: the job no longer exists (or we may no longer see it)."""


GONE = _Gone()


@dataclass(frozen=True, slots=True)
class QuietJob:
    """A job whose state every claimed watch already shows: all the cycle still needs of it.

    Keeping this instead of the full `TuningJob` holds memory flat with 10,000 watches.
    """

    state: JobState
    update_time: dt.datetime | None
    create_time: dt.datetime | None


JobResult = TuningJob | QuietJob | _Gone | VertexError | None  # None: not read (budget spent)


def _keep(
    job: TuningJob, shown: Mapping[str, JobState], name: str | None = None
) -> TuningJob | QuietJob:
    if shown.get(name or job.name) is job.state:
        return QuietJob(job.state, job.update_time, job.create_time)
    return job


@dataclass(frozen=True)
class PollConfig:
    """How often and how much the poller works."""

    interval: float = 60.0
    lease_seconds: float | None = None  # default: 3 intervals, between 5 s and 120 s
    max_claim: int = 20_000
    page_size: int = PAGE_SIZE
    concurrency: int = 8
    max_backoff: float = 1800.0
    paused_factor: float = 8.0

    @property
    def lease(self) -> dt.timedelta:
        """How long a claim stays ours without renewal."""
        seconds = self.lease_seconds
        if seconds is None:
            seconds = min(max(3 * self.interval, 5.0), 120.0)
        return dt.timedelta(seconds=seconds)

    def slowdown(self, job: TuningJob | QuietJob | None, watch: Watch, now: dt.datetime) -> float:
        """Interval multiplier: long-running jobs and paused ones are polled less often."""
        if job is not None and job.state.is_paused:
            return self.paused_factor
        started = (job.create_time if job is not None else None) or watch.created_at
        age = now - started
        if age >= dt.timedelta(hours=6):
            return 4.0
        if age >= dt.timedelta(hours=1):
            return 2.0
        return 1.0

    def backoff(self, error_count: int) -> dt.timedelta:
        """Delay after `error_count` consecutive read errors of one job, jittered."""
        base = min(self.interval * (2 ** min(error_count, 20)), self.max_backoff)
        return dt.timedelta(seconds=base * random.uniform(0.8, 1.2))  # noqa: S311 - jitter, not secrecy


@dataclass
class PollerMemory:
    """What one process learns across cycles (nothing here is needed for correctness)."""

    filter_rejected: set[Location] = field(default_factory=set)


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

    @property
    def total_vertex_calls(self) -> int:
        """get + list requests sent."""
        return sum(self.vertex_calls.values())


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def _read_location(
    reader: JobReader,
    budget: RequestBudget,
    location: Location,
    names: set[str],
    config: PollConfig,
    memory: PollerMemory,
    report: CycleReport,
    shown: Mapping[str, JobState],
) -> dict[str, JobResult]:
    results: dict[str, JobResult] = {}
    unseen = set(names)
    if len(names) > 1:
        use_filter = location not in memory.filter_rejected
        try:
            listed = await _list_active(
                reader, budget, location, unseen, results, use_filter, config, report, shown
            )
        except InvalidArgument:
            if not use_filter:
                raise
            log.info("list filter rejected", extra={"location": location.parent})
            memory.filter_rejected.add(location)
            listed = await _list_active(
                reader, budget, location, unseen, results, False, config, report, shown
            )
        except VertexError as error:
            # A failed listing is every job's failure: they back off, other locations go on.
            return _fail_unseen(results, unseen, error)
        if len(unseen) > 1 and listed.filtered:
            # Several watched jobs left the active listing at once (a mass cancel, a quota
            # event): the unfiltered listing, newest first, holds a page's worth of them per
            # request where `get` costs one request each.
            try:
                await _scan_all(reader, budget, location, unseen, results, config, report, shown)
            except VertexError as error:
                return _fail_unseen(results, unseen, error)

    async def get_one(name: str) -> None:
        if not budget.try_take(location):
            results[name] = None
            return
        report.vertex_calls["get"] += 1
        try:
            results[name] = _keep(await reader.get(JobRef.from_name(name)), shown, name)
        except NotFound:
            results[name] = GONE
        except VertexError as error:
            results[name] = error

    await _bounded(config.concurrency, (functools.partial(get_one, n) for n in sorted(unseen)))
    return results


def _fail_unseen(
    results: dict[str, JobResult], unseen: set[str], error: VertexError
) -> dict[str, JobResult]:
    for name in unseen:
        results[name] = error
    return results


@dataclass(frozen=True, slots=True)
class _Listing:
    """What the active listing of one location showed beyond the jobs themselves."""

    # The answer held only active jobs: the server applied the state filter, so jobs that
    # ended are still to be found. False when listed unfiltered or Google ignored the filter.
    filtered: bool


# The unfiltered scan may cost at most this many requests more than one `get` per job found,
# and stops after this many pages in a row without a watched job (the rest are older).
_SCAN_SLACK = 2

# After a page: how many watched jobs it held, pages read so far -> read the next one?
_MorePages = Callable[[int, int], bool]


async def _list_active(
    reader: JobReader,
    budget: RequestBudget,
    location: Location,
    unseen: set[str],
    results: dict[str, JobResult],
    use_filter: bool,
    config: PollConfig,
    report: CycleReport,
    shown: Mapping[str, JobState],
) -> _Listing:
    """Page through the active jobs until every watched one was seen (or paging stops paying)."""
    total = len(unseen)
    all_active = True

    def more(_hits: int, pages_read: int) -> bool:
        # Another page pays off while it can still save `get`s; a straggler costs one each.
        return len(unseen) > 1 and pages_read * 2 < total

    def note(job: TuningJob) -> None:
        nonlocal all_active
        if job.state not in ACTIVE_STATES:
            all_active = False

    await _list_into(
        reader,
        budget,
        location,
        _ACTIVE_FILTER if use_filter else None,
        unseen,
        results,
        config,
        report,
        shown,
        more,
        note,
    )
    return _Listing(filtered=use_filter and all_active)


async def _scan_all(
    reader: JobReader,
    budget: RequestBudget,
    location: Location,
    unseen: set[str],
    results: dict[str, JobResult],
    config: PollConfig,
    report: CycleReport,
    shown: Mapping[str, JobState],
) -> None:
    """Find ended jobs in the unfiltered listing, newest first, while pages beat `get`s.

    Cost is bounded either way: the scan stops once it has spent `_SCAN_SLACK` requests more
    than the `get`s it saved, or after `_SCAN_SLACK` pages in a row held none of the missing
    jobs (an old job behind thousands of newer ones is then read with `get`), or when a single
    job is left (a `get` costs the same as a page and is certain to find it).
    """
    found, dry = 0, 0

    def more(hits: int, pages_read: int) -> bool:
        nonlocal found, dry
        found += hits
        dry = 0 if hits else dry + 1
        return len(unseen) > 1 and pages_read < found + _SCAN_SLACK and dry < _SCAN_SLACK

    await _list_into(reader, budget, location, None, unseen, results, config, report, shown, more)


async def _list_into(
    reader: JobReader,
    budget: RequestBudget,
    location: Location,
    filter_text: str | None,
    unseen: set[str],
    results: dict[str, JobResult],
    config: PollConfig,
    report: CycleReport,
    shown: Mapping[str, JobState],
    more: _MorePages,
    note: Callable[[TuningJob], None] | None = None,
) -> None:
    """Page through `list`, moving the watched jobs it shows from `unseen` into `results`.

    Each page spends one unit of the budget; `more` decides after each page whether the next
    one is worth a request. `note` sees every listed job, watched or not.
    """
    if not unseen or not budget.try_take(location):
        return
    report.vertex_calls["list"] += 1
    pages_read = 0
    # Google may name jobs by project number where the watch has the project id: match on
    # the job id, which is unique within the location.
    by_job_id = {JobRef.from_name(name).job_id: name for name in unseen}
    pages = reader.list_pages(location, filter=filter_text, page_size=config.page_size)
    try:
        async for page in pages:
            hits = 0
            for job in page.jobs:
                if note is not None:
                    note(job)
                name = by_job_id.get(job.ref.job_id)
                if name is not None and name in unseen:
                    unseen.discard(name)
                    results[name] = _keep(job, shown, name)
                    hits += 1
            pages_read += 1
            if not more(hits, pages_read) or not budget.try_take(location):
                return
            report.vertex_calls["list"] += 1
        # The last page cost nothing extra: give back the token taken for "the next page".
        report.vertex_calls["list"] -= 1
        budget.refund(location)
    finally:
        aclose = getattr(pages, "aclose", None)
        if aclose is not None:
            await aclose()


async def read_jobs(
    reader: JobReader,
    budget: RequestBudget,
    names: Iterable[str],
    config: PollConfig,
    memory: PollerMemory,
    report: CycleReport,
    shown: Mapping[str, JobState] | None = None,
) -> dict[str, JobResult]:
    """Read the current state of every named job, one group of requests per location.

    `shown` names jobs whose state every watch already shows; those come back as `QuietJob`
    when that state has not changed.
    """
    by_location: dict[Location, set[str]] = {}
    for name in names:
        by_location.setdefault(JobRef.from_name(name).location, set()).add(name)
    parts = await asyncio.gather(
        *(
            _read_location(reader, budget, loc, group, config, memory, report, shown or {})
            for loc, group in sorted(by_location.items())
        )
    )
    merged: dict[str, JobResult] = {}
    for part in parts:
        merged.update(part)
    return merged


class _Cycle:
    """The per-watch work of one cycle, sharing the store, notifier and report."""

    def __init__(
        self,
        store: SqlWatchStore,
        notifier: Notifier,
        owner: str,
        config: PollConfig,
        now: dt.datetime,
        report: CycleReport,
    ) -> None:
        self.store = store
        self.notifier = notifier
        self.owner = owner
        self.config = config
        self.now = now
        self.report = report
        self.quiet: list[dict[str, Any]] = []
        self._started = time.monotonic()

    def clock(self) -> dt.datetime:
        """The cycle's `now` moved on by the time the cycle has taken (lease checks need it)."""
        return self.now + dt.timedelta(seconds=time.monotonic() - self._started)

    async def write(self, watch: Watch, values: dict[str, Any], *, release: bool = True) -> bool:
        ok = await self.store.update_fenced(watch.id, self.owner, values, release=release)
        if not ok:
            self.report.lost_leases += 1
        return ok

    async def end_watch(self, watch: Watch, reason: str, detail: str | None) -> None:
        """Stop a watch that cannot go on (channel gone), and say so in the audit table."""
        if await self.write(watch, {"finished_at": self.now, "end_reason": reason}):
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

    async def retry_later(self, watch: Watch, seconds: float, values: dict[str, Any]) -> None:
        due = self.now + dt.timedelta(seconds=max(seconds, self.config.interval))
        await self.write(watch, {**values, "next_poll_at": due})

    async def on_slack_error(
        self, watch: Watch, error: NotifyError, values: dict[str, Any]
    ) -> None:
        if isinstance(error, ChannelGone):
            await self.end_watch(watch, "channel_gone", error.error)
        elif isinstance(error, RateLimited):
            await self.retry_later(watch, error.retry_after, values)
        else:
            await self.retry_later(watch, self.config.interval, values)

    async def ensure_card(self, watch: Watch, job: TuningJob) -> Watch:
        """Post the status message when the watch has none (a `watch` whose card never went out)."""
        if watch.message_ts is not None:
            return watch
        ts = await self.notifier.show_status(watch, job)
        await self.store.update_fenced(
            watch.id, self.owner, {"message_ts": ts, "card_state": job.state}
        )
        self.report.cards_updated += 1
        return dataclasses.replace(watch, message_ts=ts, card_state=job.state)

    async def announce(self, watch: Watch, job: TuningJob | None) -> None:
        """The announce-once protocol for an ended (`job`) or vanished (`None`) job."""
        seen = _seen_values(job) if job is not None else {}
        try:
            if job is not None:
                watch = await self.ensure_card(watch, job)
        except NotifyError as error:
            await self.on_slack_error(watch, error, seen)
            return
        current = self.clock()
        if watch.announcing_at is None:
            if not await self.store.mark_announcing(
                watch.id, self.owner, now=current, lease_until=current + self.config.lease
            ):
                self.report.lost_leases += 1
                return
        else:
            if not await self.store.adopt_announcing(
                watch.id, self.owner, now=current, lease_until=current + self.config.lease
            ):
                self.report.lost_leases += 1
                return
            if await self.notifier.ending_posted(watch):
                await self._mark_announced(watch, job)
                return
        try:
            if job is None:
                await self.notifier.announce_gone(watch)
            else:
                await self.notifier.announce_ending(watch, job)
        except NotifyError as error:
            if not error.delivered_unknown:
                await self.store.clear_announcing(watch.id, self.owner)
            await self.on_slack_error(watch, error, seen)
            return
        await self._mark_announced(watch, job)
        if job is not None and watch.card_state is not job.state:
            # The card is cosmetic once the ending is out: a failure here changes nothing.
            try:
                await self.notifier.show_status(watch, job)
                self.report.cards_updated += 1
            except NotifyError as error:
                log.info("final card update failed", extra={"error": error.error})

    async def _mark_announced(self, watch: Watch, job: TuningJob | None) -> None:
        reason = "announced" if job is not None else "job_gone"
        seen = _seen_values(job) if job is not None else {}
        if await self.store.mark_announced(
            watch.id, self.owner, now=self.now, end_reason=reason, values=seen
        ):
            self.report.announced += 1
        else:
            self.report.lost_leases += 1

    async def follow(self, watch: Watch, job: TuningJob) -> None:
        """A job still running: edit its card when the state changed, note a pause once."""
        values = _seen_values(job)
        values["error_count"] = 0
        try:
            if watch.message_ts is None or watch.card_state is not job.state:
                ts = await self.notifier.show_status(watch, job)
                self.report.cards_updated += 1
                values["card_state"] = job.state
                if watch.message_ts is None:
                    values["message_ts"] = ts
                    watch = dataclasses.replace(watch, message_ts=ts)
            if job.state.is_paused and not watch.paused_noted:
                await self.notifier.note_paused(watch, job)
                values["paused_noted"] = True
            elif not job.state.is_paused and watch.paused_noted:
                values["paused_noted"] = False
        except NotifyError as error:
            await self.on_slack_error(watch, error, values)
            return
        factor = self.config.slowdown(job, watch, self.now)
        values["next_poll_at"] = self.now + dt.timedelta(seconds=self.config.interval * factor)
        if set(values) == _QUIET_COLUMNS:
            # Nothing changed for the user: written with the others in one transaction.
            self.quiet.append({"id": watch.id, **values})
        else:
            await self.write(watch, values)

    def unchanged(self, watch: Watch, job: QuietJob) -> None:
        """A job in the state its card shows: only the schedule moves, in the batch write."""
        factor = self.config.slowdown(job, watch, self.now)
        self.quiet.append(
            {
                "id": watch.id,
                "last_state": job.state,
                "last_update_time": job.update_time,
                "error_count": 0,
                "next_poll_at": self.now + dt.timedelta(seconds=self.config.interval * factor),
            }
        )

    async def flush_quiet(self) -> None:
        """Write the batched results of watches whose job did not change."""
        rows, self.quiet = self.quiet, []
        written = await self.store.save_many(self.owner, rows)
        self.report.lost_leases += len(rows) - written

    async def read_failed(self, watch: Watch, error: VertexError) -> None:
        """Back off this job alone; the others keep their schedule."""
        count = watch.error_count + 1
        self.report.read_errors += 1
        await self.write(
            watch,
            {"error_count": count, "next_poll_at": self.now + self.config.backoff(count)},
        )


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
            or state.is_paused
            or state.has_ended
            or shown.setdefault(watch.job_name, state) is not state
        ):
            mixed.add(watch.job_name)
    return {name: state for name, state in shown.items() if name not in mixed}


_QUIET_COLUMNS = frozenset({"last_state", "last_update_time", "error_count", "next_poll_at"})


def _seen_values(job: TuningJob) -> dict[str, Any]:
    return {"last_state": job.state, "last_update_time": job.update_time}


async def _bounded(limit: int, work: Iterable[Callable[[], Awaitable[None]]]) -> None:
    """Run the steps with at most `limit` at a time; `limit` workers share one iterator, so
    10,000 watches cost 8 tasks, not 10,000."""
    steps = iter(work)

    async def worker() -> None:
        for step in steps:
            try:
                await step()
            except Exception:  # one watch's failure must not stop the others
                log.exception("watch step failed")

    await asyncio.gather(*(worker() for _ in range(limit)))


async def run_poll_cycle(
    store: SqlWatchStore,
    reader: JobReader,
    notifier: Notifier,
    budget: RequestBudget,
    *,
    owner: str,
    config: PollConfig,
    memory: PollerMemory | None = None,
    now: dt.datetime | None = None,
    stopping: asyncio.Event | None = None,
) -> CycleReport:
    """Claim due watches, read their jobs, announce endings first, then refresh changed cards."""
    now = now or _utcnow()
    memory = memory or PollerMemory()
    report = CycleReport()
    # A watch due a moment after this cycle would otherwise wait a whole extra interval.
    due_by = now + dt.timedelta(seconds=config.interval * 0.25)
    claimed = await store.claim_due(
        owner, now=now, lease_until=now + config.lease, limit=config.max_claim, due_by=due_by
    )
    report.claimed = len(claimed)
    if not claimed:
        return report
    names = {w.job_name for w in claimed}
    report.jobs = len(names)
    try:
        results = await read_jobs(
            reader, budget, names, config, memory, report, _shown_states(claimed)
        )
    except BaseException:
        await store.release([w.id for w in claimed], owner)
        raise
    cycle = _Cycle(store, notifier, owner, config, now, report)
    endings: list[Callable[[], Awaitable[None]]] = []
    following: list[Callable[[], Awaitable[None]]] = []
    untouched: list[int] = []
    for watch in claimed:
        result = results.get(watch.job_name)
        if result is None:
            report.unread += 1
            untouched.append(watch.id)
        elif isinstance(result, _Gone):
            endings.append(functools.partial(cycle.announce, watch, None))
        elif isinstance(result, VertexError):
            following.append(functools.partial(cycle.read_failed, watch, result))
        elif isinstance(result, QuietJob):
            cycle.unchanged(watch, result)
        elif result.state.has_ended:
            endings.append(functools.partial(cycle.announce, watch, result))
        else:
            following.append(functools.partial(cycle.follow, watch, result))
    await store.release(untouched, owner)
    try:
        await _bounded(config.concurrency, endings)
        if stopping is not None and stopping.is_set():
            return report
        await _bounded(config.concurrency, following)
        await cycle.flush_quiet()
    finally:
        # Whatever was not written (shutdown, cancellation) goes back to the pool now rather
        # than when the lease expires. Rows marked "announcing" keep that mark.
        await asyncio.shield(store.release([w.id for w in claimed], owner))
    return report
