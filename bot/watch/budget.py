"""A per-region request budget for the Vertex tuning API (get, list, cancel) and the curve reads.

Google allows 600 such requests per minute per project and region, shared by everyone using the
project. The watcher keeps to its own share (`VERTEX_REQUESTS_PER_MINUTE`, 60 by default) with a
token bucket per project and region: a full minute's worth may be spent at once, and it refills
evenly. The budget is per process, so replicas sharing a database should divide the share.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.tuning.refs import Location

# Google's published quota for get, list and cancel: per minute, per project and region.
GOOGLE_REQUESTS_PER_MINUTE = 600


@dataclass
class _Bucket:
    tokens: float
    at: float


class RequestBudget:
    """Token buckets of `per_minute` requests, one per location."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.per_minute = per_minute
        self._clock = clock
        self._buckets: dict[Location, _Bucket] = {}

    def _bucket(self, location: Location) -> _Bucket:
        now = self._clock()
        bucket = self._buckets.get(location)
        if bucket is None:
            bucket = self._buckets[location] = _Bucket(float(self.per_minute), now)
        else:
            refill = (now - bucket.at) * self.per_minute / 60.0
            bucket.tokens = min(float(self.per_minute), bucket.tokens + refill)
            bucket.at = now
        return bucket

    def available(self, location: Location) -> int:
        """Whole requests that may be sent to `location` now."""
        return int(self._bucket(location).tokens)

    def try_take(self, location: Location) -> bool:
        """Spend one request if the budget allows it."""
        bucket = self._bucket(location)
        if bucket.tokens < 1.0:
            return False
        bucket.tokens -= 1.0
        return True

    def refund(self, location: Location) -> None:
        """Give back a request that was reserved but not sent."""
        bucket = self._bucket(location)
        bucket.tokens = min(float(self.per_minute), bucket.tokens + 1.0)
