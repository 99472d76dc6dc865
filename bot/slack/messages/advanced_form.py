"""The create form's advanced settings: the button and summary in the form, and the view the
button pushes over it (labels, description, checkpoints, service account, CMEK key)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
)
from slack_sdk.models.views import View

from bot.i18n import translate
from bot.slack import ids
from bot.slack.mrkdwn import literal, truncate
from bot.tuning.advanced import (
    DESCRIPTION,
    EXPORT_LAST_CHECKPOINT_ONLY,
    KMS_KEY_NAME,
    LABELS,
    MAX_DESCRIPTION,
    SERVICE_ACCOUNT,
    AdvancedSettings,
    labels_text,
)

# The checkbox's one option.
_EXPORT_VALUE = "on"
# Labels are listed in the summary up to this length; the view shows them all.
_SUMMARY_LABELS = 300


def advanced_blocks(language: str, settings: AdvancedSettings | None) -> list[Block]:
    """The form's "Advanced settings…" button and, once saved, a line saying what is set."""
    blocks: list[Block] = [
        ActionsBlock(
            block_id=ids.ADVANCED_OPEN,
            elements=[
                ButtonElement(
                    action_id=ids.ADVANCED_OPEN,
                    text=translate(language, "modal.advanced.button"),
                )
            ],
        )
    ]
    summary = advanced_summary(language, settings)
    if summary:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=summary)]))
    return blocks


def advanced_summary(language: str, settings: AdvancedSettings | None) -> str | None:
    """One mrkdwn line such as "Labels: team=ml · Export last checkpoint only"."""
    if settings is None or settings.empty:
        return None
    parts = []
    if settings.labels:
        listed = ", ".join(f"{k}={v}" if v else k for k, v in settings.labels.items())
        text = literal(truncate(listed, _SUMMARY_LABELS))
        parts.append(translate(language, "modal.advanced.summary_labels", labels=text))
    if settings.description:
        parts.append(translate(language, "modal.advanced.summary_description"))
    if settings.export_last_checkpoint_only:
        parts.append(translate(language, "modal.advanced.summary_export"))
    if settings.service_account:
        account = literal(settings.service_account)
        parts.append(translate(language, "modal.advanced.summary_service_account", account=account))
    if settings.kms_key_name:
        # The key's own name; its full resource name is in the view.
        key = literal(settings.kms_key_name.rsplit("/", 1)[-1])
        parts.append(translate(language, "modal.advanced.summary_kms_key", name=key))
    return truncate(translate(language, "modal.advanced.separator").join(parts), 3000)


@dataclass(frozen=True)
class AdvancedMetadata:
    """What the pushed view carries: the form's view and metadata (without its advanced
    settings, which the fields hold), and the form's model and channel choice, which decide
    the form's blocks when it is drawn again."""

    root_view_id: str
    form_metadata: Mapping[str, Any]
    values: Mapping[str, str]

    def to_json(self) -> str:
        """Compact JSON for `private_metadata`."""
        data = {"r": self.root_view_id, "m": dict(self.form_metadata), "v": dict(self.values)}
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def parse(cls, text: str | None) -> AdvancedMetadata | None:
        """Read it back; None when it is not ours."""
        try:
            data = json.loads(text or "")
        except (ValueError, RecursionError):
            return None
        if not isinstance(data, dict):
            return None
        root, form, values = data.get("r"), data.get("m"), data.get("v")
        if not isinstance(root, str) or not root or not isinstance(form, dict):
            return None
        if not isinstance(values, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in values.items()
        ):
            return None
        return cls(root, form, values)


def advanced_modal(
    language: str,
    settings: AdvancedSettings,
    *,
    metadata: AdvancedMetadata,
    offer_service_account: bool,
    offer_kms_key: bool,
) -> dict[str, Any]:
    """The view pushed over the form, filled with `settings`; the service account and key
    fields only where the installation configures them (or the settings already hold one)."""
    blocks: list[Block] = [
        _text(
            language,
            LABELS,
            labels_text(settings.labels),
            keys=("modal.advanced.labels.label", "modal.advanced.labels.hint"),
            placeholder=translate(language, "modal.advanced.labels.placeholder"),
            multiline=True,
            max_length=3000,
        ),
        _text(
            language,
            DESCRIPTION,
            settings.description,
            keys=("modal.advanced.description.label", "modal.advanced.description.hint"),
            multiline=True,
            max_length=MAX_DESCRIPTION,
        ),
        _export_block(language, settings.export_last_checkpoint_only),
    ]
    if offer_service_account or settings.service_account:
        blocks.append(
            _text(
                language,
                SERVICE_ACCOUNT,
                settings.service_account,
                keys=(
                    "modal.advanced.service_account.label",
                    "modal.advanced.service_account.hint",
                ),
                max_length=254,
            )
        )
    if offer_kms_key or settings.kms_key_name:
        blocks.append(
            _text(
                language,
                KMS_KEY_NAME,
                settings.kms_key_name,
                keys=("modal.advanced.kms_key.label", "modal.advanced.kms_key.hint"),
                max_length=500,
            )
        )
    view = View(
        type="modal",
        callback_id=ids.ADVANCED_FORM,
        title=translate(language, "modal.advanced.title"),
        submit=translate(language, "modal.advanced.save"),
        close=translate(language, "modal.advanced.back"),
        private_metadata=metadata.to_json(),
        blocks=blocks,
    )
    return view.to_dict()


def _text(
    language: str,
    block_id: str,
    value: str | None,
    *,
    keys: tuple[str, str],
    placeholder: str | None = None,
    multiline: bool = False,
    max_length: int,
) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=translate(language, keys[0]),
        hint=translate(language, keys[1]),
        optional=True,
        element=PlainTextInputElement(
            action_id=block_id,
            initial_value=value or None,
            placeholder=placeholder,
            multiline=multiline,
            max_length=max_length,
        ),
    )


def _export_block(language: str, chosen: bool) -> InputBlock:
    option = Option(
        value=_EXPORT_VALUE, text=translate(language, "modal.advanced.checkpoints.option")
    )
    return InputBlock(
        block_id=EXPORT_LAST_CHECKPOINT_ONLY,
        label=translate(language, "modal.advanced.checkpoints.label"),
        hint=translate(language, "modal.advanced.checkpoints.hint"),
        optional=True,
        element=CheckboxesElement(
            action_id=EXPORT_LAST_CHECKPOINT_ONLY,
            options=[option],
            initial_options=[option] if chosen else None,
        ),
    )


def read_advanced(state_values: Mapping[str, Any]) -> tuple[dict[str, str | None], bool]:
    """The view's text values by field, and whether the checkbox is ticked; anything missing
    or oddly shaped reads as empty."""
    form: dict[str, str | None] = {}
    for name in (LABELS, DESCRIPTION, SERVICE_ACCOUNT, KMS_KEY_NAME):
        block = state_values.get(name)
        element = block.get(name) if isinstance(block, dict) else None
        value = element.get("value") if isinstance(element, dict) else None
        form[name] = value if isinstance(value, str) else None
    block = state_values.get(EXPORT_LAST_CHECKPOINT_ONLY)
    element = block.get(EXPORT_LAST_CHECKPOINT_ONLY) if isinstance(block, dict) else None
    chosen = element.get("selected_options") if isinstance(element, dict) else None
    ticked = isinstance(chosen, list) and any(
        isinstance(o, dict) and o.get("value") == _EXPORT_VALUE for o in chosen
    )
    return form, ticked
