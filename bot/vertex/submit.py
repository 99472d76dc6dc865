"""Submit a tuning job at most once per submission key, even when a create's answer is lost.

`tuningJobs.create` has no request id, so every job the bot creates carries its submission key
as a label. A create whose outcome is unknown (the answer was lost after the request left) is
never sent again on the bot's own initiative: Google does not promise that `list` shows a new job
at once, so a few empty look-ups prove nothing. The job is looked for while the user waits
(`QUICK_LOOKUP_DELAYS`), then for minutes in the background (`BACKGROUND_LOOKUP_DELAYS`, driven by
the caller), and created again only when the user explicitly asks after all came back empty.
"""

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

QUICK_LOOKUP_DELAYS = (1.0, 2.0, 4.0)
# About ten minutes in all: long enough for any listing lag Google has been seen to have.
BACKGROUND_LOOKUP_DELAYS = (10.0, 20.0, 30.0, 60.0, 60.0, 120.0, 120.0, 180.0)


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
    lookup_delays: tuple[float, ...] = QUICK_LOOKUP_DELAYS,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> SubmitResult:
    """Create the job labelled with `submission_key` unless one exists already.

    Sends at most one create. When its outcome is unknown the job is looked up after each of
    `lookup_delays`; if none finds it, CreateOutcomeUnknown is raised and the caller keeps
    looking (see `find_submitted`). Raises VertexError for errors Google reports.
    """
    labelled = spec.with_labels(labels_for_submission(submission_key))
    existing = await client.find_by_label(location, SUBMISSION_LABEL, submission_key)
    if existing is not None:
        return SubmitResult(existing, reused=True)
    try:
        return SubmitResult(await client.create(location, labelled), reused=False)
    except CreateOutcomeUnknown as exc:
        log.warning("vertex create outcome unknown (%s); looking the job up", exc.status)
        for delay in lookup_delays:
            await sleep(delay)
            try:
                found = await find_submitted(client, location, submission_key)
            except VertexError as lookup_error:
                log.info("look-up after an unknown create failed", exc_info=lookup_error)
                continue
            if found is not None:
                return SubmitResult(found, reused=True)
        raise


async def find_submitted(
    client: TuningClient, location: Location, submission_key: str
) -> TuningJob | None:
    """The job created for `submission_key`, or None when Google's listing does not show it."""
    return await client.find_by_label(location, SUBMISSION_LABEL, submission_key)
