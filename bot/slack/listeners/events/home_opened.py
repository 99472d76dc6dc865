"""`app_home_opened`: the user looks at the bot's Home tab; publish what it shows now."""

from __future__ import annotations

import time
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck

from bot.slack.surface import Surface, observe


class HomeOpened:
    """Acknowledge at once; build and publish the Home after the ack."""

    def __init__(self, surface: Surface) -> None:
        self.surface = surface

    async def handle(self, ack: AsyncAck, event: dict[str, Any]) -> None:
        """Only the Home tab is ours to draw (`tab` is `messages` for the Messages tab)."""
        started = time.monotonic()
        await ack()
        user = str(event.get("user") or "")
        if event.get("tab") != "home" or not user or self.surface.homes is None:
            return
        channel = event.get("channel")
        self.surface.after_ack(
            self.work(user, channel if isinstance(channel, str) and channel else None, started)
        )

    async def work(self, user: str, channel: str | None, started: float) -> None:
        """Publish the user's Home in their language."""
        assert self.surface.homes is not None
        actor = await self.surface.actor(user, channel)
        shown = await self.surface.homes.show(actor)
        observe("app_home.opened", "ok" if shown else "slack_error", user=user, started=started)
