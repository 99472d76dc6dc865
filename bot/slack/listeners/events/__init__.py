"""Events API listeners."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.listeners.events.home_opened import HomeOpened
from bot.slack.listeners.events.link_shared import LinkShared
from bot.slack.surface import Surface


def register(app: AsyncApp, surface: Surface) -> None:
    """`app_home_opened`: publish the user's Home tab; `link_shared`: previews of shared
    console links."""
    app.event("app_home_opened")(HomeOpened(surface).handle)
    app.event("link_shared")(LinkShared(surface).handle)
