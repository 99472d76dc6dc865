"""Modal submission listeners."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack import ids
from bot.slack.listeners.views.advanced import AdvancedSubmission
from bot.slack.listeners.views.channel_settings import ChannelSettingsSubmission
from bot.slack.listeners.views.create_job import CreateJobSubmission
from bot.slack.listeners.views.try_model import TrySubmission
from bot.slack.surface import Surface


def register(app: AsyncApp, surface: Surface) -> None:
    """The create modal's submission, its advanced settings view's, the Try it modal's and
    the channel settings modal's."""
    create = CreateJobSubmission(surface)
    app.view(ids.CREATE_FORM)(create.handle)
    app.view(ids.ADVANCED_FORM)(AdvancedSubmission(surface).handle)
    app.view(ids.TRY_FORM)(TrySubmission(surface).handle)
    app.view(ids.CHANNEL_SETTINGS)(ChannelSettingsSubmission(surface).handle)
