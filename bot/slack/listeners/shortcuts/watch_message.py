"""The message shortcut "Watch tuning job in this channel": the job the message refers to."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator, Mapping
from typing import Any

import aiohttp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError

from bot.handlers.errors import HandlerError
from bot.i18n import DEFAULT_LANGUAGE, translate
from bot.slack.mrkdwn import code
from bot.slack.surface import Surface, observe, problem_text
from bot.tuning.refs import find_job_ref

log = logging.getLogger(__name__)

KIND = "message_shortcut.watch"
# A message's blocks and attachments are searched as far as this many strings.
MAX_STRINGS = 500
# Where blocks and attachments keep what a person reads or follows; ids and timestamps (an
# attachment's `ts` looks like a job number) are left out.
_TEXT_KEYS = frozenset(
    {"text", "url", "value", "fallback", "pretext", "title", "title_link", "original_url"}
)


class WatchFromMessage:
    """`message_action` of the watch shortcut: ack, then watch and answer only the user."""

    def __init__(self, surface: Surface) -> None:
        self.surface = surface

    async def handle(self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        """Nothing to say in the ack; the answer comes through the response URL."""
        await ack()

        async def restarting() -> None:
            user = _id(body.get("user"))
            language = self.surface.locales.cached(user) or DEFAULT_LANGUAGE
            await _ephemeral(respond, translate(language, "cmd.restarting"))

        self.surface.after_ack(self.work(body, respond), if_abandoned=restarting)

    async def work(self, body: Mapping[str, Any], respond: AsyncRespond) -> None:
        """Find the job in the message, watch it in the message's channel, say how it went."""
        started = time.monotonic()
        user, channel = _id(body.get("user")), _id(body.get("channel"))
        actor = await self.surface.actor(user, channel or None)
        message = body.get("message")
        text = "\n".join(message_strings(message if isinstance(message, Mapping) else {}))
        ref = find_job_ref(text, self.surface.handlers.location)
        outcome, job = "ok", ref.name if ref else None
        try:
            if ref is None:
                outcome = "no_job"
                await _ephemeral(respond, translate(actor.language, "shortcut.no_job"))
            else:
                try:
                    watched = await self.surface.handlers.watch(actor, ref.name)
                except HandlerError as exc:
                    outcome = exc.outcome
                    await _ephemeral(respond, problem_text(actor.language, exc.problem))
                else:
                    key = "sub.already" if watched.already else "sub.watching"
                    outcome = "already" if watched.already else "ok"
                    job = watched.job.name
                    await _ephemeral(respond, translate(actor.language, key, job=code(job)))
        except (aiohttp.ClientError, SlackApiError, TimeoutError, OSError) as exc:
            outcome = "slack_error"
            log.warning("could not answer the user", extra={"error": type(exc).__name__})
        except Exception:
            # A bug or a database outage: the user still hears that it failed.
            outcome = "error"
            log.exception("message shortcut failed")
            with contextlib.suppress(Exception):
                await _ephemeral(respond, translate(actor.language, "cmd.internal_error"))
        observe(KIND, outcome, user=user, job=job, started=started)


def message_strings(message: Mapping[str, Any]) -> list[str]:
    """The message's text, then every text and URL in its blocks and attachments (a job's
    console link is often only in a button or a link's target)."""
    found = [message["text"]] if isinstance(message.get("text"), str) else []
    for key in ("blocks", "attachments"):
        found.extend(_strings(message.get(key)))
        if len(found) > MAX_STRINGS:
            break
    return found[:MAX_STRINGS]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            if isinstance(inner, str):
                if key in _TEXT_KEYS:
                    yield inner
            else:
                yield from _strings(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _strings(inner)


def _id(value: Any) -> str:
    found = value.get("id") if isinstance(value, Mapping) else None
    return found if isinstance(found, str) else ""


async def _ephemeral(respond: AsyncRespond, text: str) -> None:
    await respond(text=text, response_type="ephemeral", replace_original=False)
