"""One folder per Slack surface; `register_listeners` wires them all in one call."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.listeners import actions, commands, events, shortcuts, views
from bot.slack.surface import Surface


def register_listeners(app: AsyncApp, surface: Surface) -> None:
    """Register every command, shortcut, view, action and event listener."""
    commands.register(app, surface)
    views.register(app, surface)
    actions.register(app, surface)
    events.register(app, surface)
    shortcuts.register(app, surface)
