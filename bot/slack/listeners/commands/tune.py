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

from bot.handlers.errors import HandlerError
from bot.handlers.jobs import Actor
from bot.handlers.trying import TryRequest
from bot.i18n import DEFAULT_LANGUAGE, translate
from bot.slack.commands import TuneCommand, Verb, parse_command
from bot.slack.listeners.actions.rerun import NOT_OPENED, RerunForm
from bot.slack.listeners.commands.chart import ChartFlow
from bot.slack.listeners.commands.subscriptions import SUBSCRIPTION_VERBS, SubscriptionFlow
from bot.slack.listeners.views.try_model import TryFlow
from bot.slack.messages.create_form import ModalMetadata, create_modal
from bot.slack.messages.dataset_report import reports_mrkdwn
from bot.slack.messages.help import help_message
from bot.slack.messages.job_detail import job_detail_message
from bot.slack.messages.job_list import list_message
from bot.slack.messages.replies import cancel_reply
from bot.slack.mrkdwn import code, escape
from bot.slack.surface import Surface, observe, problem_text
from bot.tuning.problems import DomainError
from bot.tuning.refs import JobRef, parse_job_ref
from bot.tuning.trying import Prompt

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
            text, body = help_message(language, unknown=parsed.verb is Verb.USAGE)
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
            except HandlerError as exc:
                outcome = exc.outcome
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
        opens_form = parsed.verb in (Verb.CREATE, Verb.RERUN, Verb.CONTINUE, Verb.SETTINGS) or (
            parsed.verb is Verb.TRY and not parsed.prompt
        )
        if not opens_form:
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
        """Call the handler for the verb and render what it returns."""
        language, handlers, argument = actor.language, self.surface.handlers, parsed.argument
        verb = parsed.verb
        if verb in _INSTANT:
            text, body = help_message(language, unknown=verb is Verb.USAGE)
            await respond(text=text, blocks=body, response_type="ephemeral")
            return "ok", None
        if verb is Verb.CREATE:
            catalogue = await handlers.open_form(actor)
            metadata = ModalMetadata(str(actor.channel_id or ""), language)
            view = create_modal(
                language,
                catalogue=catalogue,
                today=self.surface.now().date(),
                metadata=metadata,
                location=handlers.location,
            )
            try:
                await client.views_open(trigger_id=command.get("trigger_id"), view=view)
            except SlackApiError as exc:
                # e.g. expired_trigger_id when Slack was slow to deliver the command.
                error = escape(str(exc.response.get("error", "")))
                await _ephemeral(respond, translate(language, "cmd.form_failed", error=error))
                return "slack_error", None
            return "ok", None
        if verb in (Verb.RERUN, Verb.CONTINUE):
            trigger = str(command.get("trigger_id") or "")
            outcome, job_name = await RerunForm(self.surface).open(
                actor, argument, trigger, client, continuing=verb is Verb.CONTINUE
            )
            if outcome == NOT_OPENED:
                await _ephemeral(respond, translate(language, "rerun.form_failed"))
            return outcome, job_name
        if verb is Verb.LIST:
            listing = await handlers.list_jobs(actor, argument)
            text, body = list_message(
                listing.jobs,
                filter_word=argument,
                next_page_token=listing.next_page_token,
                language=language,
                now=self.surface.now(),
            )
            await respond(text=text, blocks=body, response_type="ephemeral")
            return "ok", None
        if verb is Verb.CHECK:

            async def checking() -> None:
                await _ephemeral(respond, translate(language, "cmd.checking", uri=code(argument)))

            verdict = await handlers.check_dataset(actor, argument, checking=checking)
            await _ephemeral(respond, reports_mrkdwn(verdict.reports))
            return "ok", None
        if verb is Verb.GET:
            job = await handlers.get(actor, argument)
            text, body = job_detail_message(job, language=language, now=self.surface.now())
            await respond(text=text, blocks=body, response_type="ephemeral")
            return "ok", job.name
        if verb is Verb.TRY:
            return await self._try(parsed, actor, command, respond, client)
        if verb in SUBSCRIPTION_VERBS:
            flow = SubscriptionFlow(self.surface)
            return await flow.run(parsed, actor, command, respond, client), None
        if verb is Verb.CHART:
            posted = await ChartFlow(self.surface).post(actor, argument, client)
            await _ephemeral(respond, posted.reply)
            return posted.outcome, posted.job_name or None
        if verb is Verb.CANCEL:
            job = await handlers.cancel(actor, argument)
            await _ephemeral(respond, cancel_reply(job, language))
            return "ok", job.name
        if verb is Verb.WATCH:
            watched = await handlers.watch(actor, argument)
            key = "sub.already" if watched.already else "sub.watching"
            await _ephemeral(respond, translate(language, key, job=code(watched.job.name)))
            return ("already" if watched.already else "ok"), watched.job.name
        unwatched = await handlers.unwatch(actor, argument)
        key = "sub.unwatched" if unwatched.removed else "sub.not_watching"
        await _ephemeral(respond, translate(language, key, job=code(unwatched.ref.name)))
        return ("ok" if unwatched.removed else "not_watching"), unwatched.ref.name

    async def _try(
        self,
        parsed: TuneCommand,
        actor: Actor,
        command: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> tuple[str, str | None]:
        """With a prompt, ask at once with the form's defaults; without, open the form."""
        flow = TryFlow(self.surface)
        if parsed.prompt:
            request = TryRequest(parsed.argument, Prompt(parsed.prompt))
            return "ok", await flow.answer(actor, request, only_me=False, client=client)
        try:
            await flow.open_form(actor, parsed.argument, str(command.get("trigger_id")), client)
        except SlackApiError as exc:
            error = escape(str(exc.response.get("error", "")))
            await _ephemeral(respond, translate(actor.language, "cmd.form_failed", error=error))
            return "slack_error", None
        return "ok", None


async def _ephemeral(respond: AsyncRespond, text: str) -> None:
    await respond(text=text, response_type="ephemeral", replace_original=False)


def _ref_or_none(text: str, surface: Surface) -> JobRef | None:
    try:
        return parse_job_ref(text, surface.handlers.location)
    except DomainError:
        return None
