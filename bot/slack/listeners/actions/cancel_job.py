"""The status card's Cancel button (Slack already asked for confirmation)."""

from __future__ import annotations

import time
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.handlers.errors import HandlerError
from bot.slack.messages.replies import cancel_reply
from bot.slack.surface import Surface, observe, problem_text, restarting


class CancelButton:
    """`block_actions` with action_id `job_cancel`; the same checks as `/tune cancel`."""

    def __init__(self, surface: Surface) -> None:
        self.surface = surface

    async def handle(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        """Acknowledge, then check and cancel; the answer goes to the clicking user only."""
        started = time.monotonic()
        await ack()
        self.surface.after_ack(
            self.work(body, action, respond, started),
            if_abandoned=lambda: restarting(self.surface, body, respond),
        )

    async def work(
        self, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond, started: float
    ) -> None:
        """Check who clicked, cancel at Google, and say what happened (ephemeral)."""
        user = str((body.get("user") or {}).get("id") or "")
        channel = (body.get("channel") or {}).get("id")
        actor = await self.surface.actor(user, channel)
        name = str(action.get("value") or "")
        try:
            job = await self.surface.handlers.cancel(actor, name)
        except HandlerError as exc:
            await _ephemeral(respond, problem_text(actor.language, exc.problem))
            observe("button.cancel", exc.outcome, user=user, job=name or None, started=started)
            return
        await _ephemeral(respond, cancel_reply(job, actor.language))
        observe("button.cancel", "ok", user=user, job=job.name, started=started)


async def _ephemeral(respond: AsyncRespond, text: str) -> None:
    await respond(text=text, response_type="ephemeral", replace_original=False)
