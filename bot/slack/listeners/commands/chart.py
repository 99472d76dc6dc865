"""`/tune chart <job>`: the job's training curves as a picture, where the user can see it.

A file cannot be ephemeral in Slack, so the chart goes to the job's thread when this channel
holds the job's card (the team sees it where the job's story is), and otherwise to the user's
direct messages with the bot; the ephemeral reply says where it went.
"""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.handlers.jobs import Actor
from bot.i18n import translate
from bot.metrics import CHARTS
from bot.slack.mrkdwn import escape, literal
from bot.slack.surface import Surface

# Errors that mean the token cannot upload files at all, whatever the moment.
_SCOPE_ERRORS = frozenset({"missing_scope", "not_allowed_token_type", "no_permission"})


@dataclass(frozen=True)
class ChartPosted:
    """How posting went, the job's name and the ephemeral reply that says where it went."""

    outcome: str
    job_name: str
    reply: str


class ChartFlow:
    """Reads, draws and posts one job's chart for a user."""

    def __init__(self, surface: Surface) -> None:
        self.surface = surface

    async def post(self, actor: Actor, argument: str, client: AsyncWebClient) -> ChartPosted:
        """Read, draw and post the chart of the job `argument` names."""
        surface = self.surface
        if surface.charts is None or surface.chart_reads is None:
            return ChartPosted("off", "", translate(actor.language, "chart.unavailable"))
        found = await surface.chart_reads.curves(actor, argument)
        job = found.job
        language = actor.language
        chart = await surface.charts.draw(job, found.curves, language=language)
        shown = literal(job.display_name) if job.display_name else f"#{job.ref.job_id}"
        channel = actor.channel_id or ""
        thread = await surface.handlers.thread_for(job, channel) if channel else None
        try:
            if thread is not None:
                await surface.charts.upload(chart, channel=channel, thread_ts=thread)
                reply = translate(language, "chart.posted_thread", job=shown)
            else:
                opened = await client.conversations_open(users=actor.user_id)
                direct = str((opened.get("channel") or {}).get("id") or "")
                await surface.charts.upload(chart, channel=direct)
                reply = translate(language, "chart.posted_dm", job=shown)
        except SlackApiError as exc:
            CHARTS.labels(kind="command", outcome="upload_failed").inc()
            code = str(exc.response.get("error", ""))
            key = "chart.upload_scope" if code in _SCOPE_ERRORS else "chart.upload_failed"
            failed = translate(language, key, error=escape(code))
            return ChartPosted("slack_error", job.name, failed)
        CHARTS.labels(kind="command", outcome="ok").inc()
        return ChartPosted("ok", job.name, reply)
