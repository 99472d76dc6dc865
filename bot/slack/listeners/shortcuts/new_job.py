"""The global shortcut "New tuning job": the create form, from anywhere in Slack.

A global shortcut comes from no channel, so the form asks where to post the status message
(a direct message with the bot unless a channel is chosen).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.handlers.errors import HandlerError
from bot.handlers.jobs import Actor
from bot.i18n import DEFAULT_LANGUAGE
from bot.slack.messages.create_form import ModalMetadata, create_modal, message_modal
from bot.slack.surface import Surface, observe, problem_text

log = logging.getLogger(__name__)

KIND = "global_shortcut.create"
# The trigger id dies 3 s after the click: a slow users.info must not use it up.
LANGUAGE_WAIT_BEFORE_MODAL = 1.0


class NewJobShortcut:
    """`shortcut` payloads of the create shortcut: ack, then open the form at once."""

    def __init__(self, surface: Surface) -> None:
        self.surface = surface

    async def handle(self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        """The form opens after the ack, with the trigger id of the click."""
        await ack()
        self.surface.after_ack(self.work(body, client))

    async def work(self, body: Mapping[str, Any], client: AsyncWebClient) -> None:
        """The create form (or, for someone who may not create jobs, why not) as a modal."""
        started = time.monotonic()
        user = body.get("user")
        user_id = str(user.get("id") or "") if isinstance(user, Mapping) else ""
        actor = await self._actor(user_id)
        language, handlers = actor.language, self.surface.handlers
        outcome = "ok"
        try:
            catalogue = await handlers.open_form(actor, channel_later=True)
        except HandlerError as exc:
            # No channel and no response URL: the refusal is the modal.
            outcome = exc.outcome
            view = message_modal(language, problem_text(language, exc.problem))
        else:
            view = create_modal(
                language,
                catalogue=catalogue,
                today=self.surface.now().date(),
                metadata=ModalMetadata("", language, choose_channel=True),
                location=handlers.location,
            )
        try:
            await client.views_open(trigger_id=body.get("trigger_id"), view=view)
        except SlackApiError as exc:
            # e.g. expired_trigger_id when Slack was slow: nowhere to tell the user but the log.
            outcome = "slack_error"
            log.warning("could not open the form", extra={"error": exc.response.get("error")})
        observe(KIND, outcome, user=user_id, started=started)

    async def _actor(self, user_id: str) -> Actor:
        try:
            async with asyncio.timeout(LANGUAGE_WAIT_BEFORE_MODAL):
                return await self.surface.actor(user_id, None)
        except TimeoutError:
            return Actor(user_id, None, DEFAULT_LANGUAGE)
