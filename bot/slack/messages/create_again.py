"""The message offering to create a job again after Google never confirmed the first create."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ConfirmObject,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.i18n import translate
from bot.slack import ids
from bot.slack.mrkdwn import truncate


def create_again_blocks(language: str, text: str, token: str) -> list[dict[str, Any]]:
    """`text` (already safe mrkdwn) and a button, with Slack's confirmation, to create now."""
    blocks = [
        SectionBlock(text=MarkdownTextObject(text=truncate(text, 3000))),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text=translate(language, "create.again_button"),
                    action_id=ids.CREATE_AGAIN,
                    value=token,
                    confirm=ConfirmObject(
                        title=translate(language, "create.again_confirm_title"),
                        text=PlainTextObject(text=translate(language, "create.again_confirm_text")),
                        confirm=translate(language, "create.again_confirm_yes"),
                        deny=translate(language, "create.again_confirm_no"),
                    ),
                )
            ]
        ),
    ]
    return [b.to_dict() for b in blocks]
