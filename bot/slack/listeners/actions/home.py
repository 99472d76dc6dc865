"""The Home tab's buttons: New tuning job (the create form) and a job's Details (a modal).

A Home view has no response URL and no channel of its own: answers are modals, opened with
the click's trigger id, and a job started from Home posts its card in the user's direct
messages with the bot (the channel the Home view carries in its metadata).
"""

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
from bot.slack.messages.create_form import ModalMetadata, create_modal
from bot.slack.messages.home import home_channel, home_modal, home_notice_modal
from bot.slack.messages.job_detail import job_detail_message
from bot.slack.surface import Surface, observe, problem_text

log = logging.getLogger(__name__)

# The trigger id dies 3 s after the click: a slow users.info must not use it up.
LANGUAGE_WAIT = 1.0


def _user(body: dict[str, Any]) -> str:
    return str((body.get("user") or {}).get("id") or "")


async def _actor(surface: Surface, body: dict[str, Any]) -> Actor:
    user = _user(body)
    channel = home_channel(body.get("view"))
    if channel is None and surface.homes is not None:
        channel = surface.homes.channel_of(user)
    try:
        async with asyncio.timeout(LANGUAGE_WAIT):
            return await surface.actor(user, channel)
    except TimeoutError:
        return Actor(user, channel, surface.locales.cached(user) or DEFAULT_LANGUAGE)


class _NoChannel(Exception):
    """The click came without the user's DM channel."""


class NewJobFromHome:
    """`home_new_job`: the create form, posting its card in the user's DM with the bot."""

    def __init__(self, surface: Surface) -> None:
        self.surface = surface

    async def handle(self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        """Acknowledge, then open the form (or say why not) with the click's trigger id."""
        started = time.monotonic()
        await ack()
        self.surface.after_ack(self.work(body, client, started))

    async def work(self, body: dict[str, Any], client: AsyncWebClient, started: float) -> None:
        """The same checks and form as `/tune`, for the user's DM with the bot."""
        actor = await _actor(self.surface, body)
        language, handlers = actor.language, self.surface.handlers
        outcome = "ok"
        try:
            if actor.channel_id is None:
                # Not a Home view of ours (or one drawn before this process knew the DM).
                raise _NoChannel
            catalogue = await handlers.open_form(actor)
        except _NoChannel:
            outcome = "no_channel"
            text = translate(language, "home.reopen")
            view = home_notice_modal(language, text, title_key="home.form_refused_title")
        except HandlerError as exc:
            outcome = exc.outcome
            text = problem_text(language, exc.problem)
            view = home_notice_modal(language, text, title_key="home.form_refused_title")
        else:
            view = create_modal(
                language,
                catalogue=catalogue,
                today=self.surface.now().date(),
                metadata=ModalMetadata(actor.channel_id, language),
                location=handlers.location,
            )
        try:
            await client.views_open(trigger_id=body.get("trigger_id"), view=view)
        except SlackApiError as exc:
            outcome = "slack_error"
            log.warning("form not opened from home", extra={"error": exc.response.get("error")})
        observe("app_home.new_job", outcome, user=actor.user_id, started=started)


class JobDetailsFromHome:
    """`home_job_get`: a modal that says it is reading, then shows the job as `/tune get`."""

    def __init__(self, surface: Surface) -> None:
        self.surface = surface

    async def handle(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """Acknowledge; the modal opens right after, before Google is asked."""
        started = time.monotonic()
        await ack()
        self.surface.after_ack(self.work(body, str(action.get("value") or ""), client, started))

    async def work(
        self, body: dict[str, Any], name: str, client: AsyncWebClient, started: float
    ) -> None:
        """Open the modal at once (the trigger id is short-lived), then fill it in."""
        actor = await _actor(self.surface, body)
        language = actor.language
        waiting = home_notice_modal(
            language, translate(language, "home.loading"), title_key="home.detail_title"
        )
        try:
            opened = await client.views_open(trigger_id=body.get("trigger_id"), view=waiting)
        except SlackApiError as exc:
            log.warning("detail not opened from home", extra={"error": exc.response.get("error")})
            observe("app_home.get", "slack_error", user=actor.user_id, started=started)
            return
        view_id = str((opened.get("view") or {}).get("id") or "")
        outcome, job_name = "ok", name or None
        try:
            job = None
            if self.surface.homes is not None:
                job = await self.surface.homes.homes.detail(actor, name)
            if job is None:  # not on this Home (any more): the rules of `/tune get`
                job = await self.surface.handlers.get(actor, name)
        except HandlerError as exc:
            outcome = exc.outcome
            text = problem_text(language, exc.problem)
            view = home_notice_modal(language, text, title_key="home.detail_title")
        else:
            job_name = job.name
            _, blocks = job_detail_message(job, language=language, now=self.surface.now())
            view = home_modal(language, blocks, title_key="home.detail_title")
        try:
            await client.views_update(view_id=view_id, view=view)
        except SlackApiError as exc:  # closed meanwhile: nothing left to show it in
            log.info("detail modal gone", extra={"error": exc.response.get("error")})
        observe("app_home.get", outcome, user=actor.user_id, job=job_name, started=started)
