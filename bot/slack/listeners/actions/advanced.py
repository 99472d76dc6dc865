"""The create form's "Advanced settings…" button: push the advanced view over the form."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import ids
from bot.slack.messages.advanced_form import AdvancedMetadata, advanced_modal
from bot.slack.messages.create_form import ModalMetadata, read_form
from bot.slack.surface import Surface, observe
from bot.tuning.spec import BASE_MODEL


class AdvancedOpen:
    """`block_actions` of `create_advanced_open` in the create form."""

    def __init__(self, surface: Surface) -> None:
        self.surface = surface

    async def handle(self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        """Acknowledge, then push the view with the click's trigger id."""
        await ack()
        self.surface.after_ack(self.work(body, client))

    async def work(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        """`views.push` of the advanced view, filled with what the form holds."""
        view = body.get("view")
        user = str((body.get("user") or {}).get("id") or "")
        metadata = (
            ModalMetadata.parse(view.get("private_metadata")) if isinstance(view, dict) else None
        )
        trigger = body.get("trigger_id")
        if not isinstance(view, dict) or metadata is None or not isinstance(trigger, str):
            observe("button.advanced", "malformed", user=user)
            return
        state = view.get("state")
        values = state.get("values") if isinstance(state, dict) else None
        form = read_form(values if isinstance(values, dict) else {})
        # Only the choices that decide the form's blocks; Slack keeps the rest as typed.
        kept = {name: value for name in (BASE_MODEL, ids.POST_IN) if (value := form.get(name))}
        defaults = self.surface.handlers.advanced_defaults
        settings = metadata.advanced if metadata.advanced is not None else defaults
        form_metadata = json_without_advanced(metadata)
        pushed = advanced_modal(
            metadata.language,
            settings,
            metadata=AdvancedMetadata(str(view.get("id") or ""), form_metadata, kept),
            offer_service_account=defaults.service_account is not None,
            offer_kms_key=defaults.kms_key_name is not None,
        )
        try:
            await client.views_push(trigger_id=trigger, view=pushed)
        except SlackApiError as exc:
            # expired_trigger_id: the click is too old; the user can click again.
            observe("button.advanced", str(exc.response.get("error")), user=user)
            return
        observe("button.advanced", "ok", user=user)


def json_without_advanced(metadata: ModalMetadata) -> dict[str, Any]:
    """The form's metadata as data, its advanced settings left out (the view's fields hold
    them, and the pushed view's own metadata has the same 3,000-character limit)."""
    data: dict[str, Any] = json.loads(replace(metadata, advanced=None).to_json())
    return data
