"""The Cancel button of the status card and of the Home tab (Slack already asked for
confirmation)."""

from __future__ import annotations

import logging
import time
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.handlers.errors import HandlerError
from bot.slack.messages.home import home_channel
from bot.slack.messages.replies import cancel_reply
from bot.slack.surface import Surface, observe, problem_text, restarting

log = logging.getLogger(__name__)


class CancelButton:
    """`block_actions` with action_id `job_cancel`; the same checks as `/tune cancel`."""

    def __init__(self, surface: Surface) -> None:
        self.surface = surface

    async def handle(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond | None,
        client: AsyncWebClient,
    ) -> None:
        """Acknowledge, then check and cancel; the answer goes to the clicking user only."""
        started = time.monotonic()
        await ack()
        # A click on the Home tab comes with no response URL: it is answered in the user's
        # DM with the bot, and the Home is drawn again.
        answer = _Answer(self.surface, body, respond, client)
        self.surface.after_ack(
            self.work(body, action, answer, started),
            if_abandoned=lambda: restarting(self.surface, body, answer.respond_or_dm),
        )

    async def work(
        self, body: dict[str, Any], action: dict[str, Any], answer: _Answer, started: float
    ) -> None:
        """Check who clicked, cancel at Google, and say what happened (ephemeral)."""
        user = str((body.get("user") or {}).get("id") or "")
        actor = await self.surface.actor(user, answer.channel)
        name = str(action.get("value") or "")
        try:
            job = await self.surface.handlers.cancel(actor, name)
        except HandlerError as exc:
            await answer.say(problem_text(actor.language, exc.problem))
            observe("button.cancel", exc.outcome, user=user, job=name or None, started=started)
            return
        await answer.say(cancel_reply(job, actor.language))
        if self.surface.homes is not None:
            self.surface.homes.homes.job_seen(job)
            if answer.from_home:
                await self.surface.homes.show(actor, fresh=True)
        observe("button.cancel", "ok", user=user, job=job.name, started=started)


class _Answer:
    """Where the canceller hears back: the message's response URL, or their DM with the bot."""

    def __init__(
        self,
        surface: Surface,
        body: dict[str, Any],
        respond: AsyncRespond | None,
        client: AsyncWebClient,
    ) -> None:
        self._respond = respond
        self._client = client
        self.user = str((body.get("user") or {}).get("id") or "")
        view = body.get("view")
        self.from_home = isinstance(view, dict) and view.get("type") == "home"
        channel = (body.get("channel") or {}).get("id")
        if self.from_home:
            channel = home_channel(view) or (
                surface.homes.channel_of(self.user) if surface.homes else None
            )
        self.channel: str | None = channel if isinstance(channel, str) and channel else None

    async def say(self, text: str) -> None:
        """One ephemeral line to the clicking user."""
        if self._respond is not None and not self.from_home:
            await self._respond(text=text, response_type="ephemeral", replace_original=False)
            return
        if self.channel is None:
            log.warning("cancel answer has nowhere to go", extra={"user": self.user})
            return
        try:
            await self._client.chat_postEphemeral(channel=self.channel, user=self.user, text=text)
        except SlackApiError as exc:
            log.warning("could not tell the canceller", extra={"error": exc.response.get("error")})

    async def respond_or_dm(self, **kwargs: Any) -> None:
        """`respond`'s signature, for the "restarting" notice."""
        await self.say(str(kwargs.get("text") or ""))
