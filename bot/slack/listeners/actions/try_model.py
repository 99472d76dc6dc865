"""The Try it button of the success ending and of `/tune get`: opens the form for its job."""

from __future__ import annotations

import time
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.handlers.errors import HandlerError
from bot.i18n import translate
from bot.slack.listeners.views.try_model import TryFlow
from bot.slack.mrkdwn import escape
from bot.slack.surface import Surface, observe, problem_text, restarting


class TryButton:
    """`block_actions` with action_id `job_try`; the button's value is the job's name."""

    def __init__(self, surface: Surface) -> None:
        self.surface = surface
        self.flow = TryFlow(surface)

    async def handle(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        """Acknowledge, then check the job and open the form (the trigger lasts 3 s)."""
        started = time.monotonic()
        await ack()
        self.surface.after_ack(
            self.work(body, action, respond, client, started),
            if_abandoned=lambda: restarting(self.surface, body, respond),
        )

    async def work(
        self,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        started: float,
    ) -> None:
        """Refusals and Slack's errors go to the clicking user only."""
        user = str((body.get("user") or {}).get("id") or "")
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
            "channel_id"
        )
        actor = await self.surface.actor(user, str(channel) if channel else None)
        job = str(action.get("value") or "")
        outcome = "ok"
        try:
            await self.flow.open_form(actor, job, str(body.get("trigger_id") or ""), client)
        except HandlerError as exc:
            outcome = exc.outcome
            await _ephemeral(respond, problem_text(actor.language, exc.problem))
        except SlackApiError as exc:
            outcome = "slack_error"
            error = escape(str(exc.response.get("error", "")))
            await _ephemeral(respond, translate(actor.language, "cmd.form_failed", error=error))
        observe("button.try", outcome, user=user, job=job or None, started=started)


async def _ephemeral(respond: AsyncRespond, text: str) -> None:
    await respond(text=text, response_type="ephemeral", replace_original=False)
