"""The poll policy: how often each watch is read, how reads back off, when a 404 is believed.

Long-running jobs are read less often (twice the interval after an hour, four times after six
hours) and paused ones `paused_factor` times less. A read error backs the job off alone,
exponentially up to `max_backoff`, jittered.

Refused reads. Errors Google will repeat until someone acts (403, 401, 400, ...) are retried
at most `refused_backoff_intervals` intervals apart (rate limits, 5xx and lost connections keep
the exponential backoff up to `max_backoff`). After `note_after_errors` of them in a row the
thread is told once what failed and which permission to grant.

Vanished jobs. One 404 is not believed (a replica behind, a glitch): it takes
`gone_after_polls` 404s in a row lasting `gone_after_seconds` before the location's listing is
asked whether the job is gone.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from bot.tuning.job import TuningJob
from bot.tuning.states import JobState
from bot.vertex.errors import (
    CredentialsUnavailable,
    QuotaExceeded,
    Unauthenticated,
    Unavailable,
    VertexError,
)
from bot.watch.model import Watch
from bot.watch.reading import QuietJob

PAGE_SIZE = 100


@dataclass(frozen=True)
class PollConfig:
    """How often and how much the poller works."""

    interval: float = 60.0
    lease_seconds: float | None = None  # default: 3 intervals, between 5 s and 120 s
    max_claim: int = 20_000
    page_size: int = PAGE_SIZE
    concurrency: int = 8
    max_backoff: float = 1800.0
    paused_factor: float = 8.0
    # One 404 can be a glitch (a replica that has not caught up): a job is declared gone only
    # after this many 404s in a row spanning at least this long, and once an unfiltered
    # listing of its location agrees.
    gone_after_polls: int = 3
    gone_after_seconds: float = 300.0
    # Reads Google refuses until someone acts (403, 400, ...): the thread is told after this
    # many in a row, and they are retried at most this many intervals apart, so that a granted
    # permission shows within minutes rather than after `max_backoff`.
    note_after_errors: int = 3
    refused_backoff_intervals: float = 4.0
    # How long a cycle waits for one location's reads, and for one watch's Slack calls, before
    # that work goes on in the background (see `read_limit` and `post_limit`).
    read_limit_seconds: float | None = None
    post_limit_seconds: float | None = None
    # How long an ending post may wait for Slack's answer (the Slack client's timeout).
    post_timeout_seconds: float | None = None
    # How often a running job's training curves are read for its card's progress: slower than
    # the state poll, since each read costs a request and a loss moves slowly.
    metrics_interval: float = 300.0
    curves_limit_seconds: float | None = None

    @property
    def lease(self) -> dt.timedelta:
        """How long a claim stays ours without renewal."""
        seconds = self.lease_seconds
        if seconds is None:
            seconds = min(max(3 * self.interval, 5.0), 120.0)
        return dt.timedelta(seconds=seconds)

    @property
    def read_limit(self) -> float:
        """Seconds a cycle waits for one location's reads: default half an interval, 1–30 s."""
        if self.read_limit_seconds is not None:
            return self.read_limit_seconds
        return min(max(0.5 * self.interval, 1.0), 30.0)

    @property
    def post_limit(self) -> float:
        """Seconds a cycle waits for one watch's Slack calls: default half an interval, 2–15 s."""
        if self.post_limit_seconds is not None:
            return self.post_limit_seconds
        return min(max(0.5 * self.interval, 2.0), 15.0)

    @property
    def curves_limit(self) -> float:
        """Seconds a card's edit waits for the job's curves: default a quarter interval, 1–10 s.
        Past it the card is drawn with the progress it already shows."""
        if self.curves_limit_seconds is not None:
            return self.curves_limit_seconds
        return min(max(0.25 * self.interval, 1.0), 10.0)

    def curves_due(self, watch: Watch, now: dt.datetime) -> bool:
        """The watch's card shows a running job whose curves were not read for a
        `metrics_interval`."""
        return (
            watch.message_ts is not None
            and watch.card_state is JobState.RUNNING
            and watch.announcing_at is None
            and (
                watch.progress_read_at is None
                or now - watch.progress_read_at >= dt.timedelta(seconds=self.metrics_interval)
            )
        )

    @property
    def post_timeout(self) -> float:
        """Seconds an ending post may be in flight: default one lease, 10–30 s."""
        if self.post_timeout_seconds is not None:
            return self.post_timeout_seconds
        return min(max(self.lease.total_seconds(), 10.0), 30.0)

    @property
    def post_flight(self) -> dt.timedelta:
        """After this long, a post confirmed by another owner has reached the thread or never
        will: a post can wait `post_timeout` for Slack's answer, plus Slack's own processing."""
        return dt.timedelta(seconds=self.post_timeout + 5.0)

    def slowdown(self, job: TuningJob | QuietJob | None, watch: Watch, now: dt.datetime) -> float:
        """Interval multiplier: long-running jobs and paused ones are polled less often."""
        if job is not None and job.state.is_paused:
            return self.paused_factor
        started = (job.create_time if job is not None else None) or watch.created_at
        age = now - started
        if age >= dt.timedelta(hours=6):
            return 4.0
        if age >= dt.timedelta(hours=1):
            return 2.0
        return 1.0

    def backoff(self, error_count: int, *, refused: bool = False) -> dt.timedelta:
        """Delay after `error_count` consecutive read errors of one job, jittered; `refused`
        errors (see `refused`) wait at most `refused_backoff_intervals` intervals."""
        ceiling = self.max_backoff
        if refused:
            ceiling = min(ceiling, self.interval * self.refused_backoff_intervals)
        base = min(self.interval * (2 ** min(error_count, 20)), ceiling)
        return dt.timedelta(seconds=base * random.uniform(0.8, 1.2))  # noqa: S311 - jitter, not secrecy


def refused(error: VertexError) -> bool:
    """A read Google will keep refusing until someone acts (403, 401, 400, ...), unlike rate
    limits, 5xx and lost connections, which pass by themselves (and keep `max_backoff`)."""
    if isinstance(error, Unavailable | QuotaExceeded | CredentialsUnavailable):
        # Credentials that cannot be had are the whole bot's trouble, logged as such; a note
        # in every thread asking for a permission would mislead.
        return False
    if isinstance(error, Unauthenticated):
        return True
    return 400 <= error.http_status < 500 and error.http_status != 429


def gone_ripe(watch: Watch, config: PollConfig, now: dt.datetime) -> bool:
    """True when one more 404 now would have lasted long enough to be believed."""
    since = watch.missing_since or now
    return watch.missing_count + 1 >= config.gone_after_polls and now - since >= dt.timedelta(
        seconds=config.gone_after_seconds
    )
