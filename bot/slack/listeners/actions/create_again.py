""" "Create the job now", offered after Google never confirmed a create and never listed it."""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.i18n import translate
from bot.slack.listeners.views.create_job import CreateJobSubmission, Submission
from bot.slack.surface import Surface, observe, restarting


class CreateAgain:
    """`block_actions` with action_id `job_create_again`: the user's explicit word."""

    def __init__(self, surface: Surface) -> None:
        self.surface = surface
        self.creator = CreateJobSubmission(surface)

    async def handle(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        """Acknowledge; the create runs after."""
        await ack()
        self.surface.after_ack(
            self.work(body, action, respond, client),
            if_abandoned=lambda: restarting(self.surface, body, respond),
        )

    async def work(
        self,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        """Only the submitter may; the submission is checked and created as from the form."""
        user = str((body.get("user") or {}).get("id") or "")
        token = str(action.get("value") or "")
        pending = self.surface.pending_creates.take(token)
        if pending is None:
            actor = await self.surface.actor(user, None)
            await _replace(respond, translate(actor.language, "create.again_expired"))
            observe("button.create_again", "expired", user=user)
            return
        submission, summary = pending
        assert isinstance(submission, Submission)
        language = submission.actor.language
        if user != submission.actor.user_id:
            self.surface.pending_creates.give_back(token, pending)
            await _ephemeral(respond, translate(language, "create.again_not_yours"))
            observe("button.create_again", "refused", user=user)
            return
        started = await self.creator.start(submission, summary, client)
        await _replace(respond, started.text)
        observe("button.create_again", started.outcome, user=user)


async def _replace(respond: AsyncRespond, text: str) -> None:
    await respond(text=text, response_type="ephemeral", replace_original=True)


async def _ephemeral(respond: AsyncRespond, text: str) -> None:
    await respond(text=text, response_type="ephemeral", replace_original=False)
