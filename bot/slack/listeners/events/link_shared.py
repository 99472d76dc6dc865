"""`link_shared`: a console link of a tuning job gets a compact preview of the job."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import aiohttp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.messages.unfurl import unfurls
from bot.slack.surface import Surface, observe
from bot.tuning.refs import JobRef, Location, console_job_ref

log = logging.getLogger(__name__)

CONSOLE_DOMAIN = "console.cloud.google.com"
# Slack sends at most a handful of links per event; more than this are left as plain links.
MAX_LINKS = 5


class LinkShared:
    """Acks the event, then reads the linked jobs and sends their previews."""

    def __init__(self, surface: Surface) -> None:
        self.surface = surface

    async def handle(self, ack: AsyncAck, event: dict[str, Any], client: AsyncWebClient) -> None:
        """Slack retries an event not acknowledged within 3 s: ack first."""
        await ack()
        self.surface.after_ack(self.work(event, client))

    async def work(self, event: Mapping[str, Any], client: AsyncWebClient) -> None:
        """One `chat.unfurl` with a card for every link to a job the sharer may read."""
        started = time.monotonic()
        user = str(event.get("user") or "")
        channel = event.get("channel")
        links = job_links(event.get("links"), self.surface.handlers.location)
        if not links:
            observe("link_shared", "no_job", user=user, started=started)
            return
        actor = await self.surface.actor(user, channel if isinstance(channel, str) else None)
        jobs = await self.surface.handlers.preview(actor, list(links.values()))
        shown = {url: job for url, job in zip(links, jobs, strict=True) if job is not None}
        if not shown:
            # Nothing the sharer may see: Slack keeps its plain link, and nothing is said.
            observe("link_shared", "nothing_shown", user=user, started=started)
            return
        target = _target(event)
        if target is None:
            observe("link_shared", "malformed", user=user, started=started)
            return
        try:
            await client.chat_unfurl(
                channel=target.get("channel"),
                ts=target.get("ts"),
                unfurl_id=target.get("unfurl_id"),
                source=target.get("source"),
                unfurls=unfurls(shown, actor.language),
            )
        except (SlackApiError, aiohttp.ClientError, TimeoutError, OSError) as exc:
            error = exc.response.get("error") if isinstance(exc, SlackApiError) else None
            log.warning("chat.unfurl failed", extra={"error": error or type(exc).__name__})
            observe("link_shared", "slack_error", user=user, started=started)
            return
        observe("link_shared", "ok", user=user, started=started)


def job_links(links: Any, default: Location) -> dict[str, JobRef]:
    """Each shared URL that is a tuning job's console page (as Slack sent it), with its job."""
    found: dict[str, JobRef] = {}
    if not isinstance(links, list):
        return found
    for link in links:
        url = link.get("url") if isinstance(link, Mapping) else None
        if not isinstance(url, str) or link.get("domain") not in (CONSOLE_DOMAIN, None):
            continue
        ref = console_job_ref(url, default)
        if ref is not None and url not in found:
            found[url] = ref
        if len(found) >= MAX_LINKS:
            break
    return found


def _target(event: Mapping[str, Any]) -> dict[str, str] | None:
    """Which message the previews belong to: a link in the composer (not posted yet) is named
    by its unfurl id and source, a posted one by its channel and ts."""
    unfurl_id, source = event.get("unfurl_id"), event.get("source")
    if isinstance(unfurl_id, str) and unfurl_id and isinstance(source, str) and source:
        return {"unfurl_id": unfurl_id, "source": source}
    channel, ts = event.get("channel"), event.get("message_ts")
    if isinstance(channel, str) and channel and isinstance(ts, str) and ts:
        return {"channel": channel, "ts": ts}
    return None
