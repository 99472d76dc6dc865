"""Run again and Continue tuning: the create form, filled from a job, with the job it came from
in the form's metadata (the buttons of cards and endings, and `/tune rerun`)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.handlers.errors import HandlerError
from bot.handlers.jobs import Actor
from bot.i18n import DEFAULT_LANGUAGE, translate
from bot.slack.messages.create_form import ModalMetadata, create_modal, message_modal
from bot.slack.messages.rerun import rerun_banner, rerun_values
from bot.slack.surface import Surface, observe, problem_text

log = logging.getLogger(__name__)

# The trigger id dies 3 s after the click: a slow users.info must not use it up.
LANGUAGE_WAIT = 1.0
# The outcome when Slack would not open the modal at all (e.g. an expired trigger id).
NOT_OPENED = "not_opened"


class RerunForm:
    """Opens a "reading…" modal at once (the trigger id is short-lived), reads the job as
    `/tune get` does, then shows the filled form or why there is none."""

    def __init__(self, surface: Surface) -> None:
        self.surface = surface

    async def open(
        self,
        actor: Actor,
        job_text: str,
        trigger_id: str,
        client: AsyncWebClient,
        *,
        continuing: bool,
    ) -> tuple[str, str | None]:
        """The outcome and the job's name, for the caller's log line."""
        language, handlers = actor.language, self.surface.handlers
        waiting = message_modal(language, translate(language, "rerun.loading"))
        try:
            opened = await client.views_open(trigger_id=trigger_id, view=waiting)
        except SlackApiError as exc:
            log.warning("rerun form not opened", extra={"error": exc.response.get("error")})
            return NOT_OPENED, None
        view_id = str((opened.get("view") or {}).get("id") or "")
        outcome, job_name = "ok", None
        try:
            job = await handlers.rerun_source(actor, job_text, continuing=continuing)
        except HandlerError as exc:
            outcome = exc.outcome
            view = message_modal(language, f":x: {problem_text(language, exc.problem)}")
        else:
            job_name = job.name
            tuned = job.tuned_model.model if continuing and job.tuned_model else None
            metadata = ModalMetadata(
                str(actor.channel_id or ""), language, source_job=job.name, tuned_model=tuned
            )
            view = create_modal(
                language,
                catalogue=handlers.catalogue,
                today=self.surface.now().date(),
                metadata=metadata,
                location=handlers.location,
                values=rerun_values(job),
                banner=rerun_banner(job, language, handlers.catalogue, continuing=continuing),
            )
        try:
            await client.views_update(view_id=view_id, view=view)
        except SlackApiError as exc:  # closed meanwhile: nothing left to show it in
            log.info("rerun form gone", extra={"error": exc.response.get("error")})
            outcome = "slack_error"
        return outcome, job_name


class RerunButton:
    """`job_rerun` and `job_continue_tuning` on cards and endings; the value is the job's name."""

    def __init__(self, surface: Surface, *, continuing: bool) -> None:
        self.surface = surface
        self.continuing = continuing
        self.form = RerunForm(surface)

    async def handle(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """Acknowledge; the form opens right after."""
        started = time.monotonic()
        await ack()
        self.surface.after_ack(self.work(body, str(action.get("value") or ""), client, started))

    async def work(
        self, body: dict[str, Any], name: str, client: AsyncWebClient, started: float
    ) -> None:
        """The new job's card goes where the button was."""
        user = str((body.get("user") or {}).get("id") or "")
        channel = (body.get("channel") or {}).get("id")
        try:
            async with asyncio.timeout(LANGUAGE_WAIT):
                actor = await self.surface.actor(user, channel)
        except TimeoutError:
            actor = Actor(user, channel, self.surface.locales.cached(user) or DEFAULT_LANGUAGE)
        outcome, job = await self.form.open(
            actor, name, str(body.get("trigger_id") or ""), client, continuing=self.continuing
        )
        kind = "button.continue_tuning" if self.continuing else "button.rerun"
        observe(kind, outcome, user=user, job=job, started=started)
