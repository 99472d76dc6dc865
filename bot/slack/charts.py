"""Training-curve charts in Slack: drawn from a job's curves and uploaded as a PNG.

Two places post one: the thread of a successful ending (`job_succeeded`, in the background, so
a slow TensorBoard or upload never holds back the poller) and `/tune chart`. A job announced in
several channels is read and drawn once per language: the chart made for the first ending is
kept for a few minutes and uploaded to the others. Uploads go through `files_upload_v2`, Slack's
external upload flow (`files.getUploadURLExternal`, the bytes, `files.completeUploadExternal`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.charts.alt_text import chart_alt_text
from bot.i18n import translate
from bot.metrics import CHART_SECONDS, CHARTS
from bot.tuning.curves import CurvesMissing, Gap, TrainingCurves
from bot.tuning.job import TuningJob
from bot.watch.model import Watch
from bot.watch.ports import CurvesReader

log = logging.getLogger(__name__)

# How long a drawn chart is reused for the same job's other endings.
_KEEP_SECONDS = 300.0

Renderer = Callable[..., Awaitable[bytes]]


async def _render(curves: TrainingCurves, *, title: str, language: str) -> bytes:
    # matplotlib costs about 50 MB and a quarter second to import: only once a chart is drawn.
    from bot.charts.render import render_chart_async

    return await render_chart_async(curves, title=title, language=language)


@dataclass(frozen=True)
class JobChart:
    """A drawn chart and what Slack shows with it."""

    png: bytes
    filename: str
    title: str
    alt_text: str
    curves: TrainingCurves


def chart_title(job: TuningJob, display_name: str | None = None) -> str:
    """What the chart is titled with: the job's display name, else `#id`."""
    return display_name or job.display_name or f"#{job.ref.job_id}"


class SlackCharts:
    """Reads, draws and uploads jobs' training-curve charts."""

    def __init__(
        self,
        client: AsyncWebClient,
        reader: CurvesReader,
        *,
        render: Renderer = _render,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._reader = reader
        self._render = render
        self._clock = clock
        self._made: dict[tuple[str, str], tuple[float, asyncio.Task[JobChart]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def make(
        self, job: TuningJob, *, language: str, display_name: str | None = None
    ) -> JobChart:
        """The job's chart as its curves stand now. Raises `CurvesMissing` (no curves yet, or
        none recorded), or the reader's error when a read failed."""
        key = (job.name, language)
        now = self._clock()
        kept = self._made.get(key)
        if kept is not None and now - kept[0] < _KEEP_SECONDS and not kept[1].cancelled():
            task = kept[1]
            if not task.done() or task.exception() is None:
                return await asyncio.shield(task)
        task = asyncio.create_task(self._draw(job, language, display_name))
        self._made = {k: v for k, v in self._made.items() if now - v[0] < _KEEP_SECONDS}
        self._made[key] = (now, task)
        return await asyncio.shield(task)

    async def _draw(self, job: TuningJob, language: str, display_name: str | None) -> JobChart:
        curves = await self._reader.read_curves(job)
        if curves.is_empty:
            raise CurvesMissing(Gap.NO_SERIES, "the run has recorded no points yet")
        return await self.draw(job, curves, language=language, display_name=display_name)

    async def draw(
        self,
        job: TuningJob,
        curves: TrainingCurves,
        *,
        language: str,
        display_name: str | None = None,
    ) -> JobChart:
        """Draw `curves` (not empty) off the event loop."""
        title = chart_title(job, display_name)
        started = time.perf_counter()
        png = await self._render(curves, title=title, language=language)
        CHART_SECONDS.observe(time.perf_counter() - started)
        return JobChart(
            png=png,
            filename=f"training-curves-{job.ref.job_id}.png",
            title=translate(language, "charts.file_title", name=title),
            alt_text=chart_alt_text(curves, title=title, language=language),
            curves=curves,
        )

    async def upload(
        self,
        chart: JobChart,
        *,
        channel: str,
        thread_ts: str | None = None,
        comment: str | None = None,
    ) -> None:
        """Share the chart in `channel` (in the thread of `thread_ts` when given)."""
        await self._client.files_upload_v2(
            channel=channel,
            thread_ts=thread_ts,
            file=chart.png,
            filename=chart.filename,
            title=chart.title,
            alt_txt=chart.alt_text,
            initial_comment=comment,
        )

    async def job_succeeded(self, watch: Watch, job: TuningJob) -> None:
        """Post the chart under the watch's ending, in the background; never raises."""
        task = asyncio.create_task(self._post_ending_chart(watch, job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post_ending_chart(self, watch: Watch, job: TuningJob) -> None:
        extra = {"job": job.name, "channel": watch.channel_id}
        try:
            chart = await self.make(job, language=watch.language, display_name=watch.display_name)
            await self.upload(chart, channel=watch.channel_id, thread_ts=watch.message_ts)
        except CurvesMissing as missing:
            CHARTS.labels(kind="ending", outcome="no_curves").inc()
            log.info("no chart under the ending: %s", missing, extra=extra)
        except SlackApiError as error:
            CHARTS.labels(kind="ending", outcome="upload_failed").inc()
            log.warning(
                "chart upload failed",
                extra={**extra, "error": str(error.response.get("error", "unknown"))},
            )
        except Exception as error:  # a chart is extra: its failure stays here
            # Mostly Google refusing a read (403 on the metadata or the TensorBoard).
            CHARTS.labels(kind="ending", outcome="failed").inc()
            log.warning(
                "no chart under the ending: %s: %s", type(error).__name__, error, extra=extra
            )
        else:
            CHARTS.labels(kind="ending", outcome="ok").inc()

    async def settle(self) -> None:
        """Wait for the charts being posted (tests, orderly shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
