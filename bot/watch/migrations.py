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

from sqlalchemy import Connection, Engine, insert, select, text, update

from bot.watch.tables import audit_log, schema_version, watches

# Any constant works: it only has to be the same in every replica.
_PG_LOCK_KEY = 7_412_093_355


def _v1_initial(conn: Connection) -> None:
    watches.create(conn, checkfirst=True)
    for index in watches.indexes:
        index.create(conn, checkfirst=True)
    audit_log.create(conn, checkfirst=True)


STEPS: list[Callable[[Connection], None]] = [_v1_initial]
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
