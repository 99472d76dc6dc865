"""One folder per Slack surface; `register_listeners` wires them all in one call."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.listeners import actions, commands, events, views
from bot.slack.surface import Surface


def register_listeners(app: AsyncApp, surface: Surface) -> None:
    """Register every command, view, action and event listener."""
    commands.register(app, surface)
    views.register(app, surface)
    actions.register(app, surface)
    events.register(app, surface)
