"""What every listener needs, built once in `bot.app`, and the small helpers they share."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from prometheus_client import Counter

from bot.handlers.charts import ChartHandlers
from bot.handlers.jobs import Actor, JobHandlers
from bot.handlers.subscriptions import SubscriptionHandlers
from bot.handlers.trying import TryHandlers
from bot.i18n import DEFAULT_LANGUAGE, render, translate
from bot.metrics import COMMANDS
from bot.slack.charts import SlackCharts
from bot.slack.locale import LocaleCache
from bot.slack.mrkdwn import code_text
from bot.tuning.problems import Problem

if TYPE_CHECKING:
    from bot.slack.home import HomeTab

log = logging.getLogger(__name__)

DRAIN_SECONDS = 10.0


class RecentKeys:
    """A bounded set of keys seen in the last `ttl_seconds` (trigger ids, view ids)."""

    def __init__(
        self,
        ttl_seconds: float = 600.0,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._max = max_keys
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()

    def _expire(self, now: float) -> None:
        while self._seen:
            key, at = next(iter(self._seen.items()))
            if now - at < self._ttl and len(self._seen) <= self._max:
                break
            self._seen.pop(key)

    def first_time(self, key: str) -> bool:
        """True the first time a key is offered within the TTL; False for every repeat."""
        now = self._clock()
        self._expire(now)
        if key in self._seen:
            return False
        self._seen[key] = now
        return True

    def forget(self, key: str) -> None:
        """Let the key through again (e.g. a submission that failed may be retried)."""
        self._seen.pop(key, None)


class PendingCreates:
    """Submissions whose create Google never confirmed, held for the user's explicit "create
    again" (in memory: after a restart the user fills in the form again)."""

    def __init__(self, ttl_seconds: float = 86_400.0, max_items: int = 1_000) -> None:
        self._ttl = ttl_seconds
        self._max = max_items
        self._items: OrderedDict[str, tuple[float, Any]] = OrderedDict()

    def put(self, item: Any) -> str:
        """Keep `item`; returns the token a button carries to find it again."""
        now = time.monotonic()
        while self._items and (
            len(self._items) >= self._max or now - next(iter(self._items.values()))[0] > self._ttl
        ):
            self._items.popitem(last=False)
        token = secrets.token_urlsafe(12)
        self._items[token] = (now, item)
        return token

    def take(self, token: str) -> Any | None:
        """The item for `token`, removed (a second click finds nothing); None when unknown."""
        entry = self._items.pop(token, None)
        if entry is None or time.monotonic() - entry[0] > self._ttl:
            return None
        return entry[1]

    def give_back(self, token: str, item: Any) -> None:
        """Keep an item taken by someone it did not belong to."""
        self._items[token] = (time.monotonic(), item)


@dataclass
class Surface:
    """The Slack surface's collaborators."""

    handlers: JobHandlers
    locales: LocaleCache
    homes: HomeTab | None = None  # the App Home tab (None: the bot publishes none)
    trying: TryHandlers | None = None  # Try it (None: the bot offers no model calls)
    charts: SlackCharts | None = None  # training-curve charts (None: `/tune chart` is off)
    chart_reads: ChartHandlers | None = None
    # Channel subscriptions and settings (None: `/tune subscribe` and the rest are off).
    subscriptions: SubscriptionHandlers | None = None
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    triggers: RecentKeys = field(default_factory=RecentKeys)
    submissions: RecentKeys = field(default_factory=RecentKeys)
    pending_creates: PendingCreates = field(default_factory=PendingCreates)
    sleep: Callable[[float], Coroutine[Any, Any, None]] = asyncio.sleep
    drain_seconds: float = DRAIN_SECONDS
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _abandoned: dict[asyncio.Task[None], Callable[[], Coroutine[Any, Any, None]]] = field(
        default_factory=dict
    )

    def after_ack(
        self,
        work: Coroutine[Any, Any, None],
        *,
        if_abandoned: Callable[[], Coroutine[Any, Any, None]] | None = None,
    ) -> None:
        """Run the slow part of a request after its ack, on the same event loop.

        `if_abandoned` tells the user when a shutdown cuts the work short (see `drain`).
        """
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        if if_abandoned is not None:
            self._abandoned[task] = if_abandoned
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._abandoned.pop(task, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("work after ack failed", exc_info=task.exception())

    async def drain(self) -> None:
        """Let running work finish (shutdown) for `drain_seconds`; what is still running then
        is cancelled, and its user told that the bot is restarting."""
        if not self._tasks:
            return
        _, running = await asyncio.wait(set(self._tasks), timeout=self.drain_seconds)
        notices = [self._abandoned[t] for t in running if t in self._abandoned]
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        for notice in notices:
            try:
                await notice()
            except Exception:  # the process is going away; say so in the log at least
                log.warning("could not tell a user the bot is restarting", exc_info=True)
        if running:
            log.warning("work cut short by shutdown", extra={"count": len(running)})

    async def actor(self, user_id: str, channel_id: str | None) -> Actor:
        """The asking user with their language."""
        return Actor(user_id, channel_id, await self.locales.language(user_id))


def problem_text(language: str, problem: Problem) -> str:
    """A problem in the user's language with its parameters escaped for mrkdwn, also where a
    template puts them in a code span."""
    safe: Mapping[str, str | int | float] = {
        k: code_text(v) if isinstance(v, str) else v for k, v in problem.params.items()
    }
    return render(language, Problem(problem.key, safe))


@functools.lru_cache(maxsize=512)
def _command_counter(kind: str, outcome: str) -> Counter:
    # `labels()` takes a lock and builds the label tuple on every call; the instant answers
    # (help) count before their ack, so each (kind, outcome) child is looked up once.
    return COMMANDS.labels(kind=kind, outcome=outcome)


def observe(
    kind: str, outcome: str, *, user: str, job: str | None = None, started: float | None = None
) -> None:
    """One structured log line and one metric per handled command or interaction."""
    latency = round((time.monotonic() - started) * 1000, 1) if started is not None else None
    _command_counter(kind, outcome).inc()
    log.info(
        "command",
        extra={
            "command": kind,
            "user": user,
            "job": job,
            "outcome": outcome,
            "latency_ms": latency,
        },
    )


async def restarting(
    surface: Surface, body: Mapping[str, Any], respond: Callable[..., Awaitable[Any]]
) -> None:
    """Tell the user who clicked that the bot restarts before it could answer."""
    user = body.get("user")
    user_id = str(user.get("id") or "") if isinstance(user, Mapping) else ""
    language = surface.locales.cached(user_id) or DEFAULT_LANGUAGE
    await respond(
        text=translate(language, "cmd.restarting"),
        response_type="ephemeral",
        replace_original=False,
    )
