"""`/tune subscribe`, `unsubscribe`, `subscriptions`, `settings` and `debug`.

Subscribing posts the channel's public notice before the subscription is stored: Slack
refusing it (`not_in_channel`, `channel_not_found`: a private channel the bot was not invited
to) means the bot could never announce a job there, so nothing is stored and the user is told
to invite the bot.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.handlers.errors import Unavailable
from bot.handlers.jobs import Actor
from bot.handlers.subscriptions import NotYours, SubscriptionHandlers
from bot.i18n import translate
from bot.slack.commands import TuneCommand, Verb
from bot.slack.messages.subscriptions import (
    debug_message,
    not_yours_reply,
    settings_modal,
    subscribed_notice,
    subscribed_reply,
    subscriptions_message,
    unsubscribed_reply,
)
from bot.slack.mrkdwn import escape
from bot.slack.surface import Surface
from bot.tuning.problems import Problem

log = logging.getLogger(__name__)

SUBSCRIPTION_VERBS = frozenset(
    {Verb.SUBSCRIBE, Verb.UNSUBSCRIBE, Verb.SUBSCRIPTIONS, Verb.SETTINGS, Verb.DEBUG}
)
# Slack's answers to a post in a channel the bot is not a member of (public / private).
NOT_A_MEMBER = frozenset({"not_in_channel", "channel_not_found"})


class SubscriptionFlow:
    """One `/tune` subscription verb, from the use case to the user's reply."""

    def __init__(self, surface: Surface) -> None:
        self.surface = surface

    @property
    def subscriptions(self) -> SubscriptionHandlers:
        """The use cases; `Unavailable` when this bot was built without them."""
        if self.surface.subscriptions is None:
            raise Unavailable(Problem.of("cmd.internal_error"))
        return self.surface.subscriptions

    async def run(
        self,
        parsed: TuneCommand,
        actor: Actor,
        command: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> str:
        """Do the verb and answer; returns the outcome to count."""
        language = actor.language
        subs = self.subscriptions
        if parsed.verb is Verb.SUBSCRIBE:
            return await self.subscribe(actor, parsed.words, respond, client)
        if parsed.verb is Verb.UNSUBSCRIBE:
            try:
                done = await subs.unsubscribe(actor, parsed.words)
            except NotYours as exc:
                await _ephemeral(respond, not_yours_reply(exc.subscription, language))
                return exc.outcome
            await _ephemeral(respond, unsubscribed_reply(done.removed, done.location, language))
            return "ok" if done.removed is not None else "not_subscribed"
        if parsed.verb is Verb.SUBSCRIPTIONS:
            listed = await subs.list(actor)
            channel = str(actor.channel_id or "")
            text, blocks = subscriptions_message(listed, language=language, channel_id=channel)
            await respond(text=text, blocks=blocks, response_type="ephemeral")
            return "ok"
        if parsed.verb is Verb.SETTINGS:
            trigger = str(command.get("trigger_id") or "")
            return await self.open_settings(actor, trigger, respond, client)
        report = await subs.debug(actor)
        text, blocks = debug_message(report, language=language)
        await respond(text=text, blocks=blocks, response_type="ephemeral")
        return "ok"

    async def subscribe(
        self,
        actor: Actor,
        words: tuple[str, ...],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> str:
        """Check, post the channel's notice, then store and back-fill."""
        subs, language = self.subscriptions, actor.language
        prepared = await subs.prepare(actor, words)
        channel = prepared.preview.channel_id
        notice = subscribed_notice(prepared.preview, language=language)
        try:
            posted = await client.chat_postMessage(channel=channel, text=notice)
        except SlackApiError as exc:
            error = str(exc.response.get("error", ""))
            log.info("subscription notice refused", extra={"error": error})
            if error in NOT_A_MEMBER:
                await _ephemeral(respond, translate(language, "subs.not_in_channel"))
                return "not_in_channel"
            reply = translate(language, "subs.notice_failed", error=escape(error))
            await _ephemeral(respond, reply)
            return "slack_error"
        try:
            outcome = await subs.commit(actor, prepared)
        except Exception:
            # Not stored after all: the notice would announce a subscription that is not there.
            ts = str(posted.get("ts") or "")
            with contextlib.suppress(Exception):
                if ts:
                    await client.chat_delete(channel=channel, ts=ts)
            raise
        reply = subscribed_reply(
            outcome.subscription,
            created=outcome.created,
            backfilled=outcome.backfilled,
            language=language,
        )
        await _ephemeral(respond, reply)
        return "ok" if outcome.created else "changed"

    async def open_settings(
        self, actor: Actor, trigger_id: str, respond: AsyncRespond, client: AsyncWebClient
    ) -> str:
        """Open the channel's settings modal, filled with what it has now."""
        settings = await self.subscriptions.settings(actor)
        view = settings_modal(
            settings, channel_id=str(actor.channel_id or ""), language=actor.language
        )
        try:
            await client.views_open(trigger_id=trigger_id, view=view)
        except SlackApiError as exc:
            error = escape(str(exc.response.get("error", "")))
            await _ephemeral(respond, translate(actor.language, "cmd.form_failed", error=error))
            return "slack_error"
        return "ok"


async def _ephemeral(respond: AsyncRespond, text: str) -> None:
    await respond(text=text, response_type="ephemeral", replace_original=False)
