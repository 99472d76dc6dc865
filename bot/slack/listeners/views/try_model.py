"""Try it from Slack: open the form for a job, read its submission, ask the models and post
both answers (in the job's thread, or to the asking user only)."""

from __future__ import annotations

import logging
import time
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.handlers.errors import HandlerError, Unavailable
from bot.handlers.jobs import Actor
from bot.handlers.trying import TryHandlers, TryRequest
from bot.slack.messages.try_form import TryMetadata, read_try_form, try_modal
from bot.slack.messages.try_result import try_result_message
from bot.slack.surface import Surface, observe, problem_text
from bot.tuning.problems import Problem

log = logging.getLogger(__name__)


class TryFlow:
    """The steps of Try it that the button, the command and the form share."""

    def __init__(self, surface: Surface) -> None:
        self.surface = surface

    @property
    def trying(self) -> TryHandlers:
        """The use case; `Unavailable` when this bot was built without it."""
        if self.surface.trying is None:
            raise Unavailable(Problem.of("cmd.internal_error"))
        return self.surface.trying

    async def open_form(
        self, actor: Actor, job: str, trigger_id: str, client: AsyncWebClient
    ) -> None:
        """Check the job can be tried by the actor here, then open the form for it."""
        found = await self.trying.job_to_try(actor, job)
        metadata = TryMetadata(found.name, str(actor.channel_id or ""), actor.language)
        await client.views_open(trigger_id=trigger_id, view=try_modal(found, metadata))

    async def answer(
        self, actor: Actor, request: TryRequest, *, only_me: bool, client: AsyncWebClient
    ) -> str:
        """Ask the models and post the answers; returns the job's name. Long answers go
        with the message as files in the same thread."""
        tried = await self.trying.try_model(actor, request)
        shown = try_result_message(
            tried, user=actor.user_id, language=actor.language, only_me=only_me
        )
        channel = str(actor.channel_id or "")
        thread = await self.trying.thread_for(tried.job, channel)
        if only_me:
            await client.chat_postEphemeral(
                channel=channel,
                user=actor.user_id,
                text=shown.text,
                blocks=shown.blocks,
                thread_ts=thread,
            )
            return tried.job.name
        posted = await client.chat_postMessage(
            channel=channel, thread_ts=thread, text=shown.text, blocks=shown.blocks
        )
        thread = thread or str(posted.get("ts") or "") or None
        for file in shown.files:
            await client.files_upload_v2(
                channel=channel,
                thread_ts=thread,
                content=file.content,
                filename=file.filename,
                title=file.title,
            )
        return tried.job.name


class TrySubmission:
    """`view_submission` of `tuning_job_try`: close the form at once, answer in the channel."""

    def __init__(self, surface: Surface) -> None:
        self.surface = surface
        self.flow = TryFlow(surface)

    async def handle(
        self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """The models take seconds, longer than a form may wait: ack first, then ask."""
        started = time.monotonic()
        user = str((body.get("user") or {}).get("id") or "")
        metadata = TryMetadata.parse(view.get("private_metadata"))
        await ack()
        if metadata is None:
            log.warning("try form without our metadata", extra={"view": view.get("id")})
            observe("view.try", "malformed", user=user, started=started)
            return
        values = (view.get("state") or {}).get("values") or {}
        choice = read_try_form(values if isinstance(values, dict) else {})
        actor = Actor(user, metadata.channel_id, metadata.language)
        request = TryRequest(metadata.job, choice.prompt, choice.compare, choice.checkpoint)
        self.surface.after_ack(self.work(actor, request, choice.only_me, client, started))

    async def work(
        self,
        actor: Actor,
        request: TryRequest,
        only_me: bool,
        client: AsyncWebClient,
        started: float,
    ) -> None:
        """Ask and post; a refusal or failure is told to the user alone."""
        outcome = "ok"
        try:
            await self.flow.answer(actor, request, only_me=only_me, client=client)
        except HandlerError as exc:
            outcome = exc.outcome
            await self._tell(actor, problem_text(actor.language, exc.problem), client)
        except SlackApiError as exc:
            outcome = "slack_error"
            log.warning("try answer not posted", extra={"error": exc.response.get("error")})
        observe("view.try", outcome, user=actor.user_id, job=request.job, started=started)

    async def _tell(self, actor: Actor, text: str, client: AsyncWebClient) -> None:
        try:
            await client.chat_postEphemeral(
                channel=str(actor.channel_id or ""), user=actor.user_id, text=text
            )
        except SlackApiError as exc:
            log.warning("could not tell the user", extra={"error": exc.response.get("error")})
