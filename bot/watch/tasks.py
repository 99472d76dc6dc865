"""Running many small async steps: a bounded pool in which one step's failure stops no other."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable

log = logging.getLogger(__name__)

Step = Callable[[], Awaitable[None]]


async def logged(step: Step) -> None:
    """Run `step`; an exception is logged, not raised (one watch's failure must not stop the
    others)."""
    try:
        await step()
    except Exception:
        log.exception("watch step failed")


async def bounded(limit: int, work: Iterable[Step]) -> None:
    """Run the steps with at most `limit` at a time; `limit` workers share one iterator, so
    10,000 watches cost 8 tasks, not 10,000."""
    steps = iter(work)

    async def worker() -> None:
        for step in steps:
            await logged(step)

    await asyncio.gather(*(worker() for _ in range(limit)))
