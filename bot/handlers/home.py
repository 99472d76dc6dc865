"""The App Home tab's use case: a user's own jobs and the team's active ones, read cheaply.

What a Home shows is kept in this process for `HOME_CACHE_SECONDS` per user (and the team's
listing for as long, shared by everyone), and concurrent builds for one user share one read:
a burst of opens costs one Vertex `list`. Nothing is shared between replicas; each keeps its
own few seconds. Jobs the bot has read (listed, fetched, or handed over by the watcher) are
remembered too: an ended job never changes, so its details are read from Google once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.handlers.errors import GoogleFailed, Refused, google_failures
from bot.handlers.jobs import PERMISSIONS, Actor, TuningApi
from bot.tuning.access import AccessPolicy, Action
from bot.tuning.job import TuningJob
from bot.tuning.problems import Problem
from bot.tuning.refs import JobRef, Location
from bot.tuning.states import ACTIVE_LIST_FILTER, ACTIVE_STATES, JobState
from bot.vertex.errors import VertexError
from bot.watch.model import AuditEntry, Watch, WatchKind, WatchRepository

log = logging.getLogger(__name__)

HOME_CACHE_SECONDS = 5.0
ENDED_SHOWN = 10
ACTIVE_SHOWN = 20
TEAM_SHOWN = 25
TEAM_PAGE_SIZE = 50
GET_CONCURRENCY = 4
KNOWN_JOBS = 5_000
CACHED_HOMES = 10_000


@dataclass(frozen=True)
class HomeJob:
    """One of the user's jobs: its state as last known, and Google's details when read."""

    name: str
    state: JobState
    display_name: str | None
    job: TuningJob | None
    can_cancel: bool = False

    @property
    def ref(self) -> JobRef:
        """The job's reference."""
        return JobRef.from_name(self.name)


@dataclass(frozen=True)
class Home:
    """What one user's Home tab shows; `refusal` alone when they may not use the bot."""

    user_id: str
    location: Location
    refusal: Problem | None = None
    can_create: bool = False
    active: tuple[HomeJob, ...] = ()
    ended: tuple[HomeJob, ...] = ()
    team: tuple[TuningJob, ...] = ()
    team_more: bool = False
    team_problem: Problem | None = None


@dataclass(frozen=True)
class _Listing:
    at: float
    jobs: tuple[TuningJob, ...]
    more: bool
    problem: Problem | None


class HomeHandlers:
    """The `home` intent: the Home tab of one user, built at most once per few seconds."""

    def __init__(
        self,
        *,
        client: TuningApi,
        store: WatchRepository,
        location: Location,
        policy: AccessPolicy,
        ttl_seconds: float = HOME_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.store = store
        self.location = location
        self.policy = policy
        self._ttl = ttl_seconds
        self._clock = clock
        self._homes: OrderedDict[str, tuple[float, Home]] = OrderedDict()
        self._building: dict[str, asyncio.Future[Home]] = {}
        self._listing: _Listing | None = None
        self._listing_task: asyncio.Future[_Listing] | None = None
        self._known: OrderedDict[str, tuple[float, TuningJob]] = OrderedDict()

    # -- what others tell us ----------------------------------------------------------------
    def job_seen(self, job: TuningJob) -> None:
        """Remember a job as just read (the watcher hands over what it polled)."""
        self._known[job.ref.key] = (self._clock(), job)
        self._known.move_to_end(job.ref.key)
        while len(self._known) > KNOWN_JOBS:
            self._known.popitem(last=False)

    def forget(self, user_id: str) -> None:
        """Drop the user's cached Home: the next one is built afresh."""
        self._homes.pop(user_id, None)

    # -- the intent -------------------------------------------------------------------------
    async def home(self, actor: Actor, *, fresh: bool = False) -> Home:
        """The actor's Home: from the cache when a few seconds old at most (unless `fresh`);
        a build already under way for them is shared rather than repeated."""
        user = actor.user_id
        if not fresh:
            cached = self._homes.get(user)
            if cached is not None and self._clock() - cached[0] < self._ttl:
                return cached[1]
            running = self._building.get(user)
            if running is not None:
                return await asyncio.shield(running)
        started = self._clock()
        task = asyncio.ensure_future(self._build(actor))
        self._building[user] = task
        try:
            home = await asyncio.shield(task)
        finally:
            if self._building.get(user) is task:
                del self._building[user]
        self._homes[user] = (started, home)
        self._homes.move_to_end(user)
        while len(self._homes) > CACHED_HOMES:
            self._homes.popitem(last=False)
        return home

    async def detail(self, actor: Actor, name: str) -> TuningJob | None:
        """A job the actor's Home shows, as Google reports it now; None when it shows no such
        job (ask `JobHandlers.get`, which applies the usual rules).

        The Home is seen by its user alone, and so is this detail: only the user allow-list
        applies, as to the Home itself. Raises `Refused` or `GoogleFailed`.
        """
        home = await self.home(actor)
        if home.refusal is not None:
            raise Refused(home.refusal)
        shown = {e.name for e in (*home.active, *home.ended)} | {j.name for j in home.team}
        if name not in shown:
            return None
        with google_failures(self.location.project, name):
            job = await self.client.get(JobRef.from_name(name))
        self.job_seen(job)
        return job

    async def _build(self, actor: Actor) -> Home:
        user = actor.user_id
        # The Home tab is seen by its user alone, so only the user allow-list applies to it;
        # what its buttons do (create, cancel) is checked for the channel they post in.
        key = self.policy.user_refusal(user)
        if key is not None:
            await self._audit_refusal(actor, key)
            return Home(user, self.location, refusal=Problem.of(key))
        can_create = self.policy.refusal(PERMISSIONS["open_form"], user, actor.channel_id) is None
        # Several channels may follow one job: read enough rows for ten ended jobs.
        watches, listing = await asyncio.gather(
            self.store.watches_of_user(user, ended_limit=ENDED_SHOWN * 3), self._team()
        )
        team = self._current(listing)
        listed = {job.ref.key: job for job in team}
        active: list[HomeJob] = []
        ended: list[HomeJob] = []
        for group in _by_job(watches):
            entry = self._entry(actor, group, listed)
            if entry.state.has_ended or all(w.finished_at is not None for w in group):
                if len(ended) < ENDED_SHOWN:
                    ended.append(entry)
            elif len(active) < ACTIVE_SHOWN:
                active.append(entry)
        details = await self._details([*active, *ended], listed)
        return Home(
            user,
            self.location,
            can_create=can_create,
            active=tuple(_with(e, details) for e in active),
            ended=tuple(_with(e, details) for e in ended),
            team=tuple(team[:TEAM_SHOWN]),
            team_more=listing.more or len(team) > TEAM_SHOWN,
            team_problem=listing.problem,
        )

    def _entry(self, actor: Actor, group: list[Watch], listed: dict[str, TuningJob]) -> HomeJob:
        first = group[0]
        job = listed.get(first.ref.key)
        known = self._remembered(first.ref.key)
        # The watcher keeps each watch's state current and the listing is fresher still; a job
        # that ended stays ended, so whichever source saw the end is right.
        states = [j.state for j in (job, known) if j is not None] + [first.last_state]
        state = next((s for s in states if s.has_ended), states[0])
        owners = frozenset(w.started_by for w in group if w.kind is WatchKind.CREATED)
        may_cancel = (
            self.policy.refusal(Action.CANCEL, actor.user_id, actor.channel_id, owners) is None
        )
        stoppable = not state.has_ended and state is not JobState.CANCELLING
        return HomeJob(
            name=first.job_name,
            state=state,
            display_name=first.display_name,
            job=job,
            can_cancel=may_cancel and stoppable,
        )

    async def _details(
        self, entries: Iterable[HomeJob], listed: dict[str, TuningJob]
    ) -> dict[str, TuningJob]:
        """Model and times of each entry: listed, remembered, or read once with `get`."""
        found: dict[str, TuningJob] = {}
        missing: list[HomeJob] = []
        for entry in entries:
            key = entry.ref.key
            known = listed.get(key) or self._remembered(key)
            if known is not None and (known.state.has_ended or not entry.state.has_ended):
                found[key] = known
            else:
                missing.append(entry)
        slots = asyncio.Semaphore(GET_CONCURRENCY)

        async def read(entry: HomeJob) -> None:
            async with slots:
                try:
                    job = await self.client.get(entry.ref)
                except VertexError as exc:
                    log.info("home: job not read", extra={"job": entry.name, "error": exc.status})
                    return
            self.job_seen(job)
            found[entry.ref.key] = job

        await asyncio.gather(*(read(e) for e in missing))
        return found

    def _remembered(self, key: str) -> TuningJob | None:
        seen = self._known.get(key)
        return seen[1] if seen is not None else None

    def _current(self, listing: _Listing) -> list[TuningJob]:
        """The listed active jobs, with what was read of them since the listing."""
        jobs = []
        for job in listing.jobs:
            seen = self._known.get(job.ref.key)
            if seen is not None and seen[0] > listing.at:
                job = seen[1]
            if job.state in ACTIVE_STATES:
                jobs.append(job)
        return jobs

    async def _team(self) -> _Listing:
        """The default location's active jobs: one `list` call, shared for a few seconds."""
        listing = self._listing
        if listing is not None and self._clock() - listing.at < self._ttl:
            return listing
        if self._listing_task is None or self._listing_task.done():
            self._listing_task = asyncio.ensure_future(self._list_team())
        listing = await asyncio.shield(self._listing_task)
        self._listing = listing
        return listing

    async def _list_team(self) -> _Listing:
        at = self._clock()
        try:
            with google_failures(self.location.project):
                async for page in self.client.list_pages(
                    self.location, filter=ACTIVE_LIST_FILTER, page_size=TEAM_PAGE_SIZE
                ):
                    # Filtered here too: the filter is Google's to honour or ignore.
                    jobs = [j for j in page.jobs if j.state in ACTIVE_STATES]
                    jobs.sort(key=_newest_first)
                    for job in jobs:
                        self.job_seen(job)
                    return _Listing(at, tuple(jobs), bool(page.next_page_token), None)
        except GoogleFailed as exc:
            return _Listing(at, (), False, exc.problem)
        return _Listing(at, (), False, None)

    async def _audit_refusal(self, actor: Actor, key: str) -> None:
        try:
            await self.store.record_audit(
                AuditEntry(
                    actor.user_id, PERMISSIONS["home"].value, None, "refused", actor.channel_id, key
                )
            )
        except Exception:  # the user still sees why; the log says the audit failed
            log.exception("audit write failed", extra={"action": "home"})


def _by_job(watches: Iterable[Watch]) -> list[list[Watch]]:
    """The watches grouped per job (however Google spelt its project), first seen first."""
    groups: dict[str, list[Watch]] = {}
    for watch in watches:
        groups.setdefault(watch.ref.key, []).append(watch)
    return list(groups.values())


def _with(entry: HomeJob, details: dict[str, TuningJob]) -> HomeJob:
    job = details.get(entry.ref.key)
    if job is None:
        return entry
    return HomeJob(
        entry.name, entry.state, entry.display_name or job.display_name, job, entry.can_cancel
    )


def _newest_first(job: TuningJob) -> float:
    return -(job.create_time.timestamp() if job.create_time else 0.0)
