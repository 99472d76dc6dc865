"""Channel subscriptions: `/tune subscribe`, `unsubscribe`, `subscriptions`, `settings`, `debug`.

Subscribing is two steps with the chat service in between. `prepare` checks everything that
can be checked without storing anything: who asks and where, the words, the project, and that
the bot's credentials can read the location (one listing of its active jobs, which also finds
the jobs to back-fill). The Slack layer then posts the public notice, which is what shows the
bot may post in the channel at all; only once it is there does `commit` store the
subscription and turn the running jobs that match into watches of the channel.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Protocol

from bot.handlers.errors import BadInput, Refused, google_failures
from bot.handlers.jobs import PERMISSIONS, Actor, JobHandlers
from bot.tuning.job import TuningJob
from bot.tuning.problems import DomainError, Problem
from bot.tuning.refs import Location
from bot.tuning.states import ACTIVE_LIST_FILTER, ACTIVE_STATES
from bot.tuning.subscriptions import (
    ChannelDebug,
    ChannelSettings,
    DeliveryError,
    LocationRead,
    Subscription,
    SubscriptionSpec,
    parse_subscription,
)
from bot.watch.model import NewWatch, Watch, WatchKind
from bot.watch.subscription_store import Subscribed

# One listing of a location's active jobs at subscribe time: pages of this size, at most
# this many (a location with more running jobs than that gets the newest back-filled).
ACTIVE_PAGE_SIZE = 100
ACTIVE_MAX_PAGES = 3
# How many followed jobs `/tune debug` names.
FOLLOWED_SAMPLE = 10
DEBUG_ERRORS = 10


class SubscriptionStore(Protocol):
    """The part of `bot.watch.subscription_store.SqlSubscriptionStore` the commands use."""

    async def subscribe(
        self, channel_id: str, spec: SubscriptionSpec, user_id: str, *, now: dt.datetime
    ) -> Subscribed:
        """Store the channel's subscription of `spec.location` (or replace its filters)."""
        ...

    async def unsubscribe(self, channel_id: str, location: Location) -> Subscription | None:
        """Remove the channel's subscription of `location`; returns what was removed."""
        ...

    async def subscription(self, channel_id: str, location: Location) -> Subscription | None:
        """The channel's subscription of `location`, if any."""
        ...

    async def subscriptions(self, channel_id: str | None = None) -> list[Subscription]:
        """The channel's subscriptions, oldest first."""
        ...

    async def adopt_discovered(
        self,
        found: Iterable[tuple[Subscription, NewWatch]],
        seen_until: Mapping[int, dt.datetime],
        *,
        now: dt.datetime,
    ) -> list[Watch]:
        """A watch for each (subscription, job) where the channel has none."""
        ...

    async def settings(self, channel_ids: Iterable[str]) -> dict[str, ChannelSettings]:
        """Each channel's settings (the defaults for a channel that saved none)."""
        ...

    async def save_settings(
        self, channel_id: str, settings: ChannelSettings, user_id: str, *, now: dt.datetime
    ) -> None:
        """Store the channel's settings."""
        ...

    async def location_reads(self, locations: Iterable[Location]) -> dict[Location, LocationRead]:
        """Discovery's last read of each location that had one."""
        ...

    async def delivery_errors(self, channel_id: str, limit: int = 10) -> list[DeliveryError]:
        """The channel's most recent delivery errors, newest first."""
        ...

    async def followed(self, channel_id: str, limit: int = 10) -> tuple[int, list[Watch]]:
        """How many unfinished watches the channel has, and the newest `limit` of them."""
        ...


@dataclass(frozen=True)
class Prepared:
    """A subscription checked and ready to store: what was asked, the running jobs it takes
    now, and how it will read once stored (`preview`, for the channel's notice)."""

    spec: SubscriptionSpec
    running: tuple[TuningJob, ...]
    preview: Subscription
    replaces: Subscription | None = None  # the channel's subscription of the location so far


@dataclass(frozen=True)
class SubscribeOutcome:
    """What `commit` stored: the subscription, whether it is new (else its filters changed),
    and how many running jobs became watches of the channel."""

    subscription: Subscription
    created: bool
    backfilled: int


@dataclass(frozen=True)
class Unsubscribed:
    """`/tune unsubscribe`: the location named, and the subscription removed (None: the
    channel had none there)."""

    location: Location
    removed: Subscription | None


class NotYours(Refused):
    """Someone other than its creator (and no admin) asked to remove a subscription."""

    def __init__(self, subscription: Subscription) -> None:
        where = _where(subscription.location)
        super().__init__(Problem.of("subs.not_yours", user=subscription.created_by, location=where))
        self.subscription = subscription


class SubscriptionHandlers:
    """What a channel hears about, on behalf of the Slack users in it."""

    def __init__(
        self,
        jobs: JobHandlers,
        store: SubscriptionStore,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.jobs = jobs
        self.store = store
        self.now = now

    @property
    def location(self) -> Location:
        """The default project and region."""
        return self.jobs.location

    async def _channel(self, intent: str, actor: Actor) -> str:
        """The actor's channel, once they may `intent` there."""
        await self.jobs.authorise(intent, actor)
        if not actor.channel_id:
            raise BadInput(Problem.of("subs.channel_only"))
        return actor.channel_id

    def _spec(self, words: Sequence[str]) -> SubscriptionSpec:
        try:
            return parse_subscription(words, self.location)
        except DomainError as exc:
            raise BadInput(exc.problem) from exc

    async def _in_projects(self, actor: Actor, intent: str, location: Location) -> None:
        """Refused (audited) unless the bot acts in the location's project."""
        if self.jobs.projects.allows(location.project):
            return
        action = PERMISSIONS[intent].value
        await self.jobs.audit(actor, action, None, "refused", "auth.project_not_allowed")
        raise Refused(
            Problem.of(
                "auth.project_not_allowed",
                project=location.project,
                allowed=", ".join(sorted(self.jobs.projects.allowed)),
            )
        )

    # -- subscribe -------------------------------------------------------------------------
    async def prepare(self, actor: Actor, words: Sequence[str]) -> Prepared:
        """Check a `/tune subscribe` and read the location's active jobs once; nothing is
        stored. A location the bot's credentials cannot read is refused with Google's reason."""
        channel = await self._channel("subscribe", actor)
        spec = self._spec(words)
        await self._in_projects(actor, "subscribe", spec.location)
        active = await self._active_jobs(spec.location)
        running = tuple(j for j in active if spec.filter.matches(j))
        existing = await self.store.subscription(channel, spec.location)
        now = self.now()
        if existing is not None:
            preview = replace(existing, spec=spec)
        else:
            preview = Subscription(
                id=0,
                channel_id=channel,
                spec=spec,
                created_by=actor.user_id,
                created_at=now,
                seen_until=now,
            )
        return Prepared(spec, running, preview, existing)

    async def _active_jobs(self, location: Location) -> list[TuningJob]:
        jobs: list[TuningJob] = []
        pages = 0
        with google_failures(location.project):
            async for page in self.jobs.client.list_pages(
                location, filter=ACTIVE_LIST_FILTER, page_size=ACTIVE_PAGE_SIZE
            ):
                # Filtered here too: the filter is Google's to honour or ignore.
                jobs.extend(j for j in page.jobs if j.state in ACTIVE_STATES)
                pages += 1
                if not page.next_page_token or pages >= ACTIVE_MAX_PAGES:
                    break
        for job in jobs:
            self.jobs.projects.learn(location.project, job.ref.project)
        return jobs

    async def commit(self, actor: Actor, prepared: Prepared) -> SubscribeOutcome:
        """Store the subscription, then follow its running jobs in the channel (their cards
        come with the watcher's next round); audited."""
        channel = prepared.preview.channel_id
        now = self.now()
        stored = await self.store.subscribe(channel, prepared.spec, actor.user_id, now=now)
        sub = stored.subscription
        found = [
            (
                sub,
                NewWatch(
                    job_name=job.name,
                    channel_id=channel,
                    started_by=sub.created_by,
                    kind=WatchKind.SUBSCRIBED,
                    state=job.state,
                    language=actor.language,
                    display_name=job.display_name,
                    subscription_id=sub.id,
                    events=sub.spec.events.value,
                ),
            )
            for job in prepared.running
        ]
        made = await self.store.adopt_discovered(found, {}, now=now) if found else []
        detail = f"{sub.location.project}/{sub.location.region}"
        outcome = "ok" if stored.created else "changed"
        await self.jobs.audit(actor, "subscribe", None, outcome, detail)
        return SubscribeOutcome(sub, stored.created, len(made))

    # -- unsubscribe -----------------------------------------------------------------------
    async def unsubscribe(self, actor: Actor, words: Sequence[str]) -> Unsubscribed:
        """Remove the channel's subscription of `[PROJECT[/REGION]]` (the default location
        when left out): its creator or an admin only (else `NotYours`)."""
        channel = await self._channel("unsubscribe", actor)
        if len(words) > 1 or any(":" in w for w in words):
            raise BadInput(Problem.of("subs.unsubscribe_usage"))
        location = self._spec(words).location
        existing = await self.store.subscription(channel, location)
        if existing is None:
            await self.jobs.audit(actor, "unsubscribe", None, "not_subscribed", _where(location))
            return Unsubscribed(location, None)
        if existing.created_by != actor.user_id and not self.jobs.policy.is_admin(actor.user_id):
            await self.jobs.audit(actor, "unsubscribe", None, "refused", "subs.not_yours")
            raise NotYours(existing)
        removed = await self.store.unsubscribe(channel, location)
        await self.jobs.audit(actor, "unsubscribe", None, "ok", _where(location))
        return Unsubscribed(location, removed)

    # -- settings --------------------------------------------------------------------------
    async def settings(self, actor: Actor) -> ChannelSettings:
        """The channel's settings, for the actor to change."""
        channel = await self._channel("settings", actor)
        return (await self.store.settings([channel]))[channel]

    async def save_settings(
        self, actor: Actor, channel_id: str, settings: ChannelSettings
    ) -> ChannelSettings:
        """Store the settings of `channel_id` (where the actor opened the form); audited."""
        here = replace(actor, channel_id=channel_id)
        await self._channel("settings", here)
        await self.store.save_settings(channel_id, settings, actor.user_id, now=self.now())
        await self.jobs.audit(here, "settings", None, "ok", None)
        return settings

    # -- debug -----------------------------------------------------------------------------
    async def debug(self, actor: Actor) -> ChannelDebug:
        """What the channel is subscribed to and how it went: its settings, discovery's
        reads of its locations, the jobs it follows and the messages Slack refused."""
        channel = await self._channel("debug", actor)
        subs = await self.store.subscriptions(channel)
        settings = (await self.store.settings([channel]))[channel]
        reads = await self.store.location_reads({s.location for s in subs})
        count, sample = await self.store.followed(channel, FOLLOWED_SAMPLE)
        errors = await self.store.delivery_errors(channel, DEBUG_ERRORS)
        return ChannelDebug(
            channel_id=channel,
            subscriptions=tuple(subs),
            settings=settings,
            reads=MappingProxyType(dict(reads)),
            followed=count,
            followed_sample=tuple(w.display_name or f"#{w.ref.job_id}" for w in sample),
            delivery_errors=tuple(errors),
        )

    # -- list ------------------------------------------------------------------------------
    async def list(self, actor: Actor) -> tuple[Subscription, ...]:
        """The channel's subscriptions, oldest first."""
        channel = await self._channel("subscriptions", actor)
        return tuple(await self.store.subscriptions(channel))


def _where(location: Location) -> str:
    return f"{location.project}/{location.region}"
