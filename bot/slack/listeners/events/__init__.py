"""Events API listeners."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.listeners.events.link_shared import LinkShared
from bot.slack.surface import Surface


def register(app: AsyncApp, surface: Surface) -> None:
    """Previews of shared console links."""
    app.event("link_shared")(LinkShared(surface).handle)
