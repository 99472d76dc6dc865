"""Channel subscriptions, channel settings, discovery's reads and delivery errors, in SQL.

Beside the watch store on the same engine: the same database holds both, so a job a
subscription found becomes a watch in the one transaction that moves the subscription's
`seen_until` past it, and replicas sharing PostgreSQL agree on both. A discovered job becomes
a watch only where (job, channel) has none: the unique index on watches makes two replicas
finding the same job in the same second create one watch, and a job started from the bot in
the channel keeps its own.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, RowMapping, and_, delete, func, or_, select, update
from sqlalchemy.dialects import sqlite

from bot.tuning.refs import Location
from bot.tuning.subscriptions import (
    DEFAULT_SETTINGS,
    ChannelSettings,
    DeliveryError,
    Events,
    JobFilter,
    LocationRead,
    Subscription,
    SubscriptionSpec,
)
from bot.watch.model import NewWatch, Watch
from bot.watch.store import SqlWatchStore, new_watch_values, reading, watch_from_row
from bot.watch.tables import (
    channel_settings,
    delivery_errors,
    location_reads,
    subscriptions,
    watches,
)

_S = subscriptions.c
# Recent delivery errors kept per channel for `/tune debug`.
KEPT_ERRORS = 20


@dataclass(frozen=True)
class Subscribed:
    """What `subscribe` stored, and whether it was new (else its filters were replaced)."""

    subscription: Subscription
    created: bool


def _subscription(row: RowMapping) -> Subscription:
    spec = SubscriptionSpec(
        Location(row["project"], row["region"]),
        JobFilter.decode(row["filter"]),
        Events(row["events"]) if row["events"] in set(Events) else Events.ALL,
    )
    return Subscription(
        id=row["id"],
        channel_id=row["channel_id"],
        spec=spec,
        created_by=row["created_by"],
        created_at=row["created_at"],
        seen_until=row["seen_until"],
        access_error=row["access_error"],
        access_noted=bool(row["access_noted"]),
        language=row["language"] or "en",
    )


class SqlSubscriptionStore:
    """Subscriptions and what goes with them, on the watch store's database."""

    def __init__(self, watch_store: SqlWatchStore) -> None:
        self.watch_store = watch_store
        self.engine = watch_store.engine

    def _insert_ignore(self, table: Any, **values: Any) -> Any:
        """An INSERT that leaves an existing row (by any unique key) as it is."""
        if self.engine.dialect.name == "postgresql":
            # Imported here: a bot on SQLite never loads this dialect.
            from sqlalchemy.dialects import postgresql

            return postgresql.insert(table).values(**values).on_conflict_do_nothing()
        return sqlite.insert(table).values(**values).on_conflict_do_nothing()

    # -- subscriptions ---------------------------------------------------------------------
    async def subscribe(
        self,
        channel_id: str,
        spec: SubscriptionSpec,
        user_id: str,
        *,
        now: dt.datetime,
        language: str = "en",
    ) -> Subscribed:
        """Store the channel's subscription of `spec.location`, replacing the filters of one
        it already has (which keeps its place in time: nothing is found twice)."""
        return await asyncio.to_thread(self._subscribe, channel_id, spec, user_id, now, language)

    def _subscribe(
        self,
        channel_id: str,
        spec: SubscriptionSpec,
        user_id: str,
        now: dt.datetime,
        language: str,
    ) -> Subscribed:
        where = and_(
            _S.channel_id == channel_id,
            _S.project == spec.location.project,
            _S.region == spec.location.region,
        )
        values = {"filter": spec.filter.encode(), "events": spec.events.value, "language": language}
        with self.engine.begin() as conn:
            changed = conn.execute(update(subscriptions).where(where).values(**values))
            created = changed.rowcount == 0
            if created:
                conn.execute(
                    self._insert_ignore(
                        subscriptions,
                        channel_id=channel_id,
                        project=spec.location.project,
                        region=spec.location.region,
                        created_by=user_id,
                        created_at=now,
                        seen_until=now,
                        access_noted=False,
                        **values,
                    )
                )
            row = conn.execute(select(subscriptions).where(where)).mappings().one()
        return Subscribed(_subscription(row), created)

    async def unsubscribe(self, channel_id: str, location: Location) -> Subscription | None:
        """Remove the channel's subscription of `location`; returns what was removed. The
        watches it made stay: jobs already announced here finish their story."""
        return await asyncio.to_thread(self._unsubscribe, channel_id, location)

    def _unsubscribe(self, channel_id: str, location: Location) -> Subscription | None:
        where = and_(
            _S.channel_id == channel_id,
            _S.project == location.project,
            _S.region == location.region,
        )
        with self.engine.begin() as conn:
            row = conn.execute(select(subscriptions).where(where)).mappings().one_or_none()
            if row is None:
                return None
            conn.execute(delete(subscriptions).where(_S.id == row["id"]))
        return _subscription(row)

    async def subscription(self, channel_id: str, location: Location) -> Subscription | None:
        """The channel's subscription of `location`, if any."""
        found = [s for s in await self.subscriptions(channel_id) if s.location == location]
        return found[0] if found else None

    async def subscriptions(self, channel_id: str | None = None) -> list[Subscription]:
        """The channel's subscriptions (every channel's when None), oldest first."""
        return await asyncio.to_thread(self._subscriptions, channel_id)

    def _subscriptions(self, channel_id: str | None) -> list[Subscription]:
        query = select(subscriptions).order_by(_S.id)
        if channel_id is not None:
            query = query.where(_S.channel_id == channel_id)
        with reading(self.engine) as conn:
            return [_subscription(r) for r in conn.execute(query).mappings()]

    async def note_access(
        self, subscription_ids: Sequence[int], *, error: str | None, noted: bool
    ) -> None:
        """Record whether the subscriptions' location can be read (`error`: Google's reason)
        and whether their channels were told."""
        if not subscription_ids:
            return
        await asyncio.to_thread(self._note_access, list(subscription_ids), error, noted)

    def _note_access(self, ids: list[int], error: str | None, noted: bool) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(subscriptions)
                .where(_S.id.in_(ids))
                .values(access_error=error, access_noted=noted)
            )

    # -- discovery -------------------------------------------------------------------------
    async def adopt_discovered(
        self,
        found: Iterable[tuple[Subscription, NewWatch]],
        seen_until: Mapping[int, dt.datetime],
        *,
        now: dt.datetime,
    ) -> list[Watch]:
        """In one transaction: a watch for each (subscription, job) where its channel has
        none, and each subscription's `seen_until` moved forward (never back). Returns the
        watches made; a job another replica adopted first is not made again."""
        return await asyncio.to_thread(self._adopt, list(found), dict(seen_until), now)

    def _adopt(
        self,
        found: list[tuple[Subscription, NewWatch]],
        seen_until: dict[int, dt.datetime],
        now: dt.datetime,
    ) -> list[Watch]:
        made: list[Watch] = []
        with self.engine.begin() as conn:
            for sub_id, until in seen_until.items():
                conn.execute(
                    update(subscriptions)
                    .where(_S.id == sub_id, _S.seen_until < until)
                    .values(seen_until=until)
                )
            for _, new in found:
                watch = self._insert_watch(conn, new, now)
                if watch is not None:
                    made.append(watch)
        return made

    def _insert_watch(self, conn: Connection, new: NewWatch, now: dt.datetime) -> Watch | None:
        values = new_watch_values(new, now)
        stmt = self._insert_ignore(watches, **values).returning(*watches.c)
        row = conn.execute(stmt).mappings().one_or_none()
        return None if row is None else watch_from_row(row)

    async def record_location_read(
        self, location: Location, *, at: dt.datetime, calls: int, error: str | None
    ) -> None:
        """What discovery's read of `location` cost, and Google's reason when it failed."""
        await asyncio.to_thread(self._record_read, location, at, calls, error)

    def _record_read(
        self, location: Location, at: dt.datetime, calls: int, error: str | None
    ) -> None:
        key = and_(
            location_reads.c.project == location.project,
            location_reads.c.region == location.region,
        )
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(location_reads).where(key).values(read_at=at, calls=calls, error=error)
            )
            if changed.rowcount == 0:
                values = {
                    "project": location.project,
                    "region": location.region,
                    "read_at": at,
                    "calls": calls,
                    "error": error,
                }
                conn.execute(self._insert_ignore(location_reads, **values))

    async def location_reads(self, locations: Iterable[Location]) -> dict[Location, LocationRead]:
        """The last discovery read of each location that had one."""
        wanted = list(locations)
        return await asyncio.to_thread(self._location_reads, wanted)

    def _location_reads(self, wanted: list[Location]) -> dict[Location, LocationRead]:
        if not wanted:
            return {}
        c = location_reads.c
        query = select(location_reads).where(
            or_(*(and_(c.project == w.project, c.region == w.region) for w in wanted))
        )
        with reading(self.engine) as conn:
            return {
                Location(r["project"], r["region"]): LocationRead(
                    r["read_at"], r["calls"], r["error"]
                )
                for r in conn.execute(query).mappings()
            }

    # -- channel settings ------------------------------------------------------------------
    async def settings(self, channel_ids: Iterable[str]) -> dict[str, ChannelSettings]:
        """Each channel's settings; channels that never saved any get the defaults."""
        wanted = sorted(set(channel_ids))
        return await asyncio.to_thread(self._settings, wanted)

    def _settings(self, wanted: list[str]) -> dict[str, ChannelSettings]:
        found = dict.fromkeys(wanted, DEFAULT_SETTINGS)
        if not wanted:
            return found
        c = channel_settings.c
        with reading(self.engine) as conn:
            for r in conn.execute(
                select(channel_settings).where(c.channel_id.in_(wanted))
            ).mappings():
                found[r["channel_id"]] = ChannelSettings(
                    thread_endings=bool(r["thread_endings"]),
                    broadcast_success=bool(r["broadcast_success"]),
                    cards=bool(r["cards"]),
                    mention_on_failure=bool(r["mention_on_failure"]),
                )
        return found

    async def save_settings(
        self, channel_id: str, settings: ChannelSettings, user_id: str, *, now: dt.datetime
    ) -> None:
        """Store the channel's settings (who changed them last, and when)."""
        await asyncio.to_thread(self._save_settings, channel_id, settings, user_id, now)

    def _save_settings(
        self, channel_id: str, settings: ChannelSettings, user_id: str, now: dt.datetime
    ) -> None:
        values = {
            "thread_endings": settings.thread_endings,
            "broadcast_success": settings.broadcast_success,
            "cards": settings.cards,
            "mention_on_failure": settings.mention_on_failure,
            "updated_by": user_id,
            "updated_at": now,
        }
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(channel_settings)
                .where(channel_settings.c.channel_id == channel_id)
                .values(**values)
            )
            if changed.rowcount == 0:
                conn.execute(self._insert_ignore(channel_settings, channel_id=channel_id, **values))

    # -- delivery errors and what a channel follows ----------------------------------------
    async def record_delivery_error(
        self, channel_id: str, error: str, *, job_name: str | None, at: dt.datetime
    ) -> None:
        """Remember a Slack refusal in the channel, keeping the last `KEPT_ERRORS`."""
        await asyncio.to_thread(self._record_error, channel_id, error[:64], job_name, at)

    def _record_error(
        self, channel_id: str, error: str, job_name: str | None, at: dt.datetime
    ) -> None:
        c = delivery_errors.c
        with self.engine.begin() as conn:
            conn.execute(
                delivery_errors.insert().values(
                    channel_id=channel_id, error=error, job_name=job_name, at=at
                )
            )
            keep = (
                select(c.id)
                .where(c.channel_id == channel_id)
                .order_by(c.at.desc(), c.id.desc())
                .limit(KEPT_ERRORS)
            )
            conn.execute(
                delete(delivery_errors).where(
                    c.channel_id == channel_id, c.id.not_in(keep.scalar_subquery())
                )
            )

    async def delivery_errors(self, channel_id: str, limit: int = 10) -> list[DeliveryError]:
        """The channel's most recent delivery errors, newest first."""
        return await asyncio.to_thread(self._errors, channel_id, limit)

    def _errors(self, channel_id: str, limit: int) -> list[DeliveryError]:
        c = delivery_errors.c
        query = (
            select(delivery_errors)
            .where(c.channel_id == channel_id)
            .order_by(c.at.desc(), c.id.desc())
            .limit(limit)
        )
        with reading(self.engine) as conn:
            return [
                DeliveryError(r["at"], r["error"], r["job_name"])
                for r in conn.execute(query).mappings()
            ]

    async def followed(self, channel_id: str, limit: int = 10) -> tuple[int, list[Watch]]:
        """How many unfinished watches the channel has, and the newest `limit` of them."""
        return await asyncio.to_thread(self._followed, channel_id, limit)

    def _followed(self, channel_id: str, limit: int) -> tuple[int, list[Watch]]:
        c = watches.c
        active = and_(c.channel_id == channel_id, c.finished_at.is_(None))
        with reading(self.engine) as conn:
            count = conn.execute(select(func.count()).where(active)).scalar_one()
            rows = conn.execute(
                select(watches).where(active).order_by(c.created_at.desc()).limit(limit)
            ).mappings()
            return int(count), [watch_from_row(r) for r in rows]
