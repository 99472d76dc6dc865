"""Channel subscriptions: which jobs of a project and region a channel hears about, and how.

`/tune subscribe [PROJECT[/REGION]] [filters…]` names a location (the default one when left
out) and filters: `label:KEY=VALUE` (repeatable, all must hold), `name:PREFIX*` (the tuned
model's display name; without `*` the whole name), `model:BASE_MODEL`, and `events:ended|failed|
all` (only endings, only failures, or the card and every ending). A channel has at most one
subscription per location; subscribing again changes its filters.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from bot.tuning.job import TuningJob
from bot.tuning.problems import DomainError, Problem
from bot.tuning.refs import Location

# Google's label rules: lowercase letters, digits, `_` and `-`, keys starting with a letter,
# at most 63 characters (values may be empty).
_LABEL_KEY = re.compile(r"[a-z][a-z0-9_-]{0,62}")
_LABEL_VALUE = re.compile(r"[a-z0-9_-]{0,63}")
_PROJECT = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]|[0-9]{1,20}")
_REGION = re.compile(r"[a-z][a-z0-9-]{0,62}")
_MODEL = re.compile(r"[a-z0-9][a-z0-9.@_-]{0,127}")
MAX_NAME_PREFIX = 128
MAX_LABELS = 16
MAX_WORDS = 24


class Events(enum.StrEnum):
    """Which moments of a job a subscription announces."""

    ALL = "all"  # the status card, kept current, and every ending
    ENDED = "ended"  # only the ending, as a message of its own
    FAILED = "failed"  # only a failure's ending

    @property
    def has_card(self) -> bool:
        """The channel gets the job's status card."""
        return self is Events.ALL

    def announces(self, succeeded: bool) -> bool:
        """The channel hears of an ending that succeeded (`succeeded`) or did not."""
        return self is not Events.FAILED or not succeeded


@dataclass(frozen=True)
class JobFilter:
    """Which jobs of a location a subscription takes: every condition given must hold."""

    labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    name_prefix: str | None = None  # the display name starts with this (`name:PREFIX*`)
    name_exact: str | None = None  # the display name is this (`name:NAME`)
    model: str | None = None

    def matches(self, job: TuningJob) -> bool:
        """The job passes every condition."""
        if any(job.labels.get(k) != v for k, v in self.labels.items()):
            return False
        name = job.display_name or ""
        if self.name_prefix is not None and not name.startswith(self.name_prefix):
            return False
        if self.name_exact is not None and name != self.name_exact:
            return False
        return self.model is None or _base_model(job.base_model) == self.model

    @property
    def is_empty(self) -> bool:
        """Every job passes."""
        return (
            not self.labels
            and self.name_prefix is None
            and self.name_exact is None
            and (self.model is None)
        )

    def words(self) -> list[str]:
        """The filter as the command words that make it, in a stable order."""
        out = [f"label:{k}={v}" for k, v in sorted(self.labels.items())]
        if self.name_prefix is not None:
            out.append(f"name:{self.name_prefix}*")
        if self.name_exact is not None:
            out.append(f"name:{self.name_exact}")
        if self.model is not None:
            out.append(f"model:{self.model}")
        return out

    def encode(self) -> str:
        """The stored form: the words, one per line (no word holds a line break)."""
        return "\n".join(self.words())

    @classmethod
    def decode(cls, text: str | None) -> JobFilter:
        """The filter `encode` wrote; an unreadable word is skipped rather than failing a read
        of the whole store."""
        spec = JobFilter()
        for word in (text or "").splitlines():
            try:
                spec = _with_word(spec, word)
            except DomainError:
                continue
        return spec


def _base_model(name: str | None) -> str | None:
    if name is None:
        return None
    return name.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class SubscriptionSpec:
    """What `/tune subscribe` asked for."""

    location: Location
    filter: JobFilter = field(default_factory=JobFilter)
    events: Events = Events.ALL


@dataclass(frozen=True)
class Subscription:
    """A stored subscription."""

    id: int
    channel_id: str
    spec: SubscriptionSpec
    created_by: str
    created_at: dt.datetime
    # Jobs created after this are new to the subscription; discovery moves it forward.
    seen_until: dt.datetime
    access_error: str | None = None  # Google's reason, while the location cannot be read
    access_noted: bool = False  # the channel was told about `access_error`
    language: str = "en"  # of the bot's notes to the channel about this subscription

    @property
    def location(self) -> Location:
        """The subscribed project and region."""
        return self.spec.location

    def takes(self, job: TuningJob) -> bool:
        """A job discovery found is this subscription's: new to it, and passing its filter."""
        created = job.create_time
        return created is not None and created > self.seen_until and self.spec.filter.matches(job)


@dataclass(frozen=True)
class ChannelSettings:
    """How a channel wants its job messages, for subscriptions and jobs created there alike."""

    thread_endings: bool = True  # endings as replies under the card (else top-level messages)
    broadcast_success: bool = True  # a successful ending also shown in the channel
    cards: bool = True  # status cards (off: endings only)
    mention_on_failure: bool = True  # a failure's ending mentions whoever started the job


DEFAULT_SETTINGS = ChannelSettings()


@dataclass(frozen=True)
class Delivery:
    """How one watch's messages go out: its subscription's events and its channel's settings
    taken together."""

    cards: bool = True  # a status card, kept current
    failures_only: bool = False  # only a failure's ending is announced
    in_thread: bool = True  # endings as replies under the card (when there is one)
    broadcast_success: bool = True
    mention_on_failure: bool = True

    def announces(self, succeeded: bool) -> bool:
        """The channel hears of this ending."""
        return not (self.failures_only and succeeded)


ALL_MESSAGES = Delivery()


def delivery_for(events: str | None, settings: ChannelSettings) -> Delivery:
    """A watch's delivery: `events` as its subscription stored it (None: a job created here or
    watched with `/tune watch`, which hears of everything), within its channel's settings."""
    chosen = Events(events) if events in set(Events) else Events.ALL
    return Delivery(
        cards=chosen.has_card and settings.cards,
        failures_only=chosen is Events.FAILED,
        in_thread=settings.thread_endings,
        broadcast_success=settings.broadcast_success,
        mention_on_failure=settings.mention_on_failure,
    )


def parse_subscription(words: Sequence[str], default: Location) -> SubscriptionSpec:
    """`[PROJECT[/REGION]] [filters…]`; raises DomainError with what is wrong."""
    if len(words) > MAX_WORDS:
        raise DomainError(Problem.of("subs.too_many_words", limit=MAX_WORDS))
    rest = list(words)
    location = default
    if rest and ":" not in rest[0]:
        location = _location(rest.pop(0), default)
    spec = JobFilter()
    events = Events.ALL
    for word in rest:
        if word.lower().startswith("events:"):
            value = word.split(":", 1)[1].lower()
            try:
                events = Events(value)
            except ValueError:
                raise DomainError(Problem.of("subs.bad_events", value=value)) from None
            continue
        spec = _with_word(spec, word)
    if len(spec.labels) > MAX_LABELS:
        raise DomainError(Problem.of("subs.too_many_labels", limit=MAX_LABELS))
    return SubscriptionSpec(location, spec, events)


def _location(word: str, default: Location) -> Location:
    project, _, region = word.partition("/")
    region = region or default.region
    if _PROJECT.fullmatch(project) is None:
        raise DomainError(Problem.of("subs.bad_project", value=word[:80]))
    if _REGION.fullmatch(region) is None:
        raise DomainError(Problem.of("subs.bad_region", value=region[:80]))
    return Location(project, region)


def _with_word(spec: JobFilter, word: str) -> JobFilter:
    kind, sep, value = word.partition(":")
    kind = kind.lower()
    if not sep:
        raise DomainError(Problem.of("subs.bad_word", value=word[:80]))
    if kind == "label":
        key, eq, label = value.partition("=")
        if not eq or _LABEL_KEY.fullmatch(key) is None or _LABEL_VALUE.fullmatch(label) is None:
            raise DomainError(Problem.of("subs.bad_label", value=value[:80]))
        return dataclasses.replace(spec, labels=MappingProxyType({**spec.labels, key: label}))
    if kind == "name":
        if not value or len(value) > MAX_NAME_PREFIX + 1 or "\n" in value:
            raise DomainError(Problem.of("subs.bad_name", limit=MAX_NAME_PREFIX))
        if value.endswith("*"):
            return dataclasses.replace(spec, name_prefix=value[:-1], name_exact=None)
        return dataclasses.replace(spec, name_exact=value, name_prefix=None)
    if kind == "model":
        model = value.lower()
        if _MODEL.fullmatch(model) is None:
            raise DomainError(Problem.of("subs.bad_model", value=value[:80]))
        return dataclasses.replace(spec, model=model)
    raise DomainError(Problem.of("subs.bad_word", value=word[:80]))


@dataclass(frozen=True)
class LocationRead:
    """How discovery last read a subscribed location: when, at what cost, and what failed."""

    read_at: dt.datetime | None  # None: not read yet
    calls: int = 0  # requests to Google the last read took
    error: str | None = None  # Google's reason when the last read failed


@dataclass(frozen=True)
class DeliveryError:
    """A message Slack refused to take for the channel."""

    at: dt.datetime
    error: str  # Slack's error code, e.g. `not_in_channel`
    job_name: str | None = None  # the job the message was about, when there was one


@dataclass(frozen=True)
class ChannelDebug:
    """What `/tune debug` shows about a channel: its subscriptions and settings, how each
    location was last read, the jobs followed there and the messages Slack refused."""

    channel_id: str
    subscriptions: tuple[Subscription, ...] = ()
    settings: ChannelSettings = DEFAULT_SETTINGS
    reads: Mapping[Location, LocationRead] = field(default_factory=lambda: MappingProxyType({}))
    followed: int = 0  # jobs with a card or watch in the channel
    followed_sample: tuple[str, ...] = ()  # some of them, by display name or job id
    delivery_errors: tuple[DeliveryError, ...] = ()  # newest first
