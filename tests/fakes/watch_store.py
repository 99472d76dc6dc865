"""Seeding the watch store from synchronous code (test set-up, helper scripts)."""

from __future__ import annotations

import asyncio
import datetime as dt
from concurrent.futures import ThreadPoolExecutor

from bot.watch.model import NewWatch, Watch
from bot.watch.store import SqlWatchStore


def seed_watch(store: SqlWatchStore, new: NewWatch, now: dt.datetime | None = None) -> Watch:
    """`store.add_watch(new, now=now)` run to its end; callable inside a running event loop
    too (an async test's set-up), where it runs on a loop of its own in another thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(store.add_watch(new, now=now))
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, store.add_watch(new, now=now)).result()
