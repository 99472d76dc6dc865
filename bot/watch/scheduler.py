"""APScheduler 3 as the watcher's clock: it fires the poll cycle, the database holds the state.

APScheduler's own job stores must not be shared by processes, so none is used: the in-memory
default only remembers "call this every N seconds". `max_instances=1` keeps cycles from
overlapping, `coalesce=True` folds missed runs into one, and the misfire grace equals the
interval (APScheduler's default of one second would silently drop runs after a slow cycle).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

JOB_ID = "watch-poll-cycle"


def start_clock(
    tick: Callable[[], Awaitable[object]], interval: float, *, first_run_now: bool = True
) -> AsyncIOScheduler:
    """Start a scheduler (on the running loop) that awaits `tick` every `interval` seconds."""
    scheduler = AsyncIOScheduler(timezone=dt.UTC)
    scheduler.add_job(
        tick,
        IntervalTrigger(seconds=interval, timezone=dt.UTC),
        id=JOB_ID,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=max(1, math.ceil(interval)),
        next_run_time=dt.datetime.now(dt.UTC) if first_run_now else None,
    )
    scheduler.start()
    return scheduler
