"""`view_submission` of the `/tune settings` modal: store the channel's settings and say so
to the user in that channel."""

from __future__ import annotations

import logging
import time
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.handlers.errors import HandlerError
from bot.i18n import translate
from bot.slack.messages.subscriptions import read_settings, settings_saved_reply
from bot.slack.surface import Surface, observe, problem_text
from bot.tuning.subscriptions import ChannelSettings

log = logging.getLogger(__name__)


class ChannelSettingsSubmission:
    """Close the modal at once; store and answer after the ack."""

    def __init__(self, surface: Surface) -> None:
        self.surface = surface

    async def handle(
        self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """Every value is a choice among options, so there is nothing to refuse in the ack."""
        started = time.monotonic()
        user = str((body.get("user") or {}).get("id") or "")
        channel, settings = read_settings(view)
        await ack()
        if not channel:
            log.warning("settings form without its channel", extra={"view": view.get("id")})
            observe("view.settings", "malformed", user=user, started=started)
            return
        self.surface.after_ack(self.work(user, channel, settings, client, started))

    async def work(
        self,
        user: str,
        channel: str,
        settings: ChannelSettings,
        client: AsyncWebClient,
        started: float,
    ) -> None:
        """Save, then tell the user (a refusal too) in the channel, visible to them alone."""
        actor = await self.surface.actor(user, channel)
        outcome = "ok"
        try:
            if self.surface.subscriptions is None:
                raise RuntimeError("channel settings are not wired")
            saved = await self.surface.subscriptions.save_settings(actor, channel, settings)
            text = settings_saved_reply(saved, actor.language)
        except HandlerError as exc:
            outcome = exc.outcome
            text = problem_text(actor.language, exc.problem)
        except Exception:
            outcome = "error"
            log.exception("channel settings not saved")
            text = translate(actor.language, "cmd.internal_error")
        try:
            await client.chat_postEphemeral(channel=channel, user=user, text=text)
        except SlackApiError as exc:
            log.warning("could not tell the user", extra={"error": exc.response.get("error")})
            outcome = "slack_error" if outcome == "ok" else outcome
        observe("view.settings", outcome, user=user, started=started)
