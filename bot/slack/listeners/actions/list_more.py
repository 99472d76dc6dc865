"""The "More" button under a job list: the next page replaces the current one."""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.handlers.errors import HandlerError
from bot.slack.messages.job_list import list_message, parse_more_value
from bot.slack.surface import Surface, observe, problem_text, restarting
from bot.tuning.states import LIST_FILTERS


class ListMore:
    """`block_actions` with action_id `jobs_list_more`."""

    def __init__(self, surface: Surface) -> None:
        self.surface = surface

    async def handle(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        """Acknowledge; the page is fetched after."""
        await ack()
        self.surface.after_ack(
            self.work(body, action, respond),
            if_abandoned=lambda: restarting(self.surface, body, respond),
        )

    async def work(
        self, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        """Fetch the page the button's token names and show it."""
        user = str((body.get("user") or {}).get("id") or "")
        channel = (body.get("channel") or {}).get("id")
        parsed = parse_more_value(str(action.get("value") or ""))
        if parsed is None or parsed[0] not in LIST_FILTERS:
            observe("button.list_more", "malformed", user=user)
            return
        filter_word, token = parsed
        actor = await self.surface.actor(user, channel)
        try:
            listing = await self.surface.handlers.list_jobs(actor, filter_word, token)
        except HandlerError as exc:
            text = problem_text(actor.language, exc.problem)
            await respond(text=text, response_type="ephemeral", replace_original=False)
            observe("button.list_more", exc.outcome, user=user)
            return
        text, body_blocks = list_message(
            listing.jobs,
            filter_word=filter_word,
            next_page_token=listing.next_page_token,
            language=actor.language,
            now=self.surface.now(),
        )
        await respond(
            text=text, blocks=body_blocks, response_type="ephemeral", replace_original=True
        )
        observe("button.list_more", "ok", user=user)
