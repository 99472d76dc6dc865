"""Watch records, the poller's typed updates of them, and the repository interface the Slack
surface uses."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields, replace
from enum import Enum
from typing import Final, Literal, Protocol

from bot.tuning.refs import JobRef, Location
from bot.tuning.states import JobState


class WatchKind(Enum):
    """How a channel came to watch a job."""

    CREATED = "created"  # the bot created the job from this channel
    WATCHED = "watched"  # `/tune watch` on a job started elsewhere
    SUBSCRIBED = "subscribed"  # found by a subscription of the channel


@dataclass(frozen=True)
class NewWatch:
    """What the Slack surface knows when it subscribes a channel to a job."""

    job_name: str
    channel_id: str
    started_by: str
    kind: WatchKind
    state: JobState
    message_ts: str | None = None
    language: str = "en"
    display_name: str | None = None
    card_note: str | None = None  # e.g. the dataset pre-flight summary, kept on the card
    card_stats: bool = False  # the posted card already shows Google's data statistics
    subscription_id: int | None = None  # the subscription that found the job
    events: str | None = None  # which moments the channel hears of (`Events`; None: all)


@dataclass(frozen=True, slots=True)
class Watch:
    """A stored watch as the poller and handlers see it."""

    id: int
    job_name: str
    project: str
    region: str
    channel_id: str
    started_by: str
    kind: WatchKind
    message_ts: str | None
    language: str
    display_name: str | None
    last_state: JobState
    last_update_time: dt.datetime | None
    next_poll_at: dt.datetime
    error_count: int
    created_at: dt.datetime
    announced_at: dt.datetime | None
    # Watcher bookkeeping (defaults keep records built by hand short).
    card_state: JobState | None = None  # the state the status message shows now
    announcing_at: dt.datetime | None = None  # an ending post was started at this time
    announcing_by: str | None = None  # ... by this owner
    finished_at: dt.datetime | None = None  # the watch needs no more polling
    end_reason: str | None = None  # `announced`, `job_gone`, `channel_gone`
    paused_noted: bool = False  # the thread was told the job is paused
    lease_owner: str | None = None
    lease_until: dt.datetime | None = None
    card_note: str | None = None  # text the status message keeps through every edit
    missing_since: dt.datetime | None = None  # first of the 404s in a row now being counted
    missing_count: int = 0  # 404s in a row (the job is declared gone only once they lasted)
    read_error_count: int = 0  # reads in a row refused for good (403, 400, ...)
    read_error_noted: bool = False  # the thread was told the job cannot be read
    # The status message shows Google's data statistics: they arrive some time into RUNNING,
    # after the state change that last redrew it, and warrant one edit of their own.
    card_stats: bool = False
    cancelled_by: str | None = None  # the Slack user who cancelled the job through the bot
    card_progress: str | None = None  # `Progress.encode()` of the figures the card shows
    progress_read_at: dt.datetime | None = None  # the job's curves were last read then
    subscription_id: int | None = None  # the subscription that found the job
    events: str | None = None  # which moments the channel hears of (`Events`; None: all)

    @property
    def location(self) -> Location:
        """Project and region of the watched job."""
        return Location(self.project, self.region)

    @property
    def ref(self) -> JobRef:
        """The watched job's reference, as Google last named it."""
        return JobRef.from_name(self.job_name)


class _Keep(Enum):
    KEEP = "keep"


# A `WatchUpdate` field left at KEEP is not written; None, where a field allows it, clears it.
KEEP: Final = _Keep.KEEP
Keep = Literal[_Keep.KEEP]


@dataclass(frozen=True, slots=True)
class WatchUpdate:
    """What the poller changes on one watch: every field it may write, each KEEP by default."""

    last_state: JobState | Keep = KEEP
    last_update_time: dt.datetime | Keep | None = KEEP
    card_state: JobState | Keep = KEEP
    card_stats: bool | Keep = KEEP
    next_poll_at: dt.datetime | Keep = KEEP
    error_count: int | Keep = KEEP
    message_ts: str | Keep = KEEP
    paused_noted: bool | Keep = KEEP
    finished_at: dt.datetime | Keep = KEEP
    end_reason: str | Keep = KEEP
    missing_since: dt.datetime | Keep | None = KEEP
    missing_count: int | Keep = KEEP
    read_error_count: int | Keep = KEEP
    read_error_noted: bool | Keep = KEEP
    card_progress: str | Keep | None = KEEP
    progress_read_at: dt.datetime | Keep = KEEP

    def __or__(self, later: WatchUpdate) -> WatchUpdate:
        """Both updates in one; where both set a field, `later` wins."""
        changed = {n: v for n in UPDATE_FIELDS if (v := getattr(later, n)) is not KEEP}
        return replace(self, **changed)


UPDATE_FIELDS: Final = tuple(f.name for f in fields(WatchUpdate))


@dataclass(frozen=True)
class AuditEntry:
    """Who did what to which job, and how it ended (`ok`, `refused`, `failed`, …)."""

    actor: str
    action: str
    job_name: str | None
    outcome: str
    channel_id: str | None = None
    detail: str | None = None


class WatchRepository(Protocol):
    """The part of the watch store that Slack handlers use."""

    async def add_watch(self, new: NewWatch) -> Watch:
        """Create or refresh the watch of (job, channel); returns the stored record."""
        ...

    async def remove_watch(self, job: JobRef, channel_id: str) -> bool:
        """Stop watching; False when the channel was not watching the job."""
        ...

    async def watches_for_job(self, job: JobRef) -> list[Watch]:
        """Every channel watching a job."""
        ...

    async def watches_of_user(self, user_id: str, *, ended_limit: int) -> list[Watch]:
        """The watches `user_id` started (created the job, or typed `/tune watch`): every
        unfinished one, newest first, then the `ended_limit` most recently finished."""
        ...

    async def record_audit(self, entry: AuditEntry) -> None:
        """Append to the audit table."""
        ...

    async def record_cancelled_by(self, job: JobRef, user_id: str) -> int:
        """Note on every watch of `job` that `user_id` cancelled it (the first canceller
        stays); returns how many watches were marked (0 when nobody watches the job)."""
        ...

    async def ping(self) -> bool:
        """True when the database answers (readiness)."""
        ...
