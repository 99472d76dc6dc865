"""Slash command listeners."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.listeners.commands.tune import TuneCommandListener
from bot.slack.surface import Surface

COMMAND = "/tune"


def register(app: AsyncApp, surface: Surface) -> None:
    """`/tune` and all its subcommands."""
    tune = TuneCommandListener(surface)
    app.command(COMMAND)(tune.handle)
