"""Picking a base model in the create modal: refresh the adapter sizes and the model notes."""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.messages.create_form import ModalMetadata, create_modal, read_form
from bot.slack.surface import Surface, observe


class ModelChanged:
    """`block_actions` from the `base_model` select (it has `dispatch_action: true`)."""

    def __init__(self, surface: Surface) -> None:
        self.surface = surface

    async def handle(self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        """Nothing to say in the ack; the view is updated after it."""
        await ack()
        self.surface.after_ack(self.work(body, client))

    async def work(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        """`views.update` with the view's hash, keeping what the user typed."""
        view = body.get("view")
        user = str((body.get("user") or {}).get("id") or "")
        if not isinstance(view, dict):
            observe("modal.model_changed", "malformed", user=user)
            return
        metadata = ModalMetadata.parse(view.get("private_metadata"))
        if metadata is None:
            observe("modal.model_changed", "malformed", user=user)
            return
        state = view.get("state")
        values = state.get("values") if isinstance(state, dict) else None
        form = read_form(values if isinstance(values, dict) else {})
        updated = create_modal(
            metadata.language,
            catalogue=self.surface.handlers.catalogue,
            today=self.surface.now().date(),
            metadata=metadata,
            location=self.surface.handlers.location,
            values=form,
        )
        try:
            await client.views_update(view_id=view.get("id"), hash=view.get("hash"), view=updated)
        except SlackApiError as exc:
            # hash_conflict: the user changed something meanwhile; their newer change wins.
            observe("modal.model_changed", str(exc.response.get("error")), user=user)
            return
        observe("modal.model_changed", "ok", user=user)
