"""`/tune`: acknowledge at once (with the answer when it is instant), then do the work."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from typing import Any

import aiohttp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.handlers.errors import GoogleFailed
from bot.handlers.jobs import Actor
from bot.i18n import DEFAULT_LANGUAGE, translate
from bot.slack import blocks
from bot.slack.commands import TuneCommand, Verb, parse_command
from bot.slack.modal import ModalMetadata, create_modal
from bot.slack.mrkdwn import code, escape
from bot.slack.status_card import render_status_card
from bot.slack.surface import (
    Surface,
    observe,
    problem_text,
    withdraw_card,
)
from bot.tuning.access import Action
from bot.tuning.problems import DomainError
from bot.tuning.refs import JobRef, parse_job_ref

log = logging.getLogger(__name__)

_INSTANT = (Verb.HELP, Verb.USAGE)
LANGUAGE_WAIT_BEFORE_MODAL = 1.0


class TuneCommandListener:
    """The `/tune` listener: it acks first; the rest runs as a task after the ack."""

    def __init__(self, surface: Surface) -> None:
        self.surface = surface

    async def handle(
        self,
        ack: AsyncAck,
        command: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        """Answer help in the ack when the user's language is known; otherwise ack, then work."""
        started = time.monotonic()
        parsed = parse_command(str(command.get("text") or ""))
        user = str(command.get("user_id") or "")
        language = self.surface.locales.cached(user)
        if parsed.verb in _INSTANT and language is not None:
            text, body = blocks.help_message(language, unknown=parsed.verb is Verb.USAGE)
            await ack(text=text, blocks=body, response_type="ephemeral")
            # Bolt writes the ack only once this listener returns, and nothing in between
            # yields to the loop: the log line and metric, on the next turn, come after it.
            asyncio.get_running_loop().call_soon(
                functools.partial(
                    observe, f"tune.{parsed.verb.value}", "ok", user=user, started=started
                )
            )
            return
        await ack()

        async def restarting() -> None:
            language = self.surface.locales.cached(user) or DEFAULT_LANGUAGE
            await _ephemeral(respond, translate(language, "cmd.restarting"))

        self.surface.after_ack(
            self.work(parsed, command, respond, client, started), if_abandoned=restarting
        )

    async def work(
        self,
        parsed: TuneCommand,
        command: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        started: float,
    ) -> None:
        """Everything after the ack: one function per verb."""
        user = str(command.get("user_id") or "")
        actor = await self._actor(parsed, user, command.get("channel_id"))
        outcome = "ok"
        job: str | None = None
        try:
            try:
                outcome, job = await self._dispatch(parsed, actor, command, respond, client)
            except GoogleFailed as exc:
                outcome = "google_error"
                ref = _ref_or_none(parsed.argument, self.surface)
                job = ref.name if ref else None
                await _ephemeral(respond, problem_text(actor.language, exc.problem))
            except DomainError as exc:
                outcome = "bad_input"
                await _ephemeral(respond, problem_text(actor.language, exc.problem))
        except (aiohttp.ClientError, SlackApiError, TimeoutError, OSError) as exc:
            # The answer could not reach the user (response_url or Web API down): record it
            # as such rather than losing the command's log line and metric.
            outcome = "slack_error"
            log.warning("could not answer the user", extra={"error": type(exc).__name__})
        except Exception:
            # A bug or a database outage: the user still hears that it failed.
            outcome = "error"
            log.exception("command failed", extra={"command": parsed.verb.value})
            with contextlib.suppress(Exception):
                await _ephemeral(respond, translate(actor.language, "cmd.internal_error"))
        observe(f"tune.{parsed.verb.value}", outcome, user=user, job=job, started=started)

    async def _actor(self, parsed: TuneCommand, user: str, channel: str | None) -> Actor:
        if parsed.verb is not Verb.CREATE:
            return await self.surface.actor(user, channel)
        # The trigger id dies 3 s after the command: a slow users.info must not use it up.
        try:
            async with asyncio.timeout(LANGUAGE_WAIT_BEFORE_MODAL):
                return await self.surface.actor(user, channel)
        except TimeoutError:
            return Actor(user, channel, DEFAULT_LANGUAGE)

    async def _dispatch(
        self,
        parsed: TuneCommand,
        actor: Actor,
        command: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> tuple[str, str | None]:
        language = actor.language
        handlers = self.surface.handlers
        if parsed.verb in _INSTANT:
            text, body = blocks.help_message(language, unknown=parsed.verb is Verb.USAGE)
            await respond(text=text, blocks=body, response_type="ephemeral")
            return "ok", None
        action = {
            Verb.CREATE: Action.CREATE,
            Verb.CANCEL: Action.CANCEL,
            Verb.WATCH: Action.WATCH,
            Verb.UNWATCH: Action.WATCH,
        }.get(parsed.verb, Action.READ)
        ref: JobRef | None = None
        if parsed.verb in (Verb.GET, Verb.CANCEL, Verb.WATCH, Verb.UNWATCH):
            ref = parse_job_ref(parsed.argument, handlers.location)
        refusal = await handlers.refusal(action, actor, ref)
        if refusal is not None:
            await _ephemeral(respond, translate(language, refusal))
            return "refused", ref.name if ref else None
        if ref is not None:
            ref = await handlers.in_scope(actor, ref, action)
        if parsed.verb is Verb.CREATE:
            try:
                await self._open_modal(actor, command, client)
            except SlackApiError as exc:
                # e.g. expired_trigger_id when Slack was slow to deliver the command.
                error = escape(str(exc.response.get("error", "")))
                await _ephemeral(respond, translate(language, "cmd.form_failed", error=error))
                return "slack_error", None
            return "ok", None
        if parsed.verb is Verb.LIST:
            listing = await handlers.list_jobs(parsed.argument)
            text, body = blocks.list_message(
                listing.jobs,
                filter_word=parsed.argument,
                next_page_token=listing.next_page_token,
                language=language,
                now=self.surface.now(),
            )
            await respond(text=text, blocks=body, response_type="ephemeral")
            return "ok", None
        if parsed.verb is Verb.CHECK:
            return await self._check(actor, parsed.argument, respond), None
        assert ref is not None
        if parsed.verb is Verb.GET:
            job = await handlers.get(ref)
            text, body = blocks.job_detail_message(job, language=language, now=self.surface.now())
            await respond(text=text, blocks=body, response_type="ephemeral")
            return "ok", ref.name
        if parsed.verb is Verb.CANCEL:
            job = await handlers.cancel(actor, ref)
            await _ephemeral(respond, blocks.cancel_reply(job, language))
            return "ok", ref.name
        if parsed.verb is Verb.WATCH:
            return await self._watch(actor, ref, respond, client), ref.name
        removed = await handlers.unwatch(actor, ref)
        key = "sub.unwatched" if removed else "sub.not_watching"
        await _ephemeral(respond, translate(language, key, job=code(ref.name)))
        return ("ok" if removed else "not_watching"), ref.name

    async def _open_modal(
        self, actor: Actor, command: dict[str, Any], client: AsyncWebClient
    ) -> None:
        handlers = self.surface.handlers
        metadata = ModalMetadata(str(actor.channel_id or ""), actor.language)
        view = create_modal(
            actor.language,
            catalogue=handlers.catalogue,
            today=self.surface.now().date(),
            metadata=metadata,
        )
        await client.views_open(trigger_id=command.get("trigger_id"), view=view)

    async def _check(self, actor: Actor, uri: str, respond: AsyncRespond) -> str:
        check = self.surface.check_dataset
        if check is None:
            await _ephemeral(respond, translate(actor.language, "cmd.check_unavailable"))
            return "unavailable"
        problem = self.surface.handlers.dataset_problem(uri)
        if problem is not None:
            await _ephemeral(respond, problem_text(actor.language, problem))
            if problem.key != "dataset.not_allowed":
                return "bad_input"
            await self.surface.handlers.audit(actor, "check", None, "refused", uri[:300])
            return "refused"
        await _ephemeral(respond, translate(actor.language, "cmd.checking", uri=code(uri)))
        verdict = await check(uri, actor.language)
        await _ephemeral(respond, "\n".join(verdict.lines))
        return "ok"

    async def _watch(
        self, actor: Actor, ref: JobRef, respond: AsyncRespond, client: AsyncWebClient
    ) -> str:
        handlers = self.surface.handlers
        job = await handlers.get(ref)
        if await handlers.already_announced(job.ref, actor.channel_id):
            await _ephemeral(respond, translate(actor.language, "sub.already", job=code(job.name)))
            return "already"
        text, body = render_status_card(
            job, started_by=None, language=actor.language, now=self.surface.now()
        )
        try:
            posted = await client.chat_postMessage(
                channel=str(actor.channel_id), text=text, blocks=body
            )
        except SlackApiError as exc:
            error = str(exc.response.get("error", ""))
            key = "sub.not_in_channel" if error in _NOT_IN_CHANNEL else "sub.post_failed"
            await _ephemeral(respond, translate(actor.language, key, error=escape(error)))
            return "slack_error"
        try:
            await handlers.follow_watched(actor, job, posted.get("ts"))
        except Exception:
            log.exception("watch not saved", extra={"job": job.name})
            await withdraw_card(client, actor.channel_id, posted.get("ts"))
            await _ephemeral(respond, translate(actor.language, "cmd.internal_error"))
            return "error"
        await _ephemeral(respond, translate(actor.language, "sub.watching", job=code(job.name)))
        return "ok"


_NOT_IN_CHANNEL = {"not_in_channel", "channel_not_found", "is_archived"}


async def _ephemeral(respond: AsyncRespond, text: str) -> None:
    await respond(text=text, response_type="ephemeral", replace_original=False)


def _ref_or_none(text: str, surface: Surface) -> JobRef | None:
    try:
        return parse_job_ref(text, surface.handlers.location)
    except DomainError:
        return None
