"""Submit a tuning job at most once per submission key, even when a create's answer is lost."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.tuning.job import TuningJob
from bot.tuning.refs import Location
from bot.tuning.spec import TuningJobSpec
from bot.tuning.submission_key import SUBMISSION_LABEL, labels_for_submission
from bot.vertex.client import TuningClient
from bot.vertex.errors import CreateOutcomeUnknown, VertexError

log = logging.getLogger(__name__)

MAX_CREATES = 2
LOOKUP_DELAYS = (1.0, 2.0, 4.0)


@dataclass(frozen=True)
class SubmitResult:
    """The job for the submission; `reused` when it existed already (an earlier attempt's)."""

    job: TuningJob
    reused: bool


async def submit_job(
    client: TuningClient,
    location: Location,
    spec: TuningJobSpec,
    submission_key: str,
    *,
    lookup_delays: tuple[float, ...] = LOOKUP_DELAYS,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> SubmitResult:
    """Create the job labelled with `submission_key` unless one exists already.

    A create whose outcome is unknown is resolved by looking for the label (a few times, since a
    new job may take a moment to be listed); it is sent again only when the job is confirmed
    absent, and at most MAX_CREATES times in all. Raises CreateOutcomeUnknown when that is not
    enough to know, and VertexError for errors Google reports.
    """
    labelled = spec.with_labels(labels_for_submission(submission_key))
    existing = await client.find_by_label(location, SUBMISSION_LABEL, submission_key)
    if existing is not None:
        return SubmitResult(existing, reused=True)
    creates = 0
    while True:
        creates += 1
        try:
            return SubmitResult(await client.create(location, labelled), reused=False)
        except CreateOutcomeUnknown as exc:
            log.warning("vertex create outcome unknown (%s); looking the job up", exc.status)
            try:
                found = await _look_up(client, location, submission_key, lookup_delays, sleep)
            except VertexError as lookup_error:
                raise exc from lookup_error
            if found is not None:
                return SubmitResult(found, reused=True)
            if creates >= MAX_CREATES:
                raise


async def _look_up(
    client: TuningClient,
    location: Location,
    key: str,
    delays: tuple[float, ...],
    sleep: Callable[[float], Awaitable[None]],
) -> TuningJob | None:
    """The job with the submission label; None only when every look-up found nothing."""
    for delay in delays:
        await sleep(delay)
        found = await client.find_by_label(location, SUBMISSION_LABEL, key)
        if found is not None:
            return found
    return None
