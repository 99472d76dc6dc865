"""Button and select listeners."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck

from bot.slack import ids
from bot.slack.listeners.actions.advanced import AdvancedOpen
from bot.slack.listeners.actions.cancel_job import CancelButton
from bot.slack.listeners.actions.create_again import CreateAgain
from bot.slack.listeners.actions.home import JobDetailsFromHome, NewJobFromHome
from bot.slack.listeners.actions.list_more import ListMore
from bot.slack.listeners.actions.model_changed import ModelChanged
from bot.slack.listeners.actions.rerun import RerunButton
from bot.slack.listeners.actions.try_model import TryButton
from bot.slack.surface import Surface
from bot.tuning.spec import BASE_MODEL


async def _ack_only(ack: AsyncAck) -> None:
    # Link buttons still send block_actions; an unanswered one shows the user a warning.
    await ack()


def register(app: AsyncApp, surface: Surface) -> None:
    """Cancel button, "More" in lists, model choice in the create modal, console links, the
    Home tab's New tuning job and Details, the create form's Advanced settings, Run again,
    Continue tuning and Try it."""
    cancel = CancelButton(surface)
    more = ListMore(surface)
    model = ModelChanged(surface)
    app.action(ids.CARD_CANCEL)(cancel.handle)
    app.action(ids.LIST_MORE)(more.handle)
    app.action(BASE_MODEL)(model.handle)
    app.action(ids.CARD_CONSOLE)(_ack_only)
    app.action(ids.ENDING_CONSOLE)(_ack_only)
    app.action(ids.CREATE_AGAIN)(CreateAgain(surface).handle)
    app.action(ids.HOME_NEW_JOB)(NewJobFromHome(surface).handle)
    app.action(ids.HOME_JOB_GET)(JobDetailsFromHome(surface).handle)
    app.action(ids.ADVANCED_OPEN)(AdvancedOpen(surface).handle)
    app.action(ids.JOB_RERUN)(RerunButton(surface, continuing=False).handle)
    app.action(ids.JOB_CONTINUE)(RerunButton(surface, continuing=True).handle)
    app.action(ids.TRY_MODEL)(TryButton(surface).handle)
