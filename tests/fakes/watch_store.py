"""Seeding the watch store from synchronous code (test set-up, helper scripts), and databases
as earlier releases left them."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Column, Index, MetaData, Table, UniqueConstraint, insert

from bot.watch.model import NewWatch, Watch
from bot.watch.store import SqlWatchStore, make_engine
from bot.watch.tables import schema_version, watches


def seed_watch(store: SqlWatchStore, new: NewWatch, now: dt.datetime | None = None) -> Watch:
    """`store.add_watch(new, now=now)` run to its end; callable inside a running event loop
    too (an async test's set-up), where it runs on a loop of its own in another thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(store.add_watch(new, now=now))
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, store.add_watch(new, now=now)).result()


# The columns each schema step added to `watches`: a database an earlier release left behind
# has none of those of later steps.
COLUMNS_ADDED_BY_STEP: dict[int, tuple[str, ...]] = {
    2: ("job_key",),
    3: ("missing_since", "missing_count", "read_error_count", "read_error_noted"),
    4: ("card_stats",),
    5: ("cancelled_by",),
    6: ("card_progress", "progress_read_at"),
    7: ("subscription_id", "events"),
}


# What every watch of an earlier release holds unless a test says otherwise: one running job
# created from Slack in one channel.
_OLD_ROW: dict[str, Any] = {
    "project": "team-tuning",
    "region": "us-central1",
    "channel_id": "C0TEAM001",
    "started_by": "U0STARTER",
    "kind": "created",
    "language": "en",
    "last_state": "JOB_STATE_RUNNING",
    "next_poll_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    "error_count": 0,
    "paused_noted": False,
    "created_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    # Schema v3's columns, which have no default in the table.
    "missing_count": 0,
    "read_error_count": 0,
    "read_error_noted": False,
}


def old_database(url: str, version: int, rows: Sequence[Mapping[str, Any]]) -> None:
    """Create the store's tables as release `version` left them, holding `rows` of watches
    (each on top of a running job's usual values)."""
    later = {c for step, names in COLUMNS_ADDED_BY_STEP.items() if step > version for c in names}
    old = MetaData()
    columns = [
        Column(c.name, c.type, nullable=c.nullable, primary_key=c.primary_key)
        for c in watches.columns
        if c.name not in later
    ]
    if version < 2:
        table = Table(
            "watches",
            old,
            *columns,
            UniqueConstraint("job_name", "channel_id", name="uq_watches_job_channel"),
        )
    else:
        table = Table("watches", old, *columns)
        Index("uq_watches_key_channel", table.c.job_key, table.c.channel_id, unique=True)
    Table(
        "schema_version",
        old,
        *[Column(c.name, c.type, primary_key=c.primary_key) for c in schema_version.columns],
    )
    engine = make_engine(url)
    old.create_all(engine)
    applied = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with engine.begin() as conn:
        versions = old.tables["schema_version"]
        conn.execute(insert(versions).values(id=1, version=version, applied_at=applied))
        base = {k: v for k, v in _OLD_ROW.items() if k not in later}
        conn.execute(insert(table), [base | dict(row) for row in rows])
    engine.dispose()
