"""`Watcher`: the poller, its clock and its clients as one object with start and stop.

`stop()` is the graceful shutdown (SIGTERM): no new cycle starts; the running one may finish
its current announcements within `grace` seconds and then skips the card updates; if it takes
longer it is cancelled. Either way its leases are released (or expire), and a row is marked
announced only after Slack confirmed the post.

The watcher is handed an open store, a job reader and a notifier; the entry points
(`bot.app`, for both the bot and the watcher-only process) build those and own the wiring.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from typing import TYPE_CHECKING

from bot.metrics import POLL_CYCLE_SECONDS, WATCHED_JOBS
from bot.watch.bookkeeping import CycleReport, PollerMemory
from bot.watch.budget import RequestBudget
from bot.watch.notify import NO_CHARTS, NO_HOMES, ChartPoster, HomeRefresher, Notifier
from bot.watch.policy import PollConfig
from bot.watch.poller import Poller, run_poll_cycle
from bot.watch.ports import CurvesReader, JobReader, SubscriptionPort
from bot.watch.scheduler import start_clock

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from bot.watch.store import SqlWatchStore

log = logging.getLogger(__name__)


def new_owner_id() -> str:
    """A lease owner name unique to this process and start."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class Watcher:
    """Runs `run_poll_cycle` on a clock until stopped."""

    def __init__(
        self,
        store: SqlWatchStore,
        reader: JobReader,
        notifier: Notifier,
        *,
        config: PollConfig,
        budget: RequestBudget,
        owner: str | None = None,
        homes: HomeRefresher = NO_HOMES,
        curves: CurvesReader | None = None,
        charts: ChartPoster = NO_CHARTS,
        subscriptions: SubscriptionPort | None = None,
    ) -> None:
        self.store = store
        self.subscriptions = subscriptions
        self.homes = homes
        self.curves = curves
        self.charts = charts
        self.reader = reader
        self.notifier = notifier
        self.config = config
        self.budget = budget
        self.owner = owner or new_owner_id()
        self.memory = PollerMemory()
        self.last_report: CycleReport | None = None
        self._stopping = asyncio.Event()
        self._scheduler: AsyncIOScheduler | None = None
        self._current: asyncio.Task[CycleReport] | None = None

    def start(self) -> None:
        """Start firing cycles on the running event loop (the first one right away)."""
        self._scheduler = start_clock(self.run_once, self.config.interval)

    async def run_once(self) -> CycleReport | None:
        """One cycle (what the clock calls); None when shutting down."""
        if self._stopping.is_set():
            return None
        started = time.perf_counter()
        self._current = asyncio.create_task(
            run_poll_cycle(
                Poller(
                    self.store,
                    self.reader,
                    self.notifier,
                    self.budget,
                    self.owner,
                    self.config,
                    self.homes,
                    self.curves,
                    self.charts,
                    self.subscriptions,
                ),
                self.memory,
                stopping=self._stopping,
            )
        )
        try:
            report = await self._current
        except asyncio.CancelledError:
            if self._stopping.is_set():
                return None
            raise
        except Exception:
            # The next tick tries again; a broken database or network must not stop the clock.
            log.exception("poll cycle failed")
            return None
        finally:
            self._current = None
        POLL_CYCLE_SECONDS.observe(time.perf_counter() - started)
        self.last_report = report
        await self._update_gauge()
        return report

    async def _update_gauge(self) -> None:
        try:
            counts = await asyncio.to_thread(self.store.count_active_by_state)
        except Exception:
            log.warning("could not count watched jobs", exc_info=True)
            return
        WATCHED_JOBS.clear()
        for state, count in counts.items():
            WATCHED_JOBS.labels(state=state).set(count)

    async def stop(self, grace: float = 10.0) -> None:
        """Stop the clock; the running cycle and background work may finish within `grace`
        seconds (the cycle is cancelled after it)."""
        self._stopping.set()
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        current = self._current
        if current is not None and not current.done():
            done, _ = await asyncio.wait({current}, timeout=grace)
            if not done:
                current.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await current
        # Work the poller handed to the background (a slow region, a hung post) may finish in
        # what is left of the grace; otherwise its leases expire and another process takes over.
        remaining = deadline - loop.time()
        if remaining > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await self.memory.settle()

    async def aclose(self) -> None:
        """Close the clients and the database pool."""
        close = getattr(self.reader, "aclose", None)
        if close is not None:
            await close()
        await asyncio.to_thread(self.store.close)
