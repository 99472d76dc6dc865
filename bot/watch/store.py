"""The watch store on SQLAlchemy 2: a SQLite file by default, PostgreSQL for replicas.

The engine is synchronous; every `async` method runs its work in `asyncio.to_thread`, so the
event loop never waits on the database. SQLite runs in WAL mode with `BEGIN IMMEDIATE`
transactions (one writer at a time, readers never blocked); it is for a single replica.
PostgreSQL replicas coordinate through leases: `claim_due` takes due rows with
`FOR UPDATE SKIP LOCKED` and stamps them with an owner and expiry, and every later write by the
poller is fenced on `lease_owner`, so a replica whose lease expired cannot overwrite the work of
the one that took the rows over. The schema is created and upgraded by `bot.watch.migrations`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import (
    Connection,
    Engine,
    RowMapping,
    and_,
    bindparam,
    case,
    create_engine,
    delete,
    event,
    func,
    insert,
    null,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import OperationalError

from bot.tuning.refs import JobRef
from bot.tuning.states import JobState
from bot.watch.migrations import upgrade
from bot.watch.model import (
    KEEP,
    UPDATE_FIELDS,
    AuditEntry,
    NewWatch,
    Watch,
    WatchKind,
    WatchUpdate,
)
from bot.watch.tables import audit_log, watches

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql

_W = watches.c


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# How long a SQLite write waits for another writer (a backup, an operator's `sqlite3`) before it
# fails and is reported; `?timeout=` in DATABASE_URL overrides it.
SQLITE_WRITE_WAIT_SECONDS = 5.0
READ_ONLY = "tuning_bot_read_only"
PING_SECONDS = 1.0  # a liveness probe must hear back quickly, whatever holds the database
SAVE_CHUNK = 500  # rows per statement of `save_many`


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL, lock-free reads and `BEGIN IMMEDIATE` writes."""
    if url.startswith("sqlite"):
        args: dict[str, Any] = {"check_same_thread": False}
        parsed = make_url(url)
        if "timeout" not in parsed.query:
            args["timeout"] = SQLITE_WRITE_WAIT_SECONDS
        pool: dict[str, Any] = {}
        if parsed.database not in (None, "", ":memory:"):
            # Most recently used first: the one-at-a-time work of a cycle keeps reusing one
            # warm connection instead of filling every pooled connection's page cache (about
            # 2 MB each with 10,000 watches) after a burst of concurrent writes opened them.
            pool["pool_use_lifo"] = True
        engine = create_engine(url, connect_args=args, **pool)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the driver, decide where transactions begin.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            if conn.get_execution_options().get(READ_ONLY):
                # Each read runs on its own in autocommit: a WAL reader never waits for a
                # writer, so /healthz and commands read while a backup holds the write lock.
                return
            # Take the write lock up front: no deadlock when two readers both upgrade.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def reading(engine: Engine) -> Connection:
    """A connection for reads only (on SQLite it takes no lock)."""
    return engine.connect().execution_options(**{READ_ONLY: True})


def _columns(change: WatchUpdate) -> dict[str, Any]:
    """The column values `change` sets, as the database stores them (each field of
    `WatchUpdate` is the column of the same name)."""
    return {
        name: value.value if isinstance(value, JobState) else value
        for name in UPDATE_FIELDS
        if (value := getattr(change, name)) is not KEEP
    }


_T = TypeVar("_T")


def _as_is(value: _T) -> _T:
    return value


def _sharing() -> Callable[[_T], _T]:
    """Maps equal values to one object, for the rows of one query.

    The driver makes a new object for every value of every row: 10,000 claimed watches would
    hold 10,000 copies of the project, the region, the owner and the cycle's due time.
    """
    seen: dict[Any, Any] = {}

    def same(value: _T) -> _T:
        return value if value is None else seen.setdefault(value, value)

    return same


def _watch(row: RowMapping, same: Callable[[Any], Any] = _as_is) -> Watch:
    # `same` only sees str and datetime columns: equal values of other types (1 and True)
    # must not stand in for each other.
    return Watch(
        id=row["id"],
        job_name=row["job_name"],
        project=same(row["project"]),
        region=same(row["region"]),
        channel_id=same(row["channel_id"]),
        started_by=same(row["started_by"]),
        kind=WatchKind(row["kind"]),
        message_ts=row["message_ts"],
        language=same(row["language"]),
        display_name=same(row["display_name"]),
        last_state=JobState.from_wire(row["last_state"]),
        last_update_time=same(row["last_update_time"]),
        next_poll_at=same(row["next_poll_at"]),
        error_count=row["error_count"],
        created_at=same(row["created_at"]),
        announced_at=row["announced_at"],
        card_state=JobState.from_wire(row["card_state"]) if row["card_state"] else None,
        announcing_at=same(row["announcing_at"]),
        announcing_by=same(row["announcing_by"]),
        finished_at=row["finished_at"],
        end_reason=row["end_reason"],
        paused_noted=bool(row["paused_noted"]),
        lease_owner=same(row["lease_owner"]),
        lease_until=same(row["lease_until"]),
        card_note=same(row["card_note"]),
        missing_since=same(row["missing_since"]),
        missing_count=row["missing_count"] or 0,
        read_error_count=row["read_error_count"] or 0,
        read_error_noted=bool(row["read_error_noted"]),
        card_stats=bool(row["card_stats"]),
        cancelled_by=row["cancelled_by"],
        card_progress=row["card_progress"],
        progress_read_at=same(row["progress_read_at"]),
        subscription_id=row["subscription_id"],
        events=row["events"],
    )


def new_watch_values(new: NewWatch, now: dt.datetime) -> dict[str, Any]:
    """The row a new watch starts as, due at `now`."""
    ref = JobRef.from_name(new.job_name)
    return {
        "job_name": ref.name,
        "job_key": ref.key,
        "project": ref.project,
        "region": ref.region,
        "channel_id": new.channel_id,
        "message_ts": new.message_ts,
        "started_by": new.started_by,
        "kind": new.kind.value,
        "language": new.language,
        "display_name": new.display_name,
        "card_note": new.card_note,
        "last_state": new.state.value,
        "card_state": new.state.value if new.message_ts else None,
        "card_stats": bool(new.message_ts) and new.card_stats,
        "next_poll_at": now,
        "error_count": 0,
        "paused_noted": False,
        "created_at": now,
        "subscription_id": new.subscription_id,
        "events": new.events,
    }


def watch_from_row(row: RowMapping) -> Watch:
    """A watch from its row of the `watches` table."""
    return _watch(row)


class SqlWatchStore:
    """`WatchRepository` for the Slack handlers and `PollStore`, the leased operations of the
    poller."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._dialect = engine.dialect.name
        # Monotonic time since which every write has failed (locked, read-only, disk full).
        self._writes_failing_since: float | None = None
        event.listen(engine, "commit", self._write_committed)
        event.listen(engine, "handle_error", self._write_failed)

    def _write_committed(self, conn: Connection) -> None:
        self._writes_failing_since = None

    def _write_failed(self, context: ExceptionContext) -> None:
        conn = context.connection
        read = conn is not None and conn.get_execution_options().get(READ_ONLY)
        failed = isinstance(context.sqlalchemy_exception, OperationalError)
        if failed and not read and self._writes_failing_since is None:
            self._writes_failing_since = time.monotonic()

    @property
    def writes_failing(self) -> bool:
        """True while writes fail (the last one did and none succeeded since)."""
        return self._writes_failing_since is not None

    @classmethod
    def open(cls, url: str) -> SqlWatchStore:
        """Connect to `url` and create or upgrade the schema."""
        engine = make_engine(url)
        upgrade(engine)
        return cls(engine)

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    # -- WatchRepository -------------------------------------------------------------------
    async def add_watch(self, new: NewWatch, *, now: dt.datetime | None = None) -> Watch:
        """Create or refresh the watch of (job, channel), due at `now` (default: the current
        time); returns the stored record."""
        return await asyncio.to_thread(self._add_watch, new, now or _utcnow())

    def _add_watch(self, new: NewWatch, now: dt.datetime) -> Watch:
        values = new_watch_values(new, now)
        stmt: postgresql.Insert | sqlite.Insert
        if self._dialect == "postgresql":
            # Imported here: a watcher on SQLite never loads this dialect (1.7 MB).
            from sqlalchemy.dialects import postgresql

            stmt = postgresql.insert(watches).values(**values)
        else:
            stmt = sqlite.insert(watches).values(**values)
        excluded = stmt.excluded
        finished = _W.finished_at.is_not(None)

        def revived(value: Any, keep: Any) -> Any:
            # Watching a job again after its watch finished starts it afresh; an active
            # watch keeps its bookkeeping (an ending may be being announced right now).
            return case((finished, value), else_=keep)

        upsert = stmt.on_conflict_do_update(
            index_elements=[_W.job_key, _W.channel_id],
            set_={
                # Google's latest spelling of the name (by project number) wins.
                "job_name": excluded.job_name,
                "project": excluded.project,
                "finished_at": revived(None, _W.finished_at),
                "end_reason": revived(None, _W.end_reason),
                "announced_at": revived(None, _W.announced_at),
                "announcing_at": revived(None, _W.announcing_at),
                "announcing_by": revived(None, _W.announcing_by),
                "paused_noted": revived(False, _W.paused_noted),
                "missing_since": revived(None, _W.missing_since),
                "missing_count": revived(0, _W.missing_count),
                "read_error_count": revived(0, _W.read_error_count),
                "read_error_noted": revived(False, _W.read_error_noted),
                "cancelled_by": revived(None, _W.cancelled_by),
                "last_state": revived(excluded.last_state, _W.last_state),
                "message_ts": func.coalesce(excluded.message_ts, _W.message_ts),
                "card_state": func.coalesce(excluded.card_state, _W.card_state),
                # What the card shows follows the card: a newly posted one brings its own.
                "card_stats": case(
                    (excluded.message_ts.is_not(None), excluded.card_stats),
                    else_=_W.card_stats,
                ),
                "card_progress": case(
                    (excluded.message_ts.is_not(None), null()), else_=_W.card_progress
                ),
                "language": excluded.language,
                "display_name": func.coalesce(excluded.display_name, _W.display_name),
                "card_note": func.coalesce(excluded.card_note, _W.card_note),
                "next_poll_at": excluded.next_poll_at,
                "error_count": 0,
            },
        ).returning(*watches.c)
        with self.engine.begin() as conn:
            return _watch(conn.execute(upsert).mappings().one())

    async def remove_watch(self, job: JobRef, channel_id: str) -> bool:
        """Stop watching; False when the channel was not watching the job."""
        return await asyncio.to_thread(self._remove_watch, job, channel_id)

    def _remove_watch(self, job: JobRef, channel_id: str) -> bool:
        ids = [w.id for w in self._watches_for_job(job) if w.channel_id == channel_id]
        if not ids:
            return False
        with self.engine.begin() as conn:
            return conn.execute(delete(watches).where(_W.id.in_(ids))).rowcount > 0

    async def watches_for_job(self, job: JobRef) -> list[Watch]:
        """Every channel watching a job (finished watches included), oldest first; the job
        may be named by project id or number."""
        return await asyncio.to_thread(self._watches_for_job, job)

    def _watches_for_job(self, job: JobRef) -> list[Watch]:
        with reading(self.engine) as conn:
            rows = conn.execute(select(watches).where(_W.job_key == job.key).order_by(_W.id))
            found = [_watch(r) for r in rows.mappings()]
        return [w for w in found if job.same_job(JobRef.from_name(w.job_name))]

    async def watches_of_user(self, user_id: str, *, ended_limit: int) -> list[Watch]:
        """The watches `user_id` started: every unfinished one, newest first, then the
        `ended_limit` most recently finished (several channels may follow one job)."""
        return await asyncio.to_thread(self._watches_of_user, user_id, ended_limit)

    def _watches_of_user(self, user_id: str, ended_limit: int) -> list[Watch]:
        # No index on `started_by`: the table holds one row per job and channel, and the Home
        # tab that asks is cached for seconds, so a scan costs less than a migration.
        mine = select(watches).where(_W.started_by == user_id)
        with reading(self.engine) as conn:
            active = conn.execute(
                mine.where(_W.finished_at.is_(None)).order_by(_W.created_at.desc(), _W.id.desc())
            ).mappings()
            found = [_watch(r) for r in active]
            ended = conn.execute(
                mine.where(_W.finished_at.is_not(None))
                .order_by(_W.finished_at.desc(), _W.id.desc())
                .limit(max(0, ended_limit))
            ).mappings()
            found += [_watch(r) for r in ended]
        return found

    async def record_audit(self, entry: AuditEntry) -> None:
        """Append to the audit table."""
        await asyncio.to_thread(self._record_audit, entry)

    def _record_audit(self, entry: AuditEntry) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(audit_log).values(
                    at=_utcnow(),
                    actor=entry.actor,
                    action=entry.action,
                    job_name=entry.job_name,
                    channel_id=entry.channel_id,
                    outcome=entry.outcome,
                    detail=entry.detail,
                )
            )

    async def record_cancelled_by(self, job: JobRef, user_id: str) -> int:
        """Note on every watch of `job` that `user_id` cancelled it; a canceller already
        noted stays (a second click while the job is cancelling changes nothing)."""
        return await asyncio.to_thread(self._record_cancelled_by, job, user_id)

    def _record_cancelled_by(self, job: JobRef, user_id: str) -> int:
        ids = [w.id for w in self._watches_for_job(job)]
        if not ids:
            return 0
        with self.engine.begin() as conn:
            marked = conn.execute(
                update(watches)
                .where(_W.id.in_(ids), _W.cancelled_by.is_(None))
                .values(cancelled_by=user_id)
            )
            return int(marked.rowcount)

    async def ping(self) -> bool:
        """True when the database answers a read within PING_SECONDS (health checks)."""
        try:
            async with asyncio.timeout(PING_SECONDS):
                return await asyncio.to_thread(self._ping)
        except TimeoutError:
            return False

    def _ping(self) -> bool:
        try:
            with reading(self.engine) as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:  # any failure means "not ready"; the caller reports it
            return False

    # -- leased operations for the poller ----------------------------------------------------
    async def claim_due(
        self,
        owner: str,
        *,
        now: dt.datetime,
        lease_until: dt.datetime,
        limit: int,
        due_by: dt.datetime | None = None,
    ) -> list[Watch]:
        """Lease up to `limit` unfinished watches due by `due_by` (default `now`) whose lease
        is free."""
        return await asyncio.to_thread(
            self._claim_due, owner, now, lease_until, limit, due_by or now
        )

    def _claim_due(
        self,
        owner: str,
        now: dt.datetime,
        lease_until: dt.datetime,
        limit: int,
        due_by: dt.datetime,
    ) -> list[Watch]:
        due = and_(
            _W.finished_at.is_(None),
            _W.next_poll_at <= due_by,
            or_(_W.lease_owner.is_(None), _W.lease_until < now),
        )
        # SKIP LOCKED lets replicas claim side by side; SQLite drops it (one writer anyway).
        # A materialized CTE, not `IN (subquery)`: PostgreSQL may rescan such a subquery, and
        # SKIP LOCKED then skips the rows this very statement just updated and picks more.
        picked = (
            select(_W.id)
            .where(due)
            .order_by(_W.next_poll_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .cte("picked")
            .prefix_with("MATERIALIZED", dialect="postgresql")
        )
        stmt = (
            update(watches)
            .where(_W.id == picked.c.id, due)
            .values(lease_owner=owner, lease_until=lease_until)
            .returning(*watches.c)
        )
        same = _sharing()
        with self.engine.begin() as conn:
            return [_watch(r, same) for r in conn.execute(stmt).mappings()]

    async def claim_ids(
        self, watch_ids: Sequence[int], owner: str, *, now: dt.datetime, lease_until: dt.datetime
    ) -> list[Watch]:
        """Lease the named unfinished watches whose lease is free (a subscription's new
        watches, handled in the cycle that made them)."""
        if not watch_ids:
            return []
        return await asyncio.to_thread(self._claim_ids, list(watch_ids), owner, now, lease_until)

    def _claim_ids(
        self, ids: list[int], owner: str, now: dt.datetime, lease_until: dt.datetime
    ) -> list[Watch]:
        free = and_(
            _W.id.in_(ids),
            _W.finished_at.is_(None),
            or_(_W.lease_owner.is_(None), _W.lease_until < now),
        )
        stmt = (
            update(watches)
            .where(free)
            .values(lease_owner=owner, lease_until=lease_until)
            .returning(*watches.c)
        )
        with self.engine.begin() as conn:
            return [_watch(r) for r in conn.execute(stmt).mappings()]

    async def update_fenced(
        self, watch_id: int, owner: str, change: WatchUpdate, *, release: bool = False
    ) -> bool:
        """Write poll results while `owner` still holds the lease; False when it does not."""
        return await asyncio.to_thread(self._update_fenced, watch_id, owner, change, release)

    def _update_fenced(self, watch_id: int, owner: str, change: WatchUpdate, release: bool) -> bool:
        changes = _columns(change)
        if release:
            changes.update(lease_owner=None, lease_until=None)
        with self.engine.begin() as conn:
            result = conn.execute(
                update(watches).where(_W.id == watch_id, _W.lease_owner == owner).values(**changes)
            )
            return result.rowcount == 1

    async def save_many(self, owner: str, rows: Iterable[tuple[int, WatchUpdate]]) -> int:
        """`update_fenced(..., release=True)` for many (watch id, update) in one transaction.

        Every update sets the same fields; returns how many rows were written. `rows` may be a
        generator: it is consumed `SAVE_CHUNK` rows at a time.
        """
        return await asyncio.to_thread(self._save_many, owner, rows)

    def _save_many(self, owner: str, rows: Iterable[tuple[int, WatchUpdate]]) -> int:
        pending = iter(rows)
        # The driver's and SQLAlchemy's per-row parameters cost about 1.5 kB a row: sent in
        # chunks, 10,000 rows never hold them all at once. Still one transaction.
        chunk = list(itertools.islice(pending, SAVE_CHUNK))
        if not chunk:
            return 0
        keys = sorted(_columns(chunk[0][1]))
        stmt = (
            update(watches)
            .where(_W.id == bindparam("b_id"), _W.lease_owner == owner)
            .values(
                {**{k: bindparam(f"b_{k}") for k in keys}, "lease_owner": None, "lease_until": None}
            )
        )
        written = 0
        with self.engine.begin() as conn:
            while chunk:
                params = []
                for watch_id, change in chunk:
                    values = _columns(change)
                    params.append({"b_id": watch_id, **{f"b_{k}": values[k] for k in keys}})
                del chunk
                written += conn.execute(stmt, params).rowcount
                del params
                chunk = list(itertools.islice(pending, SAVE_CHUNK))
        return written

    async def release(self, watch_ids: Sequence[int], owner: str) -> int:
        """Give leases back without other changes (shutdown, budget exhausted)."""
        return await asyncio.to_thread(self._release, watch_ids, owner)

    def _release(self, watch_ids: Sequence[int], owner: str) -> int:
        if not watch_ids:
            return 0
        with self.engine.begin() as conn:
            result = conn.execute(
                update(watches)
                .where(_W.id.in_(list(watch_ids)), _W.lease_owner == owner)
                .values(lease_owner=None, lease_until=None)
            )
            return result.rowcount

    async def renew_leases(
        self, watch_ids: Sequence[int], owner: str, *, lease_until: dt.datetime
    ) -> int:
        """Extend leases `owner` still holds (work that outlived its cycle); returns how many."""
        return await asyncio.to_thread(self._renew_leases, watch_ids, owner, lease_until)

    def _renew_leases(self, watch_ids: Sequence[int], owner: str, lease_until: dt.datetime) -> int:
        if not watch_ids:
            return 0
        with self.engine.begin() as conn:
            # Fenced like every write: a lease another replica took over stays theirs.
            result = conn.execute(
                update(watches)
                .where(_W.id.in_(list(watch_ids)), _W.lease_owner == owner)
                .values(lease_until=lease_until)
            )
            return result.rowcount

    async def mark_announcing(
        self, watch_id: int, owner: str, *, now: dt.datetime, lease_until: dt.datetime
    ) -> bool:
        """Start an ending post: only with a live lease, and only if none was started."""
        return await asyncio.to_thread(
            self._set_announcing, watch_id, owner, now, lease_until, False
        )

    async def adopt_announcing(
        self, watch_id: int, owner: str, *, now: dt.datetime, lease_until: dt.datetime
    ) -> bool:
        """Take over an ending post a crashed owner started (its outcome is then checked)."""
        return await asyncio.to_thread(
            self._set_announcing, watch_id, owner, now, lease_until, True
        )

    def _set_announcing(
        self, watch_id: int, owner: str, now: dt.datetime, lease_until: dt.datetime, adopt: bool
    ) -> bool:
        # Starting needs no earlier mark; adopting needs one. Both need the live lease.
        started = _W.announcing_at.is_not(None) if adopt else _W.announcing_at.is_(None)
        values: dict[str, Any] = {"announcing_by": owner, "lease_until": lease_until}
        if not adopt:
            # Adopting keeps the time at which the last post may have left (see confirm).
            values["announcing_at"] = now
        with self.engine.begin() as conn:
            result = conn.execute(
                update(watches)
                .where(
                    _W.id == watch_id,
                    _W.lease_owner == owner,
                    _W.lease_until > now,
                    _W.announced_at.is_(None),
                    started,
                )
                .values(values)
            )
            return result.rowcount == 1

    async def mark_announced(
        self,
        watch_id: int,
        owner: str,
        *,
        now: dt.datetime,
        end_reason: str = "announced",
        change: WatchUpdate | None = None,
    ) -> bool:
        """Record that the ending post went out, with `change`; finishes the watch and
        releases the lease."""
        return await asyncio.to_thread(
            self._mark_announced, watch_id, owner, now, end_reason, change or WatchUpdate()
        )

    def _mark_announced(
        self,
        watch_id: int,
        owner: str,
        now: dt.datetime,
        end_reason: str,
        change: WatchUpdate,
    ) -> bool:
        # Fenced on the owner that marked "announcing": if its lease lapsed while Slack answered,
        # the post still happened, and recording that fact is what prevents a second one.
        with self.engine.begin() as conn:
            result = conn.execute(
                update(watches)
                .where(
                    _W.id == watch_id,
                    _W.announcing_by == owner,
                    _W.announced_at.is_(None),
                )
                .values(
                    **_columns(change),
                    announced_at=now,
                    finished_at=now,
                    end_reason=end_reason,
                    lease_owner=None,
                    lease_until=None,
                )
            )
            return result.rowcount == 1

    async def confirm_announcing(
        self, watch_id: int, owner: str, *, now: dt.datetime, lease_until: dt.datetime
    ) -> bool:
        """Just before an ending post: renew the lease if `owner` still holds it and the mark,
        and record `now` as the time the post may leave (an adopter waits out its flight).

        False when the lease ran out meanwhile (a replica frozen or slowed between marking and
        posting): another replica may have adopted the row, so this one must not post.
        """
        return await asyncio.to_thread(self._confirm_announcing, watch_id, owner, now, lease_until)

    def _confirm_announcing(
        self, watch_id: int, owner: str, now: dt.datetime, lease_until: dt.datetime
    ) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(
                update(watches)
                .where(
                    _W.id == watch_id,
                    _W.lease_owner == owner,
                    _W.announcing_by == owner,
                    _W.announced_at.is_(None),
                    _W.lease_until > now,
                )
                .values(lease_until=lease_until, announcing_at=now)
            )
            return result.rowcount == 1

    async def clear_announcing(self, watch_id: int, owner: str) -> bool:
        """Forget a started ending post that Slack certainly refused (so it is tried again)."""
        return await asyncio.to_thread(self._clear_announcing, watch_id, owner)

    def _clear_announcing(self, watch_id: int, owner: str) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(
                update(watches)
                .where(_W.id == watch_id, _W.announcing_by == owner, _W.announced_at.is_(None))
                .values(announcing_at=None, announcing_by=None)
            )
            return result.rowcount == 1

    # -- reading, for the service, metrics and tests ----------------------------------------
    def all_watches(self) -> list[Watch]:
        """Every stored watch, oldest first."""
        with reading(self.engine) as conn:
            return [_watch(r) for r in conn.execute(select(watches).order_by(_W.id)).mappings()]

    def get_watch(self, watch_id: int) -> Watch | None:
        """One watch by id."""
        with reading(self.engine) as conn:
            row = conn.execute(select(watches).where(_W.id == watch_id)).mappings().first()
            return _watch(row) if row is not None else None

    def audit_entries(self) -> list[AuditEntry]:
        """The audit table in insertion order."""
        with reading(self.engine) as conn:
            rows = conn.execute(select(audit_log).order_by(audit_log.c.id)).mappings()
            return [
                AuditEntry(
                    actor=r["actor"],
                    action=r["action"],
                    job_name=r["job_name"],
                    outcome=r["outcome"],
                    channel_id=r["channel_id"],
                    detail=r["detail"],
                )
                for r in rows
            ]

    def count_active_by_state(self) -> dict[str, int]:
        """Unfinished watches per last seen state name (for the watched-jobs gauge)."""
        with reading(self.engine) as conn:
            rows = conn.execute(
                select(_W.last_state, func.count())
                .where(_W.finished_at.is_(None))
                .group_by(_W.last_state)
            )
            return {str(state): int(count) for state, count in rows}
