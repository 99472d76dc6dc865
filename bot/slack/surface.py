"""What every listener needs, built once in `bot.app`, and the small helpers they share."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.handlers.jobs import Actor, JobHandlers
from bot.i18n import render
from bot.metrics import COMMANDS
from bot.slack.dataset_check import DatasetCheck
from bot.slack.locale import LocaleCache
from bot.slack.mrkdwn import escape
from bot.tuning.problems import Problem
from bot.vertex.errors import VertexError, problem_for

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


@dataclass
class Surface:
    """The Slack surface's collaborators."""

    handlers: JobHandlers
    locales: LocaleCache
    check_dataset: DatasetCheck | None = None
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    triggers: RecentKeys = field(default_factory=RecentKeys)
    submissions: RecentKeys = field(default_factory=RecentKeys)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def after_ack(self, work: Coroutine[Any, Any, None]) -> None:
        """Run the slow part of a request after its ack, on the same event loop."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("work after ack failed", exc_info=task.exception())

    async def drain(self) -> None:
        """Let running work finish (shutdown), waiting at most DRAIN_SECONDS."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=DRAIN_SECONDS)

    @property
    def project(self) -> str:
        """The default project, named in permission errors."""
        return self.handlers.location.project

    async def actor(self, user_id: str, channel_id: str | None) -> Actor:
        """The asking user with their language."""
        return Actor(user_id, channel_id, await self.locales.language(user_id))


def problem_text(language: str, problem: Problem) -> str:
    """A problem in the user's language with its parameters escaped for mrkdwn."""
    safe: Mapping[str, str | int | float] = {
        k: escape(v) if isinstance(v, str) else v for k, v in problem.params.items()
    }
    return render(language, Problem(problem.key, safe))


def vertex_problem_text(
    language: str, error: VertexError, project: str, name: str | None = None
) -> str:
    """Google's refusal and what to do about it, in the user's language."""
    return problem_text(language, problem_for(error, project=project, name=name))


def observe(
    kind: str, outcome: str, *, user: str, job: str | None = None, started: float | None = None
) -> None:
    """One structured log line and one metric per handled command or interaction."""
    latency = round((time.monotonic() - started) * 1000, 1) if started is not None else None
    COMMANDS.labels(kind=kind, outcome=outcome).inc()
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
