"""Discovery: the jobs a subscription has not seen yet, found once per cycle and location.

Each cycle, every subscribed project and region is looked at once: the first page of its
active listing (newest first) that the watcher's own reads fetched this cycle when they listed
the location, else one page listed here, spending the location's request budget like any read.
A job that passes a subscription's filter and was created after its `seen_until` becomes a
watch of its channel, unless the channel already watches it (a job started from the bot there,
or found by another replica a moment earlier: the store makes one watch either way). The new
watches are handled in the same cycle with the job as listed, so a card goes out within one
poll interval of the job's creation, with no extra read.

`seen_until` moves to `LISTING_SLACK` before now rather than to the newest job listed: Google
does not promise that a new job is listed at once, and a job listed late must still be new.
A location the bot may not read is told to each subscribed channel once (and recorded for
`/tune debug`); the note is not repeated until a read has succeeded again.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.tuning.job import TuningJob
from bot.tuning.refs import Location
from bot.tuning.states import ACTIVE_LIST_FILTER, ACTIVE_STATES
from bot.tuning.subscriptions import Subscription
from bot.vertex.errors import NotFound, PermissionDenied, Unauthenticated, VertexError
from bot.watch.budget import RequestBudget
from bot.watch.model import NewWatch, Watch, WatchKind
from bot.watch.notify import Notifier
from bot.watch.ports import JobReader, SubscriptionPort

log = logging.getLogger(__name__)

LISTING_SLACK = dt.timedelta(minutes=10)
# Pages of one location read for discovery in one cycle, at most (a burst of new jobs).
MAX_PAGES = 3


@dataclass
class Found:
    """What one cycle's discovery made: the new watches, each with its job as listed."""

    watches: list[tuple[Watch, TuningJob]] = field(default_factory=list)
    calls: int = 0


async def discover(
    store: SubscriptionPort,
    reader: JobReader,
    budget: RequestBudget,
    *,
    now: dt.datetime,
    page_size: int,
    listed: Mapping[Location, Sequence[TuningJob]],
    filter_rejected: set[Location],
    notes: Notifier | None,
    numbers: dict[str, str] | None = None,
) -> Found:
    """Look at every subscribed location once; returns the watches made. `numbers` maps the
    project ids subscriptions name to the project numbers Google names jobs by (learnt from
    listings, kept by the caller across cycles), so a page the watcher listed under the
    number serves a subscription of the id."""
    numbers = {} if numbers is None else numbers
    subscriptions = await store.subscriptions()
    by_location: dict[Location, list[Subscription]] = {}
    for sub in subscriptions:
        by_location.setdefault(sub.location, []).append(sub)
    found = Found()
    for location, subs in sorted(by_location.items()):
        try:
            await _location(
                store,
                reader,
                budget,
                location,
                subs,
                now,
                page_size,
                listed,
                filter_rejected,
                notes,
                found,
                numbers,
            )
        except Exception:  # one location's trouble must not stop the others, nor the cycle
            log.exception("discovery failed", extra={"location": location.parent})
    return found


async def _location(
    store: SubscriptionPort,
    reader: JobReader,
    budget: RequestBudget,
    location: Location,
    subs: list[Subscription],
    now: dt.datetime,
    page_size: int,
    listed: Mapping[Location, Sequence[TuningJob]],
    filter_rejected: set[Location],
    notes: Notifier | None,
    found: Found,
    numbers: dict[str, str],
) -> None:
    oldest = min(s.seen_until for s in subs)
    calls = 0
    known = Location(numbers.get(location.project, location.project), location.region)
    jobs: list[TuningJob] = list(listed.get(location) or listed.get(known) or ())
    try:
        if not jobs or _may_hold_more(jobs, oldest, page_size):
            jobs, calls = await _list(reader, budget, location, oldest, page_size, filter_rejected)
    except VertexError as error:
        await store.record_location_read(location, at=now, calls=calls, error=_reason(error))
        if isinstance(error, PermissionDenied | Unauthenticated | NotFound):
            await _tell_once(store, subs, _reason(error), notes)
        else:
            log.info("discovery read failed", extra={"location": location.parent})
        return
    found.calls += calls
    for job in jobs[:1]:
        numbers[location.project] = job.ref.project
    await store.record_location_read(location, at=now, calls=calls, error=None)
    recovered = [s.id for s in subs if s.access_error is not None]
    if recovered:
        await store.note_access(recovered, error=None, noted=False)
    pairs: list[tuple[Subscription, NewWatch]] = []
    for sub in subs:
        for job in jobs:
            if job.state in ACTIVE_STATES and sub.takes(job):
                pairs.append((sub, _new_watch(sub, job)))
    horizon = now - LISTING_SLACK
    moved = {s.id: horizon for s in subs if s.seen_until < horizon}
    if not pairs and not moved:
        return
    made = await store.adopt_discovered(pairs, moved, now=now)
    by_name = {job.ref.job_id: job for job in jobs}
    for watch in made:
        listed_job = by_name.get(watch.ref.job_id)
        if listed_job is not None:
            found.watches.append((watch, listed_job))
    if made:
        log.info(
            "subscriptions found new jobs",
            extra={"location": location.parent, "watches": len(made)},
        )


def _may_hold_more(jobs: Sequence[TuningJob], oldest: dt.datetime, page_size: int) -> bool:
    """A full page whose last job is still new to some subscription: more may follow."""
    last = jobs[-1].create_time
    return len(jobs) >= page_size and last is not None and last > oldest


async def _list(
    reader: JobReader,
    budget: RequestBudget,
    location: Location,
    oldest: dt.datetime,
    page_size: int,
    filter_rejected: set[Location],
) -> tuple[list[TuningJob], int]:
    jobs: list[TuningJob] = []
    calls = 0
    filter_text = None if location in filter_rejected else ACTIVE_LIST_FILTER
    if not budget.try_take(location):
        return jobs, calls
    calls += 1
    async for page in reader.list_pages(location, filter=filter_text, page_size=page_size):
        jobs.extend(page.jobs)
        if calls >= MAX_PAGES or not _may_hold_more(jobs, oldest, page_size):
            break
        if not budget.try_take(location):
            break
        calls += 1
    return jobs, calls


def _new_watch(sub: Subscription, job: TuningJob) -> NewWatch:
    return NewWatch(
        job_name=job.name,
        channel_id=sub.channel_id,
        started_by=sub.created_by,
        kind=WatchKind.SUBSCRIBED,
        state=job.state,
        language=sub.language,
        display_name=job.display_name,
        subscription_id=sub.id,
        events=sub.spec.events.value,
    )


def _reason(error: VertexError) -> str:
    return f"{error.status}: {error.message}" if error.status else error.message


async def _tell_once(
    store: SubscriptionPort, subs: list[Subscription], reason: str, notes: Notifier | None
) -> None:
    told: list[int] = []
    untold: list[int] = []
    for sub in subs:
        if sub.access_noted:
            continue
        try:
            if notes is not None:
                await notes.note_location_unreadable(sub, reason)
            told.append(sub.id)
        except Exception:  # a channel gone or Slack refusing: recorded, tried next cycle
            log.warning("could not tell the channel", extra={"channel": sub.channel_id})
            untold.append(sub.id)
    await store.note_access(told, error=reason, noted=True)
    await store.note_access(untold, error=reason, noted=False)
