"""Button and select listeners."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck

from bot.slack.announcements import CONSOLE_ACTION_ID as ENDING_CONSOLE_ACTION_ID
from bot.slack.blocks import LIST_MORE_ACTION_ID
from bot.slack.listeners.actions.cancel_job import CancelButton
from bot.slack.listeners.actions.create_again import CreateAgain
from bot.slack.listeners.actions.list_more import ListMore
from bot.slack.listeners.actions.model_changed import ModelChanged
from bot.slack.status_card import CANCEL_ACTION_ID, CONSOLE_ACTION_ID
from bot.slack.surface import Surface
from bot.slack.unconfirmed import CREATE_AGAIN_ACTION_ID
from bot.tuning.spec import BASE_MODEL


async def _ack_only(ack: AsyncAck) -> None:
    # Link buttons still send block_actions; an unanswered one shows the user a warning.
    await ack()


def register(app: AsyncApp, surface: Surface) -> None:
    """Cancel button, "More" in lists, model choice in the create modal, console links."""
    cancel = CancelButton(surface)
    more = ListMore(surface)
    model = ModelChanged(surface)
    app.action(CANCEL_ACTION_ID)(cancel.handle)
    app.action(LIST_MORE_ACTION_ID)(more.handle)
    app.action(BASE_MODEL)(model.handle)
    app.action(CONSOLE_ACTION_ID)(_ack_only)
    app.action(ENDING_CONSOLE_ACTION_ID)(_ack_only)
    app.action(CREATE_AGAIN_ACTION_ID)(CreateAgain(surface).handle)
