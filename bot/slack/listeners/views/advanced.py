"""Saving the advanced settings view: check it, then redraw the form with the settings kept."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.messages.advanced_form import AdvancedMetadata, read_advanced
from bot.slack.messages.create_form import ModalMetadata, create_modal, field_errors
from bot.slack.surface import Surface, observe
from bot.tuning.advanced import DESCRIPTION, validate_advanced
from bot.tuning.problems import Problem


class AdvancedSubmission:
    """`view_submission` of `tuning_job_advanced`."""

    def __init__(self, surface: Surface) -> None:
        self.surface = surface

    async def handle(
        self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """Errors under the fields in the ack; otherwise back to the form, updated after it."""
        user = str((body.get("user") or {}).get("id") or "")
        pushed = AdvancedMetadata.parse(view.get("private_metadata"))
        form_metadata = (
            ModalMetadata.parse(json.dumps(dict(pushed.form_metadata))) if pushed else None
        )
        if pushed is None or form_metadata is None:
            await ack()
            observe("view.advanced", "malformed", user=user)
            return
        language = form_metadata.language
        state = view.get("state")
        values = state.get("values") if isinstance(state, dict) else None
        raw, ticked = read_advanced(values if isinstance(values, dict) else {})
        check = validate_advanced(
            raw,
            export_last_checkpoint_only=ticked,
            region=self.surface.handlers.location.region,
        )
        if check.settings is None:
            await ack(response_action="errors", errors=field_errors(language, check.errors))
            observe("view.advanced", "invalid", user=user)
            return
        metadata = replace(form_metadata, advanced=check.settings)
        if not metadata.fits:
            problem = Problem.of("advanced.metadata_full")
            await ack(
                response_action="errors", errors=field_errors(language, {DESCRIPTION: problem})
            )
            observe("view.advanced", "too_long", user=user)
            return
        # An empty answer closes only this view: the form under it shows again.
        await ack()
        self.surface.after_ack(self.update_form(pushed, metadata, user, client))

    async def update_form(
        self,
        pushed: AdvancedMetadata,
        metadata: ModalMetadata,
        user: str,
        client: AsyncWebClient,
    ) -> None:
        """`views.update` of the form with the settings in its metadata and its summary line;
        the same blocks and ids, so Slack keeps what the user typed in the form."""
        form = create_modal(
            metadata.language,
            catalogue=self.surface.handlers.catalogue,
            today=self.surface.now().date(),
            metadata=metadata,
            location=self.surface.handlers.location,
            values=dict(pushed.values),
        )
        try:
            await client.views_update(view_id=pushed.root_view_id, view=form)
        except SlackApiError as exc:
            # The form was closed meanwhile: nothing is left to update.
            observe("view.advanced", str(exc.response.get("error")), user=user)
            return
        observe("view.advanced", "ok", user=user)
