"""Job operations for one Slack user: authorization, the Vertex calls, watches and the audit."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from bot.handlers.errors import google_failures
from bot.tuning.access import AccessPolicy, Action
from bot.tuning.catalogue import Catalogue
from bot.tuning.dataset_uris import uri_allowed, validate_dataset_uri
from bot.tuning.job import TuningJob
from bot.tuning.problems import DomainError, Problem
from bot.tuning.projects import ProjectScope
from bot.tuning.refs import JobRef, Location
from bot.tuning.spec import SpecCheck, TuningJobSpec, validate_form
from bot.tuning.states import LIST_FILTERS, JobState
from bot.tuning.submission_key import submission_key
from bot.vertex.errors import FailedPrecondition, NotFound
from bot.vertex.submit import BACKGROUND_LOOKUP_DELAYS, QUICK_LOOKUP_DELAYS
from bot.watch.model import AuditEntry, NewWatch, WatchKind, WatchRepository

log = logging.getLogger(__name__)

LIST_PAGE_SIZE = 20
LIST_MAX_PAGES_PER_ANSWER = 5


class TuningApi(Protocol):
    """The parts of the Vertex tuning client the handlers use."""

    async def get(self, ref: JobRef) -> TuningJob:
        """The job as Google reports it now."""
        ...

    async def cancel(self, ref: JobRef) -> None:
        """Ask Google to cancel the job."""
        ...

    def list_pages(
        self,
        location: Location,
        *,
        filter: str | None = None,
        page_size: int | None = None,
        page_token: str | None = None,
    ) -> AsyncIterator[Any]:
        """Pages of jobs in a location, newest first, from `page_token` if given."""
        ...


class Submitted(Protocol):
    """What submitting returns: the job and whether an earlier submission already made it."""

    @property
    def job(self) -> TuningJob:
        """The tuning job."""
        ...

    @property
    def reused(self) -> bool:
        """True when an earlier attempt of the same submission had already created it."""
        ...


# (location, spec, submission key) → the job, created at most once per key.
Submitter = Callable[[Location, TuningJobSpec, str], Awaitable[Submitted]]
# (location, submission key) → the job created for that key, if Google lists it.
SubmissionFinder = Callable[[Location, str], Awaitable[TuningJob | None]]


@dataclass
class CreateLookups:
    """When to look for a job whose create Google never confirmed: while the form waits, then
    in the background, before the user is offered to create it again."""

    quick: tuple[float, ...] = QUICK_LOOKUP_DELAYS
    background: tuple[float, ...] = BACKGROUND_LOOKUP_DELAYS


@dataclass(frozen=True)
class Actor:
    """Who asks, from where, and in which language they read."""

    user_id: str
    channel_id: str | None
    language: str = "en"


@dataclass(frozen=True)
class JobListing:
    """One page of jobs for `/tune list`, newest first, and the token of the next page."""

    jobs: list[TuningJob]
    next_page_token: str | None


class JobHandlers:
    """Create, list, get, cancel, watch and unwatch on behalf of Slack users."""

    def __init__(
        self,
        *,
        client: TuningApi,
        submit: Submitter,
        store: WatchRepository,
        location: Location,
        policy: AccessPolicy,
        catalogue: Catalogue,
        find_submitted: SubmissionFinder | None = None,
        allowed_buckets: tuple[str, ...] = (),
        today: Callable[[], dt.date] = lambda: dt.datetime.now(dt.UTC).date(),
        lookups: CreateLookups | None = None,
        projects: ProjectScope | None = None,
    ) -> None:
        self.client = client
        self.projects = projects or ProjectScope(frozenset({location.project}))
        self.lookups = lookups or CreateLookups()
        self._find_submitted = find_submitted
        self.store = store
        self.location = location
        self.policy = policy
        self.catalogue = catalogue
        self._submit = submit
        self._allowed_buckets = allowed_buckets
        self._today = today

    # -- authorization ---------------------------------------------------------------------
    async def refusal(self, action: Action, actor: Actor, job: JobRef | None = None) -> str | None:
        """None when allowed, else the i18n key of the reason (the refusal is audited)."""
        owners: frozenset[str] = frozenset()
        if action is Action.CANCEL and job is not None:
            # Whoever started the job from Slack; watching a job grants no right to cancel it.
            owners = frozenset(
                w.started_by
                for w in await self.store.watches_for_job(job)
                if w.kind is WatchKind.CREATED
            )
        key = self.policy.refusal(action, actor.user_id, actor.channel_id, owners)
        if key is not None:
            await self.audit(actor, action.value, job.name if job else None, "refused", key)
        return key

    async def in_scope(self, actor: Actor, ref: JobRef, action: Action) -> JobRef:
        """`ref` when its project is one the bot may act in; raises DomainError otherwise.

        A project number the bot has not seen yet is resolved by asking Google for the job
        under each allowed project id: only if Google names it with that number is it ours.
        """
        allowed = self.projects.allows(ref.project)
        if allowed is None:
            for project in self.projects.ids:
                with google_failures(self.location.project, ref.name):
                    try:
                        job = await self.client.get(JobRef(project, ref.region, ref.job_id))
                    except NotFound:
                        continue
                self.projects.learn(project, job.ref.project)
                if job.ref.project == ref.project:
                    return ref
        elif allowed:
            return ref
        await self.audit(actor, action.value, ref.name, "refused", "auth.project_not_allowed")
        raise DomainError(
            Problem.of(
                "auth.project_not_allowed",
                project=ref.project,
                allowed=", ".join(sorted(self.projects.allowed)),
            )
        )

    def _learn(self, asked: str, jobs: Iterable[TuningJob]) -> None:
        for job in jobs:
            self.projects.learn(asked, job.ref.project)

    async def audit(
        self, actor: Actor, action: str, job_name: str | None, outcome: str, detail: str | None
    ) -> None:
        """Append to the audit table; a failing audit is logged, never shown to the user."""
        try:
            await self.store.record_audit(
                AuditEntry(actor.user_id, action, job_name, outcome, actor.channel_id, detail)
            )
        except Exception:  # the user's request already happened; keep answering them
            log.exception("audit write failed", extra={"action": action, "job": job_name})

    # -- create ----------------------------------------------------------------------------
    def validate(self, form: Mapping[str, str | None]) -> SpecCheck:
        """Check the modal's values for the default region."""
        return validate_form(
            form,
            catalogue=self.catalogue,
            region=self.location.region,
            today=self._today(),
            allowed_buckets=self._allowed_buckets,
        )

    async def create(self, actor: Actor, view_id: str, spec: TuningJobSpec) -> Submitted:
        """Create the job once per (view, spec): a repeat finds the job made the first time."""
        key = submission_key(view_id, spec)
        with google_failures(self.location.project):
            try:
                submitted = await self._submit(self.location, spec, key)
            except Exception as exc:
                await self.audit(actor, "create", None, "failed", type(exc).__name__)
                raise
        self._learn(self.location.project, [submitted.job])
        return submitted

    async def find_created(self, view_id: str, spec: TuningJobSpec) -> TuningJob | None:
        """The job an unconfirmed create of this submission made, once Google lists it."""
        if self._find_submitted is None:
            return None
        with google_failures(self.location.project):
            return await self._find_submitted(self.location, submission_key(view_id, spec))

    def dataset_problem(self, uri: str) -> Problem | None:
        """Why a dataset location may not be read for this user (bad URI, bucket not allowed).

        The bot's service account may read buckets the user cannot, so the allow-list applies
        to a check as much as to a job.
        """
        try:
            cleaned = validate_dataset_uri(uri)
        except DomainError as exc:
            return exc.problem
        if not uri_allowed(cleaned, self._allowed_buckets):
            return Problem.of("dataset.not_allowed", allowed=", ".join(self._allowed_buckets))
        return None

    async def follow_created(
        self, actor: Actor, job: TuningJob, message_ts: str | None, card_note: str | None
    ) -> None:
        """Follow a job just created from Slack in its channel, with its card; audited."""
        await self._remember(actor, job, WatchKind.CREATED, message_ts, card_note)

    async def follow_watched(self, actor: Actor, job: TuningJob, message_ts: str | None) -> None:
        """Follow an existing job (`/tune watch`) in the actor's channel, with its card; audited."""
        await self._remember(actor, job, WatchKind.WATCHED, message_ts)

    async def _remember(
        self,
        actor: Actor,
        job: TuningJob,
        kind: WatchKind,
        message_ts: str | None,
        card_note: str | None = None,
    ) -> None:
        """Store the channel's watch of the job with its status message, and audit it."""
        if actor.channel_id is None:
            return
        await self.store.add_watch(
            NewWatch(
                job_name=job.name,
                channel_id=actor.channel_id,
                started_by=actor.user_id,
                kind=kind,
                state=job.state,
                message_ts=message_ts,
                language=actor.language,
                display_name=job.display_name,
                card_note=card_note,
            )
        )
        action = "create" if kind is WatchKind.CREATED else "watch"
        await self.audit(actor, action, job.name, "ok", None)

    async def already_announced(self, job: JobRef, channel_id: str | None) -> bool:
        """True when the channel still follows the job with a status message (a repeat).

        A finished watch (announced, or its channel was gone) does not count: watching again
        starts a new one.
        """
        watches = await self.store.watches_for_job(job)
        return any(
            w.channel_id == channel_id and w.message_ts and w.finished_at is None for w in watches
        )

    # -- read ------------------------------------------------------------------------------
    async def list_jobs(self, filter_word: str, page_token: str | None = None) -> JobListing:
        """Up to a page of jobs in the default location, newest first, filtered by state.

        The state filter is applied here (Google's list filter support is undocumented), so a
        few of Google's pages are read until a screenful matched or the listing ran out.
        """
        states = LIST_FILTERS.get(filter_word)
        jobs: list[TuningJob] = []
        next_token: str | None = None
        pages_read = 0
        with google_failures(self.location.project):
            async for page in self.client.list_pages(
                self.location, page_size=LIST_PAGE_SIZE, page_token=page_token
            ):
                jobs.extend(j for j in page.jobs if states is None or j.state in states)
                next_token = page.next_page_token or None
                pages_read += 1
                if len(jobs) >= LIST_PAGE_SIZE or pages_read >= LIST_MAX_PAGES_PER_ANSWER:
                    break
        jobs.sort(key=_newest_first)
        self._learn(self.location.project, jobs)
        return JobListing(jobs, next_token)

    async def get(self, ref: JobRef) -> TuningJob:
        """The job as Google reports it now."""
        with google_failures(self.location.project, ref.name):
            job = await self.client.get(ref)
        self._learn(ref.project, [job])
        return job

    # -- change ----------------------------------------------------------------------------
    async def cancel(self, actor: Actor, ref: JobRef) -> TuningJob:
        """Ask Google to cancel (the caller checked `refusal` first); returns the job after."""
        with google_failures(self.location.project, ref.name):
            try:
                try:
                    await self.client.cancel(ref)
                except FailedPrecondition:
                    # A retried cancel whose first attempt took effect is refused as "already
                    # ended"; that is success if the job is on its way to CANCELLED.
                    job = await self.client.get(ref)
                    if job.state not in (JobState.CANCELLING, JobState.CANCELLED):
                        raise
                job = await self.client.get(ref)
            except Exception as exc:
                await self.audit(actor, "cancel", ref.name, "failed", type(exc).__name__)
                raise
        await self.audit(actor, "cancel", ref.name, "ok", None)
        return job

    async def unwatch(self, actor: Actor, ref: JobRef) -> bool:
        """Stop this channel watching the job; False when it was not watching."""
        removed = False
        if actor.channel_id is not None:
            removed = await self.store.remove_watch(ref, actor.channel_id)
        await self.audit(actor, "unwatch", ref.name, "ok" if removed else "not_watching", None)
        return removed


def _newest_first(job: TuningJob) -> float:
    return -(job.create_time.timestamp() if job.create_time else 0.0)
