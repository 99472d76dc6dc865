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
if it does not. Right before the post the lease is renewed in the store (fenced) and the time of
that renewal recorded; the request is then sent only within the first half of that lease on the
local clock, so a process frozen in between stays silent when it resumes. An adopter that finds
no ending waits until a post sent at the recorded time could no longer be on its way (the Slack
client's timeout plus a margin, `PollConfig.post_flight`) and looks again before posting. What can
still repeat a message, since `chat.postMessage` has no idempotency key: a post Slack shows in
the thread only after that flight; a process frozen between the local check and the request
leaving (the Slack client's own preparation, a few milliseconds); and a crash after Slack
accepted the post but before the "announced" update commits, when the thread cannot be checked
(missing history scope, or the check keeps failing).
Only an error that proves the post did not happen (Slack's own `ok: false` refusal, HTTP 429)
clears the mark so the ending is tried again at once. A timeout, an HTTP 5xx or an answer that
is not Slack's JSON may follow a stored message: the mark stays and the thread is checked first
(a check that fails for now is retried later; the ending is not posted blind).

Vanished jobs. One 404 is not believed (a replica behind, a glitch): the watch counts its 404s
in a row (`missing_count`, `missing_since`) and polls on at the usual pace. Only once they
lasted `gone_after_polls` polls and `gone_after_seconds` does a 404 lead to the unfiltered
listing of the location, read to its last page; the job is declared gone only when the listing
agrees. A good answer (or the listing showing the job) resets the count.

Refused reads. Errors Google will repeat until someone acts (403, 401, 400, ...) are retried
at most `refused_backoff_intervals` intervals apart (rate limits, 5xx and lost connections keep
the exponential backoff up to `max_backoff`). After `note_after_errors` of them in a row the
thread is told once what failed and which permission to grant (`read_error_noted`, stored, so a
restart does not repeat it); the first good read after that says so once.

An answer without `state` (UNSPECIFIED) keeps the last known state: the card is not edited and
nothing counts as changed.

Time limits. Each location is read and acted on as soon as its own answers are in, so a slow
region delays nobody else. The cycle waits for one location's reads at most `read_limit`, and
for one watch's Slack calls at most `post_limit` (a hung `chat.postMessage`); what overruns goes
on in the background (`PollerMemory.hand_over`) holding its leases, every write still fenced on
them. Each new cycle renews those leases on its own clock and leaves those watches alone, so
they are never claimed twice; the background work writes its results and releases the leases
when it ends. Slack steps run `concurrency` at a time across locations, endings before cards
within each location.
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
from collections.abc import (
    Awaitable,
    Callable,
    Collection,
    Iterable,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field

from bot.tuning.job import TuningJob
from bot.tuning.refs import JobRef, Location
from bot.tuning.states import ACTIVE_STATES, JobState
from bot.vertex.errors import (
    CredentialsUnavailable,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
    Unauthenticated,
    Unavailable,
    VertexError,
)
from bot.watch.budget import RequestBudget
from bot.watch.model import AuditEntry, Watch, WatchUpdate
from bot.watch.notify import ChannelGone, LeaseLapsed, Notifier, NotifyError, RateLimited
from bot.watch.ports import JobReader, PollStore

log = logging.getLogger(__name__)

ACTOR = "tuning-bot"
PAGE_SIZE = 100
_ACTIVE_FILTER = " OR ".join(
    f'state="{s.value}"' for s in sorted(ACTIVE_STATES, key=lambda s: s.value)
)


@dataclass(frozen=True, slots=True)
class _Missing:
    """A `get` answered 404. `confirmed`: the whole unfiltered listing of the location, read in
    the same cycle, did not hold the job either."""

    confirmed: bool


MISSING = _Missing(confirmed=False)  # one more 404, not (yet) believed
GONE = _Missing(confirmed=True)  # 404 and absent from the listing


@dataclass(frozen=True, slots=True)
class QuietJob:
    """A job whose state every claimed watch already shows: all the cycle still needs of it.

    Keeping this instead of the full `TuningJob` holds memory flat with 10,000 watches.
    """

    state: JobState
    update_time: dt.datetime | None
    create_time: dt.datetime | None


JobResult = TuningJob | QuietJob | _Missing | VertexError | None  # None: not read (budget spent)


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
    # One 404 can be a glitch (a replica that has not caught up): a job is declared gone only
    # after this many 404s in a row spanning at least this long, and once an unfiltered
    # listing of its location agrees.
    gone_after_polls: int = 3
    gone_after_seconds: float = 300.0
    # Reads Google refuses until someone acts (403, 400, ...): the thread is told after this
    # many in a row, and they are retried at most this many intervals apart, so that a granted
    # permission shows within minutes rather than after `max_backoff`.
    note_after_errors: int = 3
    refused_backoff_intervals: float = 4.0
    # How long a cycle waits for one location's reads, and for one watch's Slack calls, before
    # that work goes on in the background (see `read_limit` and `post_limit`).
    read_limit_seconds: float | None = None
    post_limit_seconds: float | None = None
    # How long an ending post may wait for Slack's answer (the Slack client's timeout).
    post_timeout_seconds: float | None = None

    @property
    def lease(self) -> dt.timedelta:
        """How long a claim stays ours without renewal."""
        seconds = self.lease_seconds
        if seconds is None:
            seconds = min(max(3 * self.interval, 5.0), 120.0)
        return dt.timedelta(seconds=seconds)

    @property
    def read_limit(self) -> float:
        """Seconds a cycle waits for one location's reads: default half an interval, 1–30 s."""
        if self.read_limit_seconds is not None:
            return self.read_limit_seconds
        return min(max(0.5 * self.interval, 1.0), 30.0)

    @property
    def post_limit(self) -> float:
        """Seconds a cycle waits for one watch's Slack calls: default half an interval, 2–15 s."""
        if self.post_limit_seconds is not None:
            return self.post_limit_seconds
        return min(max(0.5 * self.interval, 2.0), 15.0)

    @property
    def post_timeout(self) -> float:
        """Seconds an ending post may be in flight: default one lease, 10–30 s."""
        if self.post_timeout_seconds is not None:
            return self.post_timeout_seconds
        return min(max(self.lease.total_seconds(), 10.0), 30.0)

    @property
    def post_flight(self) -> dt.timedelta:
        """After this long, a post confirmed by another owner has reached the thread or never
        will: a post can wait `post_timeout` for Slack's answer, plus Slack's own processing."""
        return dt.timedelta(seconds=self.post_timeout + 5.0)

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

    def backoff(self, error_count: int, *, refused: bool = False) -> dt.timedelta:
        """Delay after `error_count` consecutive read errors of one job, jittered; `refused`
        errors (see `_refused`) wait at most `refused_backoff_intervals` intervals."""
        ceiling = self.max_backoff
        if refused:
            ceiling = min(ceiling, self.interval * self.refused_backoff_intervals)
        base = min(self.interval * (2 ** min(error_count, 20)), ceiling)
        return dt.timedelta(seconds=base * random.uniform(0.8, 1.2))  # noqa: S311 - jitter, not secrecy


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
    ripe: Collection[str] = (),
) -> dict[str, JobResult]:
    """Read one location's jobs; a 404 of a job in `ripe` is checked against the listing."""
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
            results[name] = MISSING
        except VertexError as error:
            results[name] = error

    await _bounded(config.concurrency, (functools.partial(get_one, n) for n in sorted(unseen)))
    absent = {name for name in ripe if results.get(name) is MISSING}
    if absent:
        await _confirm_gone(reader, budget, location, absent, results, config, report, shown)
    return results


async def _confirm_gone(
    reader: JobReader,
    budget: RequestBudget,
    location: Location,
    absent: set[str],
    results: dict[str, JobResult],
    config: PollConfig,
    report: CycleReport,
    shown: Mapping[str, JobState],
) -> None:
    """Look for jobs that keep answering 404 in the whole unfiltered listing of their location.

    Only a listing read to its end proves a job absent (it becomes `GONE`); one that shows the
    job brings it back, and one cut short (budget spent, an error) leaves the 404 unconfirmed
    until the next poll. Rare (once per vanished job), so its cost is not bounded further.
    """
    unseen = set(absent)
    try:
        complete = await _list_into(
            reader,
            budget,
            location,
            None,
            unseen,
            results,
            config,
            report,
            shown,
            lambda _hits, _pages: bool(unseen),
        )
    except VertexError as error:
        log.info("listing to confirm a 404 failed", extra={"error": str(error)})
        return
    if complete:
        for name in unseen:
            results[name] = GONE


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
) -> bool:
    """Page through `list`, moving the watched jobs it shows from `unseen` into `results`.

    Each page spends one unit of the budget; `more` decides after each page whether the next
    one is worth a request. `note` sees every listed job, watched or not. True when the
    listing was read to its last page.
    """
    if not unseen or not budget.try_take(location):
        return False
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
                return False
            report.vertex_calls["list"] += 1
        # The last page cost nothing extra: give back the token taken for "the next page".
        report.vertex_calls["list"] -= 1
        budget.refund(location)
        return True
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
    ripe: Collection[str] = (),
) -> dict[str, JobResult]:
    """Read the current state of every named job, one group of requests per location.

    `shown` names jobs whose state every watch already shows; those come back as `QuietJob`
    when that state has not changed. A job in `ripe` that answers 404 is looked for in its
    location's unfiltered listing and comes back `GONE` when that does not hold it either.
    """
    by_location: dict[Location, set[str]] = {}
    for name in names:
        by_location.setdefault(JobRef.from_name(name).location, set()).add(name)
    parts = await asyncio.gather(
        *(
            _read_location(reader, budget, loc, group, config, memory, report, shown or {}, ripe)
            for loc, group in sorted(by_location.items())
        )
    )
    merged: dict[str, JobResult] = {}
    for part in parts:
        merged.update(part)
    return merged


class _Cycle:
    """The per-watch work of one location in one cycle, sharing the store, notifier and report."""

    def __init__(
        self,
        store: PollStore,
        notifier: Notifier,
        owner: str,
        config: PollConfig,
        now: dt.datetime,
        report: CycleReport,
        started: float | None = None,
    ) -> None:
        self.store = store
        self.notifier = notifier
        self.owner = owner
        self.config = config
        self.now = now
        self.report = report
        # (id, state, update time, next poll) of watches whose job did not change: a tuple,
        # not a dict of columns, since 10,000 of them wait here for the batch write.
        self.quiet: list[tuple[int, JobState, dt.datetime | None, dt.datetime]] = []
        self._next_polls: dict[float, dt.datetime] = {}
        self._started = time.monotonic() if started is None else started

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
        return self.now + dt.timedelta(seconds=time.monotonic() - self._started)

    def later(self, report: CycleReport) -> _Cycle:
        """The same work for results that arrive after the cycle returned, on the moved clock."""
        return _Cycle(self.store, self.notifier, self.owner, self.config, self.clock(), report)

    async def write(self, watch: Watch, update: WatchUpdate, *, release: bool = True) -> bool:
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
        due = self.now + dt.timedelta(seconds=max(seconds, self.config.interval))
        await self.write(watch, update | WatchUpdate(next_poll_at=due))

    async def on_slack_error(self, watch: Watch, error: NotifyError, update: WatchUpdate) -> None:
        if isinstance(error, ChannelGone):
            await self.end_watch(watch, "channel_gone", error.error)
        elif isinstance(error, RateLimited):
            await self.retry_later(watch, error.retry_after, update)
        else:
            await self.retry_later(watch, self.config.interval, update)

    async def ensure_card(self, watch: Watch, job: TuningJob) -> Watch:
        """Post the status message when the watch has none (a `watch` whose card never went out)."""
        if watch.message_ts is not None:
            return watch
        ts = await self.notifier.show_status(watch, job)
        await self.store.update_fenced(
            watch.id, self.owner, WatchUpdate(message_ts=ts, card_state=job.state)
        )
        self.report.cards_updated += 1
        return dataclasses.replace(watch, message_ts=ts, card_state=job.state)

    async def announce(self, watch: Watch, job: TuningJob | None) -> None:
        """The announce-once protocol for an ended (`job`) or vanished (`None`) job."""
        seen = _seen(job) if job is not None else WatchUpdate()
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
            try:
                posted = await self.notifier.ending_posted(watch)
            except NotifyError as error:
                # The thread could not be read just now: look again later, never post blind.
                await self.on_slack_error(watch, error, seen)
                return
            if posted:
                await self._mark_announced(watch, job)
                return
            if watch.announcing_at is not None and current < (
                watch.announcing_at + self.config.post_flight
            ):
                # A post that left at `announcing_at` may still be on its way (Slack slow, or
                # its sender frozen mid-request): it shows in the thread, or its flight ends,
                # before the lease we now hold lapses and the row is looked at again.
                self.report.posts_in_flight += 1
                return
        current = self.clock()
        # Measured before the store is asked, so that the local deadline falls before the
        # stored lease expires; half the lease leaves room for clocks that disagree a little.
        confirmed = time.monotonic()
        if not await self.store.confirm_announcing(
            watch.id, self.owner, now=current, lease_until=current + self.config.lease
        ):
            # Frozen or slowed past the lease since the mark: another replica may have adopted
            # the row and posted; posting now would repeat it.
            self.report.lost_leases += 1
            return
        deadline = confirmed + self.config.lease.total_seconds() / 2

        def still_ours() -> bool:
            return time.monotonic() < deadline

        try:
            if job is None:
                await self.notifier.announce_gone(watch, still_ours=still_ours)
            else:
                await self.notifier.announce_ending(watch, job, still_ours=still_ours)
        except LeaseLapsed:
            # Nothing was sent; the row stays "announcing" for whoever holds the lease now.
            self.report.lost_leases += 1
            return
        except NotifyError as error:
            # Only a refusal proves the post did not happen; after a timeout, a 5xx or an
            # answer that is not Slack's, "announcing" stays and the thread is checked first.
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
        seen = _seen(job) if job is not None else WatchUpdate()
        if await self.store.mark_announced(
            watch.id, self.owner, now=self.now, end_reason=reason, change=seen
        ):
            self.report.announced += 1
        else:
            self.report.lost_leases += 1

    async def follow(self, watch: Watch, job: TuningJob) -> None:
        """A job still running: edit its card when the state changed, note a pause once, and
        say once that the job can be read again after a "cannot read" note."""
        # What the user sees changed: the card, or a note in the thread.
        shown = WatchUpdate()
        try:
            if watch.message_ts is None or watch.card_state is not job.state:
                ts = await self.notifier.show_status(watch, job)
                self.report.cards_updated += 1
                shown |= WatchUpdate(card_state=job.state)
                if watch.message_ts is None:
                    shown |= WatchUpdate(message_ts=ts)
                    watch = dataclasses.replace(watch, message_ts=ts)
            if watch.read_error_noted:
                await self.notifier.note_read_recovered(watch)
                self.report.notes += 1
                shown |= WatchUpdate(read_error_noted=False)
            if job.state.is_paused and not watch.paused_noted:
                await self.notifier.note_paused(watch, job)
                shown |= WatchUpdate(paused_noted=True)
            elif not job.state.is_paused and watch.paused_noted:
                shown |= WatchUpdate(paused_noted=False)
        except NotifyError as error:
            await self.on_slack_error(watch, error, _seen(job) | READ_OK | shown)
            return
        due = self.next_poll(self.config.slowdown(job, watch, self.now))
        if shown == WatchUpdate():
            # Nothing changed for the user: written with the others in one transaction.
            self.quiet.append((watch.id, job.state, job.update_time, due))
        else:
            await self.write(watch, _seen(job) | READ_OK | shown | WatchUpdate(next_poll_at=due))

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

    async def missing(self, watch: Watch) -> None:
        """A 404 not (yet) believed: count it and poll again at the usual pace."""
        self.report.missing += 1
        await self.write(
            watch,
            WatchUpdate(
                missing_count=watch.missing_count + 1,
                missing_since=watch.missing_since or self.now,
                next_poll_at=self.now + dt.timedelta(seconds=self.config.interval),
            ),
        )

    async def read_failed(self, watch: Watch, error: VertexError) -> None:
        """Back off this job alone; after a few refusals in a row, say so once in its thread."""
        count = watch.error_count + 1
        refused = _refused(error)
        self.report.read_errors += 1
        update = WatchUpdate(
            error_count=count, next_poll_at=self.now + self.config.backoff(count, refused=refused)
        )
        if refused:
            refusals = watch.read_error_count + 1
            update |= WatchUpdate(read_error_count=refusals)
            if refusals >= self.config.note_after_errors and not watch.read_error_noted:
                try:
                    await self.notifier.note_read_failing(
                        watch,
                        status=error.status,
                        message=error.message,
                        denied=isinstance(error, PermissionDenied | Unauthenticated),
                    )
                except NotifyError as slack_error:
                    await self.on_slack_error(watch, slack_error, update)
                    return
                self.report.notes += 1
                update |= WatchUpdate(read_error_noted=True)
        await self.write(watch, update)


def _refused(error: VertexError) -> bool:
    """A read Google will keep refusing until someone acts (403, 401, 400, ...), unlike rate
    limits, 5xx and lost connections, which pass by themselves (and keep `max_backoff`)."""
    if isinstance(error, Unavailable | QuotaExceeded | CredentialsUnavailable):
        # Credentials that cannot be had are the whole bot's trouble, logged as such; a note
        # in every thread asking for a permission would mislead.
        return False
    if isinstance(error, Unauthenticated):
        return True
    return 400 <= error.http_status < 500 and error.http_status != 429


def _gone_ripe(watch: Watch, config: PollConfig, now: dt.datetime) -> bool:
    """True when one more 404 now would have lasted long enough to be believed."""
    since = watch.missing_since or now
    return watch.missing_count + 1 >= config.gone_after_polls and now - since >= dt.timedelta(
        seconds=config.gone_after_seconds
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
            or watch.read_error_noted  # owes "can read again"
            or state.is_paused
            or state.has_ended
            or shown.setdefault(watch.job_name, state) is not state
        ):
            mixed.add(watch.job_name)
    return {name: state for name, state in shown.items() if name not in mixed}


# A read that worked ends every run of errors and 404s.
READ_OK = WatchUpdate(error_count=0, read_error_count=0, missing_count=0, missing_since=None)


def _seen(job: TuningJob) -> WatchUpdate:
    return WatchUpdate(last_state=job.state, last_update_time=job.update_time)


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


_Step = tuple[Watch, Callable[[], Awaitable[None]]]


@dataclass
class _Shared:
    """What every location's work in one cycle shares."""

    store: PollStore
    reader: JobReader
    notifier: Notifier
    budget: RequestBudget
    owner: str
    config: PollConfig
    memory: PollerMemory
    report: CycleReport
    now: dt.datetime
    started: float
    shown: Mapping[str, JobState]
    ripe: frozenset[int]  # watches whose next 404 would be believed
    slots: asyncio.Semaphore  # Slack steps in flight, across locations
    stopping: asyncio.Event | None

    def release(self, watch_ids: Sequence[int]) -> Awaitable[int]:
        return self.store.release(watch_ids, self.owner)


async def _logged(step: Callable[[], Awaitable[None]]) -> None:
    try:
        await step()
    except Exception:  # one watch's failure must not stop the others
        log.exception("watch step failed")


async def _run_steps(steps: Sequence[_Step], cycle: _Cycle, shared: _Shared, *, late: bool) -> None:
    """Run the watches' steps, `concurrency` at a time.

    In the cycle itself a step still busy after `post_limit` (a hung `chat.postMessage`) goes
    on in the background with its lease, and its slot goes to the next watch. Work that is
    already late (`late`) has nobody waiting for it and runs each step to its end.
    """

    async def run(watch: Watch, step: Callable[[], Awaitable[None]]) -> None:
        if late:
            await _logged(step)
            return
        async with shared.slots:
            task = asyncio.create_task(_logged(step))
            try:
                done, _ = await asyncio.wait({task}, timeout=shared.config.post_limit)
            except asyncio.CancelledError:
                task.cancel()
                raise
        if not done:
            cycle.report.slow_steps += 1
            shared.memory.hand_over(task, [watch.id], shared.release)

    await _bounded(shared.config.concurrency, (functools.partial(run, w, s) for w, s in steps))


async def _handle_location(
    cycle: _Cycle,
    group: Sequence[Watch],
    results: Mapping[str, JobResult],
    shared: _Shared,
    *,
    late: bool = False,
) -> None:
    """Act on one location's results: endings first, then cards and notes, then quiet rows."""
    report = cycle.report
    endings: list[_Step] = []
    following: list[_Step] = []
    untouched: list[int] = []
    for watch in group:
        result = results.get(watch.job_name)
        if result is None:
            report.unread += 1
            untouched.append(watch.id)
        elif isinstance(result, _Missing):
            if result.confirmed and watch.id in shared.ripe:
                endings.append((watch, functools.partial(cycle.announce, watch, None)))
            else:
                following.append((watch, functools.partial(cycle.missing, watch)))
        elif isinstance(result, VertexError):
            following.append((watch, functools.partial(cycle.read_failed, watch, result)))
        elif result.state is JobState.UNSPECIFIED:
            # Google left the state out (or sent one we do not know): keep the last known
            # one. The card is not edited and nothing counts as changed.
            cycle.unchanged(
                watch, QuietJob(watch.last_state, watch.last_update_time, result.create_time)
            )
        elif isinstance(result, QuietJob):
            cycle.unchanged(watch, result)
        elif result.state.has_ended:
            endings.append((watch, functools.partial(cycle.announce, watch, result)))
        else:
            following.append((watch, functools.partial(cycle.follow, watch, result)))
    await cycle.store.release(untouched, cycle.owner)
    await _run_steps(endings, cycle, shared, late=late)
    if shared.stopping is not None and shared.stopping.is_set():
        return
    await _run_steps(following, cycle, shared, late=late)
    await cycle.flush_quiet()


async def _poll_location(location: Location, group: Sequence[Watch], shared: _Shared) -> None:
    """Read one location and act on it as soon as its answers are in, whatever the others do.

    Reads still running after `read_limit` (a region in a 503 storm, retried with backoff for
    up to two minutes; a hung request) go on in the background: the location's watches keep
    their leases, and are written when the answers arrive.
    """
    names = {w.job_name for w in group}
    ripe = {w.job_name for w in group if w.id in shared.ripe}
    read = asyncio.create_task(
        _read_location(
            shared.reader,
            shared.budget,
            location,
            names,
            shared.config,
            shared.memory,
            shared.report,
            shared.shown,
            ripe,
        )
    )
    try:
        done, _ = await asyncio.wait({read}, timeout=shared.config.read_limit)
    except asyncio.CancelledError:
        read.cancel()
        raise
    cycle = _Cycle(
        shared.store,
        shared.notifier,
        shared.owner,
        shared.config,
        shared.now,
        shared.report,
        shared.started,
    )
    if done:
        await _handle_location(cycle, group, read.result(), shared)
        return
    shared.report.slow_reads += 1
    log.info(
        "reads overran the cycle; finishing them in the background",
        extra={"location": location.parent},
    )

    async def finish() -> None:
        results = await read
        await _handle_location(cycle.later(shared.memory.late), group, results, shared, late=True)

    shared.memory.hand_over(finish(), [w.id for w in group], shared.release)


async def run_poll_cycle(
    store: PollStore,
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
    """Claim due watches, read their jobs location by location, announce endings first, then
    refresh changed cards; work that overruns its time limit finishes in the background."""
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
    if not claimed:
        return report
    report.jobs = len({w.job_name for w in claimed})
    groups: dict[Location, list[Watch]] = {}
    for watch in claimed:
        groups.setdefault(JobRef.from_name(watch.job_name).location, []).append(watch)
    shared = _Shared(
        store=store,
        reader=reader,
        notifier=notifier,
        budget=budget,
        owner=owner,
        config=config,
        memory=memory,
        report=report,
        now=now,
        started=started,
        shown=_shown_states(claimed),
        ripe=frozenset(w.id for w in claimed if _gone_ripe(w, config, now)),
        slots=asyncio.Semaphore(config.concurrency),
        stopping=stopping,
    )

    async def poll(location: Location, group: list[Watch]) -> None:
        try:
            await _poll_location(location, group, shared)
        except Exception:  # one location's failure must not stop the others
            log.exception("poll of one location failed", extra={"location": location.parent})

    try:
        await asyncio.gather(*(poll(loc, group) for loc, group in sorted(groups.items())))
    finally:
        # Whatever was not written (shutdown, cancellation) goes back to the pool now rather
        # than when the lease expires. Rows marked "announcing" keep that mark; rows whose
        # work goes on in the background keep their lease until it ends.
        busy = memory.busy()
        await asyncio.shield(store.release([w.id for w in claimed if w.id not in busy], owner))
    return report
