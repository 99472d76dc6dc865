"""Shortcut listeners: the message shortcut that watches a job."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack import ids
from bot.slack.listeners.shortcuts.watch_message import WatchFromMessage
from bot.slack.surface import Surface


def register(app: AsyncApp, surface: Surface) -> None:
    """The "Watch tuning job in this channel" message shortcut."""
    app.message_shortcut(ids.WATCH_MESSAGE_SHORTCUT)(WatchFromMessage(surface).handle)
