"""Exponential backoff with full jitter, bounded in attempts and total time."""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """google-api-core's defaults (1 s, ×2, capped at 60 s, 120 s in all) with 5 attempts.

    `sleep`, `random` and `clock` are injectable so tests run without waiting.
    """

    max_attempts: int = 5
    initial: float = 1.0
    multiplier: float = 2.0
    maximum: float = 60.0
    deadline: float = 120.0
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, compare=False)
    random: Callable[[], float] = field(default=random.random, compare=False)
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        """Delay before retry number `attempt` (1-based): full jitter, or Retry-After if longer."""
        ceiling = min(self.maximum, self.initial * self.multiplier ** (attempt - 1))
        delay = self.random() * ceiling
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.maximum))
        return delay

    def may_retry(self, attempt: int, started: float, delay: float) -> bool:
        """True when one more attempt fits in both the attempt and the time budget."""
        if attempt >= self.max_attempts:
            return False
        return (self.clock() - started) + delay <= self.deadline


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Parse a `Retry-After` header: delta seconds or an HTTP date; None when absent or odd."""
    if not value:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)
