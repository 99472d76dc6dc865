"""The use cases: one method per thing a Slack user asks for, each authorising itself.

Every method takes the asking `Actor`, checks what they may do (the intent → permission table
is `PERMISSIONS`), does the work and returns what happened; a request it does not carry out
leaves as a `HandlerError` carrying the user's `Problem`. Refusals are audited here.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from bot.handlers.datasets import DatasetCheck, DatasetVerdict
from bot.handlers.errors import (
    BadInput,
    HandlerError,
    NotPosted,
    Refused,
    Unavailable,
    google_failures,
)
from bot.handlers.ports import CardPublisher
from bot.tuning.access import AccessPolicy, Action
from bot.tuning.advanced import AdvancedSettings
from bot.tuning.catalogue import Catalogue
from bot.tuning.dataset_uris import uri_allowed, validate_dataset_uri
from bot.tuning.job import TuningJob
from bot.tuning.problems import DomainError, Problem
from bot.tuning.projects import ProjectScope
from bot.tuning.refs import JobRef, Location, parse_job_ref
from bot.tuning.spec import SpecCheck, TuningJobSpec, continue_problem, validate_form
from bot.tuning.states import LIST_FILTERS, JobState
from bot.tuning.submission_key import submission_key
from bot.vertex.errors import FailedPrecondition, NotFound
from bot.vertex.submit import BACKGROUND_LOOKUP_DELAYS, QUICK_LOOKUP_DELAYS
from bot.watch.model import AuditEntry, NewWatch, WatchKind, WatchRepository
from bot.watch.notify import ChannelGone, NotifyError

log = logging.getLogger(__name__)

LIST_PAGE_SIZE = 20
LIST_MAX_PAGES_PER_ANSWER = 5

# What each intent needs the user to be allowed to do.
PERMISSIONS: Mapping[str, Action] = {
    "open_form": Action.CREATE,
    "submit": Action.CREATE,
    "cancel": Action.CANCEL,
    "watch": Action.WATCH,
    "unwatch": Action.WATCH,
    "list": Action.READ,
    "get": Action.READ,
    "check": Action.READ,
    "home": Action.READ,  # the App Home tab (bot.handlers.home): the user allow-list alone
    "preview": Action.READ,
    "try_model": Action.READ,  # bot.handlers.trying: anyone who may use the bot in the channel
    "chart": Action.READ,  # bot.handlers.charts: the training curves of a job
    # bot.handlers.subscriptions: what a channel hears about and how
    "subscribe": Action.WATCH,
    "unsubscribe": Action.WATCH,
    "subscriptions": Action.READ,
    "settings": Action.WATCH,
    "debug": Action.READ,
}
# Link previews read jobs concurrently, but only a few at a time: a message can hold several
# links, and Google's read quota is shared with the watcher.
PREVIEW_CONCURRENCY = 3


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


@dataclass(frozen=True)
class Created:
    """A submission's job, followed in the actor's channel.

    `repeat`: an earlier attempt of the same submission already made and announced it.
    `card_error`: Slack's reason when the card could not be posted (the watcher posts it later).
    `watch_lost`: the job exists but its watch could not be saved (the card was taken back).
    """

    job: TuningJob
    reused: bool = False
    repeat: bool = False
    card_error: str | None = None
    watch_lost: bool = False


@dataclass(frozen=True)
class Watched:
    """`/tune watch`: the job, and whether the channel already followed it."""

    job: TuningJob
    already: bool = False


@dataclass(frozen=True)
class Unwatched:
    """`/tune unwatch`: the job, and whether the channel was following it."""

    ref: JobRef
    removed: bool


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
        publisher: CardPublisher | None = None,
        check: DatasetCheck | None = None,
        advanced_defaults: AdvancedSettings | None = None,
    ) -> None:
        self.client = client
        self.publisher = publisher
        self._check = check
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
        # The configured service account and CMEK key: what the advanced settings start from.
        self.advanced_defaults = advanced_defaults or AdvancedSettings()

    # -- authorization ---------------------------------------------------------------------
    def _ref(self, text: str) -> JobRef:
        try:
            return parse_job_ref(text, self.location)
        except DomainError as exc:
            raise BadInput(exc.problem) from exc

    async def authorise(self, intent: str, actor: Actor, job: JobRef | None = None) -> None:
        """Raise `Refused` (audited) unless the actor may do `intent` (to `job`, if named)."""
        action = PERMISSIONS[intent]
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
            raise Refused(Problem.of(key))

    def _refused_at_once(self, intent: str, actor: Actor) -> Refused | None:
        # For an intent answered before any I/O (a form's ack); audited later by the caller.
        key = self.policy.refusal(PERMISSIONS[intent], actor.user_id, actor.channel_id)
        return Refused(Problem.of(key)) if key is not None else None

    async def record_refusal(self, intent: str, actor: Actor, refused: Refused) -> None:
        """Audit a refusal found by `check_submission`."""
        await self.audit(actor, PERMISSIONS[intent].value, None, "refused", refused.problem.key)

    async def _in_scope(self, actor: Actor, ref: JobRef, intent: str) -> JobRef:
        """`ref` when its project is one the bot may act in; raises `Refused` otherwise.

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
        action = PERMISSIONS[intent].value
        await self.audit(actor, action, ref.name, "refused", "auth.project_not_allowed")
        raise Refused(
            Problem.of(
                "auth.project_not_allowed",
                project=ref.project,
                allowed=", ".join(sorted(self.projects.allowed)),
            )
        )

    async def _job_for(self, intent: str, actor: Actor, text: str) -> JobRef:
        """The job the user named, once they may `intent` it and it is in the bot's projects."""
        ref = self._ref(text)
        await self.authorise(intent, actor, ref)
        return await self._in_scope(actor, ref, intent)

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
    async def open_form(self, actor: Actor, *, channel_later: bool = False) -> Catalogue:
        """May the actor create a job here? Returns the models the form offers.

        `channel_later`: the form asks where to post (opened from no channel), so only the
        user is checked now; the channel they choose is checked on submission.
        """
        if channel_later:
            key = self.policy.refusal(PERMISSIONS["open_form"], actor.user_id, None)
            if key is not None and key != "auth.channel_not_allowed":
                await self.audit(actor, PERMISSIONS["open_form"].value, None, "refused", key)
                raise Refused(Problem.of(key))
            return self.catalogue
        await self.authorise("open_form", actor)
        return self.catalogue

    def check_submission(
        self,
        actor: Actor,
        form: Mapping[str, str | None],
        *,
        pre_tuned_model: str | None = None,
    ) -> SpecCheck:
        """Check the form's values for the default region (no I/O: it runs in the ack);
        `pre_tuned_model` when the form continues tuning that tuned model.

        Raises `Refused`, not yet audited: the caller answers first, then `record_refusal`.
        """
        refused = self._refused_at_once("submit", actor)
        if refused is not None:
            raise refused
        return validate_form(
            form,
            catalogue=self.catalogue,
            region=self.location.region,
            today=self._today(),
            allowed_buckets=self._allowed_buckets,
            pre_tuned_model=pre_tuned_model,
        )

    async def rerun_source(self, actor: Actor, text: str, *, continuing: bool) -> TuningJob:
        """The job a form is filled from: the user may open the form and read the job (as
        `/tune get`); to continue tuning it, it must have succeeded from a model that allows it.
        """
        await self.authorise("open_form", actor)
        job = await self.get(actor, text)
        if not continuing:
            return job
        tuned = job.tuned_model.model if job.tuned_model else None
        if not job.state.succeeded or tuned is None:
            raise BadInput(Problem.of("rerun.continue_not_succeeded", job=job.ref.job_id))
        model = self.catalogue.get(job.base_model or "")
        problem = continue_problem(tuned, model, self.catalogue)
        if problem is not None:
            raise BadInput(problem)
        return job

    async def submit(
        self, actor: Actor, view_id: str, spec: TuningJobSpec, card_note: str | None = None
    ) -> Created:
        """Create the job once per (view, spec), post its card and follow it in the channel.

        A repeat finds the job made the first time; a create Google never confirmed raises
        `CreateUnconfirmed` (look it up with `find_created`, never send it again).
        """
        await self.authorise("submit", actor)
        key = submission_key(view_id, spec)
        with google_failures(self.location.project):
            try:
                submitted = await self._submit(self.location, spec, key)
            except Exception as exc:
                await self.audit(actor, "create", None, "failed", type(exc).__name__)
                raise
        self._learn(self.location.project, [submitted.job])
        created = await self.follow_created(actor, submitted.job, card_note)
        return replace(created, reused=submitted.reused)

    async def find_created(self, view_id: str, spec: TuningJobSpec) -> TuningJob | None:
        """The job an unconfirmed create of this submission made, once Google lists it."""
        if self._find_submitted is None:
            return None
        with google_failures(self.location.project):
            return await self._find_submitted(self.location, submission_key(view_id, spec))

    async def follow_created(
        self, actor: Actor, job: TuningJob, card_note: str | None = None
    ) -> Created:
        """Post the card of a job created from Slack and follow it in the channel; audited.

        A channel that already follows it (found late, after all) is left as it is.
        """
        if await self._already_followed(job.ref, actor.channel_id):
            return Created(job, repeat=True)
        card_error: str | None = None
        ts: str | None = None
        try:
            ts = await self._post_card(actor, job, started_by=actor.user_id, note=card_note)
        except NotifyError as exc:
            # The job exists; the watcher posts the card once the channel takes it.
            log.warning("status card not posted", extra={"job": job.name, "error": exc.error})
            card_error = exc.error
        try:
            await self._remember(actor, job, WatchKind.CREATED, ts, card_note)
        except Exception:
            # The paid job exists whatever the database says: the user is told how to follow
            # it, and the card, which nothing would ever update, is taken back.
            log.exception("watch not saved", extra={"job": job.name})
            await self._withdraw(actor, ts)
            return Created(job, card_error=card_error, watch_lost=True)
        return Created(job, card_error=card_error)

    async def _post_card(
        self,
        actor: Actor,
        job: TuningJob,
        *,
        started_by: str | None,
        note: str | None = None,
        watched_by: str | None = None,
    ) -> str | None:
        if self.publisher is None or actor.channel_id is None:
            return None
        return await self.publisher.post_card(
            actor.channel_id,
            job,
            started_by=started_by,
            language=actor.language,
            note=note,
            watched_by=watched_by,
        )

    async def _withdraw(self, actor: Actor, ts: str | None) -> None:
        if self.publisher is not None and actor.channel_id is not None and ts is not None:
            await self.publisher.withdraw_card(actor.channel_id, ts)

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
                card_stats=message_ts is not None and job.has_data_stats,
            )
        )
        action = "create" if kind is WatchKind.CREATED else "watch"
        await self.audit(actor, action, job.name, "ok", None)

    async def _already_followed(self, job: JobRef, channel_id: str | None) -> bool:
        """True when the channel still follows the job with a status message (a repeat).

        A finished watch (announced, or its channel was gone) does not count: watching again
        starts a new one.
        """
        watches = await self.store.watches_for_job(job)
        return any(
            w.channel_id == channel_id and w.message_ts and w.finished_at is None for w in watches
        )

    # -- datasets --------------------------------------------------------------------------
    async def check_dataset(
        self,
        actor: Actor,
        uri: str,
        *,
        checking: Callable[[], Awaitable[None]] | None = None,
    ) -> DatasetVerdict:
        """Check a `gs://` JSONL file for the default model; `checking` is awaited once the
        request was accepted, before the (slow) read starts."""
        await self.authorise("check", actor)
        if self._check is None:
            raise Unavailable(Problem.of("cmd.check_unavailable"))
        try:
            cleaned = validate_dataset_uri(uri)
        except DomainError as exc:
            raise BadInput(exc.problem) from exc
        if not uri_allowed(cleaned, self._allowed_buckets):
            # The bot's service account may read buckets the user cannot, so the allow-list
            # applies to a check as much as to a job.
            await self.audit(actor, "check", None, "refused", uri[:300])
            raise Refused(
                Problem.of("dataset.not_allowed", allowed=", ".join(self._allowed_buckets))
            )
        if checking is not None:
            await checking()
        return await self._check(uri, actor.language)

    async def check_submitted_datasets(
        self, actor: Actor, spec: TuningJobSpec, *, max_seconds: float
    ) -> DatasetVerdict | None:
        """Pre-flight of a submission's datasets for its model (None when checks are off)."""
        if self._check is None:
            return None
        check = self._check
        uris = [(spec.training_dataset_uri, False)]
        if spec.validation_dataset_uri:
            uris.append((spec.validation_dataset_uri, True))
        verdicts = await asyncio.gather(
            *(
                check(
                    uri,
                    actor.language,
                    model=spec.base_model,
                    validation=validation,
                    epochs=spec.epochs,
                    max_seconds=max_seconds,
                )
                for uri, validation in uris
            )
        )
        return DatasetVerdict(
            reports=tuple(report for v in verdicts for report in v.reports),
            summary=verdicts[0].summary,
            has_errors=any(v.has_errors for v in verdicts),
            has_warnings=any(v.has_warnings for v in verdicts),
        )

    @property
    def checks_datasets(self) -> bool:
        """Whether submissions are checked before their job is created."""
        return self._check is not None

    # -- read ------------------------------------------------------------------------------
    async def list_jobs(
        self, actor: Actor, filter_word: str, page_token: str | None = None
    ) -> JobListing:
        """Up to a page of jobs in the default location, newest first, filtered by state.

        The state filter is applied here (Google's list filter support is undocumented), so a
        few of Google's pages are read until a screenful matched or the listing ran out.
        """
        await self.authorise("list", actor)
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

    async def get(self, actor: Actor, text: str) -> TuningJob:
        """The job the user named, as Google reports it now."""
        return await self.read_for("get", actor, text)

    async def thread_for(self, job: TuningJob, channel_id: str) -> str | None:
        """The ts of the job's status message in the channel, whose thread holds its story."""
        for watch in await self.store.watches_for_job(job.ref):
            if watch.channel_id == channel_id and watch.message_ts:
                return watch.message_ts
        return None

    async def read_for(self, intent: str, actor: Actor, text: str) -> TuningJob:
        """The job the user named, once they may `intent` it here, as Google reports it now."""
        ref = await self._job_for(intent, actor, text)
        return await self._read(ref)

    async def _read(self, ref: JobRef) -> TuningJob:
        with google_failures(self.location.project, ref.name):
            job = await self.client.get(ref)
        self._learn(ref.project, [job])
        return job

    async def preview(self, actor: Actor, refs: Sequence[JobRef]) -> list[TuningJob | None]:
        """The jobs behind shared links, in order; None for each the actor may not read here,
        outside the bot's projects, or that Google does not show (403, 404, errors).

        A link preview is seen by everyone in the channel, so it says nothing at all about a
        job it cannot show: not even why.
        """
        if self.policy.refusal(PERMISSIONS["preview"], actor.user_id, actor.channel_id):
            return [None for _ in refs]
        gate = asyncio.Semaphore(PREVIEW_CONCURRENCY)

        async def one(ref: JobRef) -> TuningJob | None:
            async with gate:
                try:
                    return await self._read(await self._in_scope(actor, ref, "preview"))
                except HandlerError as exc:
                    log.info("link not previewed", extra={"job": ref.name, "outcome": exc.outcome})
                    return None

        return list(await asyncio.gather(*(one(ref) for ref in refs)))

    # -- change ----------------------------------------------------------------------------
    async def cancel(self, actor: Actor, text: str) -> TuningJob:
        """Ask Google to cancel the job (its starter or an admin only); returns it after."""
        ref = await self._job_for("cancel", actor, text)
        with google_failures(self.location.project, ref.name):
            try:
                try:
                    await self.client.cancel(ref)
                except FailedPrecondition:
                    # Google refuses to cancel a job that has ended, also when a retried cancel's
                    # first attempt took effect: the job's state then says what to tell the user
                    # (Google's own text is English and names an enum).
                    job = await self.client.get(ref)
                    if job.state is not JobState.CANCELLING and not job.state.has_ended:
                        raise
                    if job.state is JobState.CANCELLING:
                        await self._note_canceller(ref, actor)
                else:
                    # Noted before anything else is asked of Google, so that the watcher,
                    # which announces only once the job is CANCELLED, finds it already there.
                    await self._note_canceller(ref, actor)
                    job = await self.client.get(ref)
            except Exception as exc:
                await self.audit(actor, "cancel", ref.name, "failed", type(exc).__name__)
                raise
        over = job.state.has_ended and job.state is not JobState.CANCELLED
        await self.audit(actor, "cancel", ref.name, "already_ended" if over else "ok", None)
        return job

    async def _note_canceller(self, ref: JobRef, actor: Actor) -> None:
        # Google has taken the cancel: a store that fails now must not turn that into an
        # error for the user; the card and the ending then just name nobody.
        try:
            await self.store.record_cancelled_by(ref, actor.user_id)
        except Exception:
            log.warning("could not note who cancelled the job", exc_info=True)

    async def watch(self, actor: Actor, text: str) -> Watched:
        """Follow an existing job in the actor's channel: post its card, store the watch."""
        ref = await self._job_for("watch", actor, text)
        job = await self._read(ref)
        if await self._already_followed(job.ref, actor.channel_id):
            return Watched(job, already=True)
        try:
            ts = await self._post_card(actor, job, started_by=None, watched_by=actor.user_id)
        except NotifyError as exc:
            key = "sub.not_in_channel" if isinstance(exc, ChannelGone) else "sub.post_failed"
            raise NotPosted(Problem.of(key, error=exc.error)) from exc
        try:
            await self._remember(actor, job, WatchKind.WATCHED, ts)
        except Exception:
            await self._withdraw(actor, ts)
            raise
        return Watched(job)

    async def unwatch(self, actor: Actor, text: str) -> Unwatched:
        """Stop this channel following the job."""
        ref = await self._job_for("unwatch", actor, text)
        removed = False
        if actor.channel_id is not None:
            removed = await self.store.remove_watch(ref, actor.channel_id)
        await self.audit(actor, "unwatch", ref.name, "ok" if removed else "not_watching", None)
        return Unwatched(ref, removed)


def _newest_first(job: TuningJob) -> float:
    return -(job.create_time.timestamp() if job.create_time else 0.0)
