"""What the poller needs from the outside: a reader of Google's jobs and a leased watch store.

Typed as protocols so that the poller depends on the operations it uses, not on the Vertex
client or the SQL store; `TuningClient` and `SqlWatchStore` satisfy them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from typing import Protocol

from bot.tuning.curves import TrainingCurves
from bot.tuning.job import TuningJob
from bot.tuning.refs import JobRef, Location
from bot.tuning.subscriptions import ChannelSettings, Subscription
from bot.watch.model import AuditEntry, NewWatch, Watch, WatchUpdate


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


class CurvesReader(Protocol):
    """The part of the Vertex client that reads a job's training curves."""

    async def read_curves(
        self,
        job: TuningJob,
        *,
        max_points: int = 10_000,
        before_request: Callable[[], None] | None = None,
    ) -> TrainingCurves:
        """The job's curves as recorded so far; raises `CurvesMissing` when a link of Google's
        chain is not there (yet), `VertexError` when a read fails. `before_request` runs before
        each of the read's requests and may raise to stop it."""
        ...

    def read_cost(self, job: TuningJob) -> int:
        """The requests a read of the job's curves is expected to take."""
        ...


class SubscriptionPort(Protocol):
    """The subscription store as the poller uses it."""

    async def subscriptions(self, channel_id: str | None = None) -> list[Subscription]:
        """Every channel's subscriptions when `channel_id` is None."""
        ...

    async def adopt_discovered(
        self,
        found: Iterable[tuple[Subscription, NewWatch]],
        seen_until: Mapping[int, dt.datetime],
        *,
        now: dt.datetime,
    ) -> list[Watch]:
        """Watches for discovered jobs where their channel has none; moves `seen_until`."""
        ...

    async def note_access(
        self, subscription_ids: Sequence[int], *, error: str | None, noted: bool
    ) -> None:
        """Record whether the subscriptions' location can be read and if the channel knows."""
        ...

    async def record_location_read(
        self, location: Location, *, at: dt.datetime, calls: int, error: str | None
    ) -> None:
        """What discovery's read of a location cost (and why it failed)."""
        ...

    async def settings(self, channel_ids: Iterable[str]) -> dict[str, ChannelSettings]:
        """Each channel's delivery settings (defaults where none were saved)."""
        ...

    async def record_delivery_error(
        self, channel_id: str, error: str, *, job_name: str | None, at: dt.datetime
    ) -> None:
        """Remember that Slack refused a message in the channel."""
        ...


class PollStore(Protocol):
    """The watch store as the poller uses it: leased claims, and writes fenced on the lease."""

    async def claim_due(
        self,
        owner: str,
        *,
        now: dt.datetime,
        lease_until: dt.datetime,
        limit: int,
        due_by: dt.datetime | None = None,
    ) -> list[Watch]:
        """Lease up to `limit` unfinished watches due by `due_by` whose lease is free."""
        ...

    async def claim_ids(
        self, watch_ids: Sequence[int], owner: str, *, now: dt.datetime, lease_until: dt.datetime
    ) -> list[Watch]:
        """Lease the named unfinished watches whose lease is free (just-made ones)."""
        ...

    async def renew_leases(
        self, watch_ids: Sequence[int], owner: str, *, lease_until: dt.datetime
    ) -> int:
        """Extend leases `owner` still holds; returns how many."""
        ...

    async def release(self, watch_ids: Sequence[int], owner: str) -> int:
        """Give leases back without other changes."""
        ...

    async def update_fenced(
        self, watch_id: int, owner: str, change: WatchUpdate, *, release: bool = False
    ) -> bool:
        """Write poll results while `owner` still holds the lease; False when it does not."""
        ...

    async def save_many(self, owner: str, rows: Iterable[tuple[int, WatchUpdate]]) -> int:
        """`update_fenced(..., release=True)` for many watches at once; returns how many."""
        ...

    async def record_audit(self, entry: AuditEntry) -> None:
        """Append to the audit table."""
        ...

    async def mark_announcing(
        self, watch_id: int, owner: str, *, now: dt.datetime, lease_until: dt.datetime
    ) -> bool:
        """Start an ending post: only with a live lease, and only if none was started."""
        ...

    async def adopt_announcing(
        self, watch_id: int, owner: str, *, now: dt.datetime, lease_until: dt.datetime
    ) -> bool:
        """Take over an ending post another owner started."""
        ...

    async def confirm_announcing(
        self, watch_id: int, owner: str, *, now: dt.datetime, lease_until: dt.datetime
    ) -> bool:
        """Renew the lease right before an ending post; False when it ran out meanwhile."""
        ...

    async def mark_announced(
        self,
        watch_id: int,
        owner: str,
        *,
        now: dt.datetime,
        end_reason: str = "announced",
        change: WatchUpdate | None = None,
    ) -> bool:
        """Record that the ending post went out; finishes the watch and releases the lease."""
        ...

    async def clear_announcing(self, watch_id: int, owner: str) -> bool:
        """Forget a started ending post that certainly did not go out."""
        ...
