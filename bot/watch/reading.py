"""Reading one location's watched jobs with as few requests as possible.

The claimed watches are grouped by job (channels watching the same job share one read) and the
jobs by project and region. A lone job is read with `get`. Several jobs in one location are
read with a paged `list` filtered to the active states, stopping as soon as every watched job
was seen, when one is left, or once the pages read reach half the location's watched jobs (a
page must save `get`s to be worth it). Listed jobs are matched to watches by job id, since
Google names them by project number whatever the watch says.

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
flat with 10,000 watches (unless Google now reports data statistics that a card lacks).

A 404 of a job whose 404s have lasted long enough to be believed (`ripe`) leads to the
unfiltered listing of the location, read to its last page; the job comes back `GONE` only when
the listing agrees, and `MISSING` (one more 404, not believed) otherwise.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.tuning.job import TuningJob
from bot.tuning.refs import JobRef, Location
from bot.tuning.states import ACTIVE_LIST_FILTER, ACTIVE_STATES, JobState
from bot.vertex.errors import InvalidArgument, NotFound, VertexError
from bot.watch.budget import RequestBudget
from bot.watch.ports import JobReader
from bot.watch.tasks import bounded

log = logging.getLogger(__name__)

_ACTIVE_FILTER = ACTIVE_LIST_FILTER


@dataclass(frozen=True, slots=True)
class Missing:
    """A `get` answered 404. `confirmed`: the whole unfiltered listing of the location, read in
    the same cycle, did not hold the job either."""

    confirmed: bool


MISSING = Missing(confirmed=False)  # one more 404, not (yet) believed
GONE = Missing(confirmed=True)  # 404 and absent from the listing


@dataclass(frozen=True, slots=True)
class QuietJob:
    """A job whose state every claimed watch already shows: all the cycle still needs of it.

    Keeping this instead of the full `TuningJob` holds memory flat with 10,000 watches.
    """

    state: JobState
    update_time: dt.datetime | None
    create_time: dt.datetime | None


JobResult = TuningJob | QuietJob | Missing | VertexError | None  # None: not read (budget spent)


@dataclass(frozen=True)
class ReadContext:
    """What the reads of every location in one cycle share."""

    reader: JobReader
    budget: RequestBudget
    page_size: int
    concurrency: int  # `get`s in flight per location
    # Locations whose server rejected the state filter: listed unfiltered from then on.
    filter_rejected: set[Location]
    calls: Counter[str]  # requests sent, by method
    # Jobs whose every claimed watch shows this state (see `QuietJob`).
    shown: Mapping[str, JobState]
    # Jobs with a claimed card that lacks Google's data statistics: once the job has them it
    # is not quiet, whatever its state.
    awaiting_stats: Collection[str] = frozenset()
    # Jobs whose whole answer the cycle needs whatever their state (their curves are due).
    wanted: Collection[str] = frozenset()
    # The first page of each location's active listing read this cycle, newest first: the
    # subscriptions' discovery looks there before it lists a location itself.
    first_pages: dict[Location, Sequence[TuningJob]] = field(default_factory=dict)


# The unfiltered scan may cost at most this many requests more than one `get` per job found,
# and stops after this many pages in a row without a watched job (the rest are older).
_SCAN_SLACK = 2

# After a page: how many watched jobs it held, pages read so far -> read the next one?
_MorePages = Callable[[int, int], bool]


async def read_location(
    context: ReadContext, location: Location, names: Collection[str], ripe: Collection[str] = ()
) -> dict[str, JobResult]:
    """Read one location's jobs; a 404 of a job in `ripe` is checked against the listing."""
    return await _LocationRead(context, location, names).read(ripe)


async def read_jobs(
    context: ReadContext, names: Iterable[str], ripe: Collection[str] = ()
) -> dict[str, JobResult]:
    """Read the current state of every named job, one group of requests per location.

    Jobs in `context.shown` come back as `QuietJob` when that state has not changed. A job in
    `ripe` that answers 404 is looked for in its location's unfiltered listing and comes back
    `GONE` when that does not hold it either.
    """
    by_location: dict[Location, set[str]] = {}
    for name in names:
        by_location.setdefault(JobRef.from_name(name).location, set()).add(name)
    parts = await asyncio.gather(
        *(read_location(context, loc, group, ripe) for loc, group in sorted(by_location.items()))
    )
    merged: dict[str, JobResult] = {}
    for part in parts:
        merged.update(part)
    return merged


class _LocationRead:
    """The reads of one location in one cycle: the watched jobs not seen yet, and the results
    of the others."""

    def __init__(self, context: ReadContext, location: Location, names: Collection[str]) -> None:
        self.context = context
        self.location = location
        self.several = len(names) > 1
        self.unseen = set(names)
        self.results: dict[str, JobResult] = {}

    async def read(self, ripe: Collection[str]) -> dict[str, JobResult]:
        """List the location when that pays, `get` the rest, then check believable 404s."""
        if self.several:
            use_filter = self.location not in self.context.filter_rejected
            try:
                filtered = await self._list_active(use_filter)
            except InvalidArgument:
                if not use_filter:
                    raise
                log.info("list filter rejected", extra={"location": self.location.parent})
                self.context.filter_rejected.add(self.location)
                filtered = await self._list_active(False)
            except VertexError as error:
                # A failed listing is every job's failure: they back off, other locations go on.
                return self._fail_unseen(error)
            if len(self.unseen) > 1 and filtered:
                # Several watched jobs left the active listing at once (a mass cancel, a quota
                # event): the unfiltered listing, newest first, holds a page's worth of them
                # per request where `get` costs one request each.
                try:
                    await self._scan_all()
                except VertexError as error:
                    return self._fail_unseen(error)
        await bounded(
            self.context.concurrency,
            (functools.partial(self._get, n) for n in sorted(self.unseen)),
        )
        absent = {name for name in ripe if self.results.get(name) is MISSING}
        if absent:
            await self._confirm_gone(absent)
        return self.results

    def _keep(self, job: TuningJob, name: str) -> TuningJob | QuietJob:
        if self.context.shown.get(name) is not job.state:
            return job
        if job.has_data_stats and name in self.context.awaiting_stats:
            return job
        if name in self.context.wanted:
            return job
        return QuietJob(job.state, job.update_time, job.create_time)

    async def _get(self, name: str) -> None:
        context = self.context
        if not context.budget.try_take(self.location):
            self.results[name] = None
            return
        context.calls["get"] += 1
        try:
            self.results[name] = self._keep(await context.reader.get(JobRef.from_name(name)), name)
        except NotFound:
            self.results[name] = MISSING
        except VertexError as error:
            self.results[name] = error

    def _fail_unseen(self, error: VertexError) -> dict[str, JobResult]:
        for name in self.unseen:
            self.results[name] = error
        return self.results

    async def _confirm_gone(self, absent: set[str]) -> None:
        """Look for jobs that keep answering 404 in the whole unfiltered listing.

        Only a listing read to its end proves a job absent (it becomes `GONE`); one that shows
        the job brings it back, and one cut short (budget spent, an error) leaves the 404
        unconfirmed until the next poll. Rare (once per vanished job), so its cost is not
        bounded further.
        """
        unseen = set(absent)
        try:
            complete = await self._list_into(unseen, None, lambda _hits, _pages: bool(unseen))
        except VertexError as error:
            log.info("listing to confirm a 404 failed", extra={"error": str(error)})
            return
        if complete:
            for name in unseen:
                self.results[name] = GONE

    async def _list_active(self, use_filter: bool) -> bool:
        """Page through the active jobs until every watched one was seen (or paging stops
        paying). True when the answer held only active jobs: the server applied the state
        filter, so jobs that ended are still to be found (False when listed unfiltered, or when
        Google ignored the filter)."""
        total = len(self.unseen)
        all_active = True

        def more(_hits: int, pages_read: int) -> bool:
            # Another page pays off while it can still save `get`s; a straggler costs one each.
            return len(self.unseen) > 1 and pages_read * 2 < total

        def note(job: TuningJob) -> None:
            nonlocal all_active
            if job.state not in ACTIVE_STATES:
                all_active = False

        first: list[TuningJob] = []
        await self._list_into(
            self.unseen, _ACTIVE_FILTER if use_filter else None, more, note, first_page=first
        )
        if use_filter and first:
            self.context.first_pages[self.location] = first
        return use_filter and all_active

    async def _scan_all(self) -> None:
        """Find ended jobs in the unfiltered listing, newest first, while pages beat `get`s.

        Cost is bounded either way: the scan stops once it has spent `_SCAN_SLACK` requests
        more than the `get`s it saved, or after `_SCAN_SLACK` pages in a row held none of the
        missing jobs (an old job behind thousands of newer ones is then read with `get`), or
        when a single job is left (a `get` costs the same as a page and is certain to find it).
        """
        found, dry = 0, 0

        def more(hits: int, pages_read: int) -> bool:
            nonlocal found, dry
            found += hits
            dry = 0 if hits else dry + 1
            return len(self.unseen) > 1 and pages_read < found + _SCAN_SLACK and dry < _SCAN_SLACK

        await self._list_into(self.unseen, None, more)

    async def _list_into(
        self,
        unseen: set[str],
        filter_text: str | None,
        more: _MorePages,
        note: Callable[[TuningJob], None] | None = None,
        *,
        first_page: list[TuningJob] | None = None,
    ) -> bool:
        """Page through `list`, moving the watched jobs it shows from `unseen` into the results.

        Each page spends one unit of the budget; `more` decides after each page whether the
        next one is worth a request. `note` sees every listed job, watched or not. True when
        the listing was read to its last page.
        """
        context, location = self.context, self.location
        if not unseen or not context.budget.try_take(location):
            return False
        context.calls["list"] += 1
        pages_read = 0
        # Google may name jobs by project number where the watch has the project id: match on
        # the job id, which is unique within the location.
        by_job_id = {JobRef.from_name(name).job_id: name for name in unseen}
        pages = context.reader.list_pages(location, filter=filter_text, page_size=context.page_size)
        try:
            async for page in pages:
                if first_page is not None and pages_read == 0:
                    first_page.extend(page.jobs)
                hits = 0
                for job in page.jobs:
                    if note is not None:
                        note(job)
                    name = by_job_id.get(job.ref.job_id)
                    if name is not None and name in unseen:
                        unseen.discard(name)
                        self.results[name] = self._keep(job, name)
                        hits += 1
                pages_read += 1
                if not more(hits, pages_read) or not context.budget.try_take(location):
                    return False
                context.calls["list"] += 1
            # The last page cost nothing extra: give back the token taken for "the next page".
            context.calls["list"] -= 1
            context.budget.refund(location)
            return True
        finally:
            aclose = getattr(pages, "aclose", None)
            if aclose is not None:
                await aclose()
