"""Creates and upgrades the watch store's schema on start.

An explicit versioned scheme rather than Alembic: a `schema_version` table holds one number and
`STEPS` is an ordered list of functions, step *n* taking the schema from version *n-1* to *n*.
The schema is three tables owned by this one module, upgrades must run unattended inside the
bot's own start-up (no `alembic upgrade` step for whoever installs it), and Alembic would add a
dependency, a config file and a script directory for what is a dozen lines here. Steps run in one
transaction; on PostgreSQL an advisory lock makes replicas that start together take turns, and on
SQLite the store's `BEGIN IMMEDIATE` transactions do the same. A database newer than the code is
refused rather than guessed at.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import Connection, Engine, delete, insert, inspect, select, text, update

from bot.tuning.refs import JobRef
from bot.watch.tables import (
    audit_log,
    channel_settings,
    delivery_errors,
    location_reads,
    schema_version,
    subscriptions,
    watches,
)

# Any constant works: it only has to be the same in every replica.
_PG_LOCK_KEY = 7_412_093_355


def _v1_initial(conn: Connection) -> None:
    # A fresh database gets today's tables here, so every later step must be idempotent.
    watches.create(conn, checkfirst=True)
    for index in watches.indexes:
        index.create(conn, checkfirst=True)
    audit_log.create(conn, checkfirst=True)


def _v2_job_key(conn: Connection) -> None:
    """Key watches on region + job id: Google names jobs by project number, users by id."""
    if "job_key" not in {c["name"] for c in inspect(conn).get_columns("watches")}:
        conn.execute(text("ALTER TABLE watches ADD COLUMN job_key VARCHAR(120)"))
    rows = conn.execute(
        select(
            watches.c.id,
            watches.c.job_name,
            watches.c.channel_id,
            watches.c.message_ts,
            watches.c.finished_at,
        ).order_by(watches.c.id)
    ).all()
    kept: dict[tuple[str, str], tuple[int, bool]] = {}
    dropped: list[int] = []
    for row in rows:
        key = JobRef.from_name(row.job_name).key
        conn.execute(update(watches).where(watches.c.id == row.id).values(job_key=key))
        # Two rows for one job in one channel (once by project id, once by number): keep the
        # one whose card is live, else the oldest.
        live = row.message_ts is not None and row.finished_at is None
        earlier = kept.get((key, row.channel_id))
        if earlier is None:
            kept[(key, row.channel_id)] = (row.id, live)
        elif live and not earlier[1]:
            dropped.append(earlier[0])
            kept[(key, row.channel_id)] = (row.id, live)
        else:
            dropped.append(row.id)
    if dropped:
        conn.execute(delete(watches).where(watches.c.id.in_(dropped)))
    if conn.dialect.name == "postgresql":
        conn.execute(text("ALTER TABLE watches DROP CONSTRAINT IF EXISTS uq_watches_job_channel"))
    for index in watches.indexes:
        index.create(conn, checkfirst=True)


def _v3_read_trouble(conn: Connection) -> None:
    """Remember 404s and refused reads across polls (a 404 ends a watch only once it lasted)."""
    present = {c["name"] for c in inspect(conn).get_columns("watches")}
    false = "false" if conn.dialect.name == "postgresql" else "0"
    added = {
        "missing_since": watches.c.missing_since.type.compile(dialect=conn.dialect),
        "missing_count": "INTEGER NOT NULL DEFAULT 0",
        "read_error_count": "INTEGER NOT NULL DEFAULT 0",
        "read_error_noted": f"BOOLEAN NOT NULL DEFAULT {false}",
    }
    for name, ddl in added.items():
        # v1 already creates these on a fresh database: add only what is missing.
        if name not in present:
            conn.execute(text(f"ALTER TABLE watches ADD COLUMN {name} {ddl}"))


def _v4_card_stats(conn: Connection) -> None:
    """Remember whether each card shows Google's data statistics, so that their arrival redraws
    it once. Existing rows start at false: a live card gets one redraw, in today's layout."""
    if "card_stats" in {c["name"] for c in inspect(conn).get_columns("watches")}:
        return  # created by v1 on a fresh database
    false = "false" if conn.dialect.name == "postgresql" else "0"
    conn.execute(
        text(f"ALTER TABLE watches ADD COLUMN card_stats BOOLEAN NOT NULL DEFAULT {false}")
    )


def _v5_cancelled_by(conn: Connection) -> None:
    """Remember who cancelled a job through the bot, for its card and its ending."""
    # v1 already creates the column on a fresh database.
    if "cancelled_by" not in {c["name"] for c in inspect(conn).get_columns("watches")}:
        conn.execute(text("ALTER TABLE watches ADD COLUMN cancelled_by VARCHAR(32)"))


def _v6_progress(conn: Connection) -> None:
    """Remember the training progress each card shows and when the curves were last read."""
    present = {c["name"] for c in inspect(conn).get_columns("watches")}
    added = {
        "card_progress": "VARCHAR(96)",
        "progress_read_at": watches.c.progress_read_at.type.compile(dialect=conn.dialect),
    }
    for name, ddl in added.items():
        # v1 already creates these on a fresh database.
        if name not in present:
            conn.execute(text(f"ALTER TABLE watches ADD COLUMN {name} {ddl}"))


def _v7_subscriptions(conn: Connection) -> None:
    """Channel subscriptions and settings, discovery's reads, delivery errors; and on each
    watch the subscription that found it and the moments its channel hears of."""
    for table in (subscriptions, channel_settings, location_reads, delivery_errors):
        table.create(conn, checkfirst=True)
        for index in table.indexes:
            index.create(conn, checkfirst=True)
    present = {c["name"] for c in inspect(conn).get_columns("watches")}
    for name, ddl in {"subscription_id": "INTEGER", "events": "VARCHAR(8)"}.items():
        if name not in present:  # v1 already creates them on a fresh database
            conn.execute(text(f"ALTER TABLE watches ADD COLUMN {name} {ddl}"))


STEPS: list[Callable[[Connection], None]] = [
    _v1_initial,
    _v2_job_key,
    _v3_read_trouble,
    _v4_card_stats,
    _v5_cancelled_by,
    _v6_progress,
    _v7_subscriptions,
]
LATEST = len(STEPS)


class SchemaTooNew(RuntimeError):
    """The database was upgraded by a newer release of the bot."""


def current_version(conn: Connection) -> int:
    """The schema version recorded in the database (0 for an empty one)."""
    schema_version.create(conn, checkfirst=True)
    found = conn.execute(select(schema_version.c.version).where(schema_version.c.id == 1))
    return int(found.scalar_one_or_none() or 0)


def upgrade(engine: Engine) -> int:
    """Bring the schema to `LATEST`; returns the version found before upgrading."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        found = current_version(conn)
        if found > LATEST:
            raise SchemaTooNew(
                f"watch store schema is version {found}; this release knows up to {LATEST}"
            )
        for step in STEPS[found:]:
            step(conn)
        now = dt.datetime.now(dt.UTC)
        if found == 0:
            conn.execute(insert(schema_version).values(id=1, version=LATEST, applied_at=now))
        elif found < LATEST:
            conn.execute(
                update(schema_version)
                .where(schema_version.c.id == 1)
                .values(version=LATEST, applied_at=now)
            )
        return found
