"""Shortcut listeners: the global one opens the create form, the message one watches a job."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack import ids
from bot.slack.listeners.shortcuts.new_job import NewJobShortcut
from bot.slack.listeners.shortcuts.watch_message import WatchFromMessage
from bot.slack.surface import Surface


def register(app: AsyncApp, surface: Surface) -> None:
    """The "New tuning job" shortcut from anywhere; "Watch tuning job here" on a message."""
    app.global_shortcut(ids.NEW_JOB_SHORTCUT)(NewJobShortcut(surface).handle)
    app.message_shortcut(ids.WATCH_MESSAGE_SHORTCUT)(WatchFromMessage(surface).handle)
