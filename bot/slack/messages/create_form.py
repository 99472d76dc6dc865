"""The create modal: its Block Kit, the values it carries, and reading them back."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    ConversationFilter,
    ConversationSelectElement,
    InputBlock,
    MarkdownTextObject,
    NumberInputElement,
    Option,
    OptionGroup,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.i18n import render, render_plain, translate
from bot.slack import ids
from bot.slack.messages.advanced_form import advanced_blocks
from bot.slack.mrkdwn import code, escape, truncate
from bot.tuning.advanced import AdvancedSettings
from bot.tuning.catalogue import Catalogue, HyperparameterLimits, ModelInfo, ModelStatus
from bot.tuning.problems import Problem
from bot.tuning.refs import Location
from bot.tuning.spec import (
    ADAPTER_SIZE,
    BASE_MODEL,
    DISPLAY_NAME,
    EPOCHS,
    FIELDS,
    LEARNING_RATE_MULTIPLIER,
    MAX_DISPLAY_NAME,
    TRAINING_DATASET,
    VALIDATION_DATASET,
)

MODEL_STATUS_KEYS: dict[ModelStatus, str] = {
    ModelStatus.RETIRING: "modal.model_retiring",
    ModelStatus.RETIRED: "modal.model_retired",
}
# The picker's groups: models that can be tuned (retiring ones marked as such), then retired.
MODEL_GROUP_KEYS: dict[str, str] = {
    "current": "modal.models_current",
    "retired": "modal.models_retired",
}
# (label, hint, placeholder) message keys of each text field, written out so that a test can
# check each one exists.
FIELD_KEYS: dict[str, tuple[str, str, str]] = {
    TRAINING_DATASET: (
        "modal.training_dataset.label",
        "modal.training_dataset.hint",
        "modal.training_dataset.placeholder",
    ),
    VALIDATION_DATASET: (
        "modal.validation_dataset.label",
        "modal.validation_dataset.hint",
        "modal.validation_dataset.placeholder",
    ),
    EPOCHS: ("modal.epochs.label", "modal.epochs.hint", "modal.epochs.placeholder"),
    LEARNING_RATE_MULTIPLIER: (
        "modal.learning_rate_multiplier.label",
        "modal.learning_rate_multiplier.hint",
        "modal.learning_rate_multiplier.placeholder",
    ),
    DISPLAY_NAME: (
        "modal.display_name.label",
        "modal.display_name.hint",
        "modal.display_name.placeholder",
    ),
}
MAX_METADATA = 3000
_WARNINGS_ROOM = 40  # `,"w":"…"` with a 16-character digest, and a margin
MAX_OPTIONS = 100
MAX_OPTION_TEXT = 75
# Slack publishes no separate limit for the texts under fields; an input's hint takes 2,000
# characters, and an error is kept within that too.
MAX_FIELD_ERROR = 2000
# A Slack conversation id: it is written into mrkdwn (`<#C…>`), so nothing else is taken.
_CHANNEL = re.compile(r"[A-Z0-9]{2,40}")


@dataclass(frozen=True)
class ModalMetadata:
    """What travels in `private_metadata`: the channel to post in, the user's language, and the
    datasets whose pre-flight warnings the user has seen (so Submit again means "start anyway").

    `choose_channel`: the form was opened where there is no channel (a global shortcut), so it
    asks where to post; `channel_id` is then empty.

    `advanced`: what the advanced settings view saved; None until it is saved (the configured
    defaults then apply).
    """

    channel_id: str
    language: str = "en"
    warnings_seen: str | None = None
    choose_channel: bool = False
    advanced: AdvancedSettings | None = None
    # Run again: the job the form was filled from, and for continuous tuning its tuned model.
    source_job: str | None = None
    tuned_model: str | None = None

    def to_json(self) -> str:
        """Compact JSON, within Slack's 3,000 characters (`fits` says so beforehand)."""
        text = self._json()
        assert len(text) <= MAX_METADATA
        return text

    @property
    def fits(self) -> bool:
        """True when the metadata is within Slack's limit (long advanced settings may not be),
        with room left for the warnings digest that a dataset check may add later."""
        return len(self._json()) <= MAX_METADATA - _WARNINGS_ROOM

    def _json(self) -> str:
        data: dict[str, Any] = {"c": self.channel_id, "l": self.language}
        if self.warnings_seen:
            data["w"] = self.warnings_seen
        if self.choose_channel:
            data["p"] = 1
        if self.advanced is not None:
            data["a"] = self.advanced.to_data()
        if self.source_job:
            data["s"] = self.source_job
        if self.tuned_model:
            data["t"] = self.tuned_model
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def parse(cls, text: str | None) -> ModalMetadata | None:
        """Read it back; None when it is not ours (malformed or missing fields)."""
        try:
            data = json.loads(text or "")
        except (ValueError, RecursionError):  # deeply nested arrays exhaust the parser's stack
            return None
        if not isinstance(data, dict):
            return None
        channel, language, seen = data.get("c"), data.get("l", "en"), data.get("w")
        choose = data.get("p") == 1
        if not isinstance(channel, str) or not isinstance(language, str):
            return None
        if not channel and not choose:
            return None
        advanced = AdvancedSettings.from_data(data["a"]) if "a" in data else None
        source, tuned = data.get("s"), data.get("t")
        return cls(
            channel,
            language,
            seen if isinstance(seen, str) else None,
            choose,
            advanced,
            source if isinstance(source, str) and source else None,
            tuned if isinstance(tuned, str) and tuned else None,
        )


def _model_option(model: ModelInfo, language: str, today: dt.date) -> Option:
    status = model.status_on(today)
    label = model.label
    if status is not ModelStatus.CURRENT:
        status_text = translate(language, MODEL_STATUS_KEYS[status])
        label += translate(language, "format.parenthesised", text=status_text)
    return Option(value=model.model_id, text=truncate(label, MAX_OPTION_TEXT))


def model_warning(model: ModelInfo | None, language: str, today: dt.date) -> str | None:
    """A line about a retired or retiring model, or None for a current one."""
    if model is None:
        return None
    status = model.status_on(today)
    if status is ModelStatus.RETIRED:
        return render(language, Problem.of("spec.model_retired", model=model.model_id))
    if status is ModelStatus.RETIRING and model.retires_on is not None:
        problem = Problem.of(
            "spec.model_retiring", model=model.model_id, date=model.retires_on.isoformat()
        )
        return render(language, problem)
    return None


def _text_input(
    language: str,
    block_id: str,
    value: str | None,
    *,
    optional: bool,
    max_length: int = 1024,
) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=translate(language, FIELD_KEYS[block_id][0]),
        hint=translate(language, FIELD_KEYS[block_id][1]),
        optional=optional,
        element=PlainTextInputElement(
            action_id=block_id,
            placeholder=translate(language, FIELD_KEYS[block_id][2]),
            initial_value=value or None,
            max_length=max_length,
        ),
    )


def create_modal(
    language: str,
    *,
    catalogue: Catalogue,
    today: dt.date,
    metadata: ModalMetadata,
    location: Location,
    values: Mapping[str, str | None] | None = None,
    banner: str | None = None,
    after_warnings: bool = False,
) -> dict[str, Any]:
    """The form for jobs in `location`; `values` refill it (after an error or a model change),
    `banner` leads it; `after_warnings` (the check's warnings are shown) makes Submit read
    "Start anyway"."""
    values = values or {}
    chosen = catalogue.get(values.get(BASE_MODEL) or "") or catalogue.default_model(today)
    blocks: list[Block] = []
    if banner:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=truncate(banner, 3000))))
    blocks.append(_location_block(language, location))
    if metadata.choose_channel:
        blocks.append(_post_in_block(language, values.get(ids.POST_IN)))
    blocks.append(_model_block(language, catalogue, chosen, today))
    notes = _model_notes(chosen, language, today)
    if notes:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=truncate(notes, 3000))]))
    blocks.append(
        _text_input(language, TRAINING_DATASET, values.get(TRAINING_DATASET), optional=False)
    )
    blocks.append(
        _text_input(language, VALIDATION_DATASET, values.get(VALIDATION_DATASET), optional=True)
    )
    blocks.append(_epochs_block(language, catalogue.limits, values.get(EPOCHS)))
    if chosen.adapter_sizes:
        blocks.append(_adapter_block(language, chosen, values.get(ADAPTER_SIZE)))
    blocks.append(
        _multiplier_block(language, catalogue.limits, values.get(LEARNING_RATE_MULTIPLIER))
    )
    blocks.append(
        _text_input(
            language,
            DISPLAY_NAME,
            values.get(DISPLAY_NAME),
            optional=True,
            max_length=MAX_DISPLAY_NAME,
        )
    )
    blocks.extend(advanced_blocks(language, metadata.advanced))
    view = View(
        type="modal",
        callback_id=ids.CREATE_FORM,
        title=translate(language, "modal.title"),
        submit=translate(language, "modal.submit_anyway" if after_warnings else "modal.submit"),
        close=translate(language, "modal.close"),
        private_metadata=metadata.to_json(),
        blocks=blocks,
    )
    return view.to_dict()


def _location_block(language: str, location: Location) -> ContextBlock:
    # Users with several projects should not have to guess where the job (and its bill) goes.
    text = translate(
        language, "modal.location", project=code(location.project), region=code(location.region)
    )
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def _post_in_block(language: str, channel: str | None) -> InputBlock:
    # Only where the form was opened without a channel; empty means a DM with the bot, so a
    # user never has to invite the bot somewhere just to start a job.
    return InputBlock(
        block_id=ids.POST_IN,
        label=translate(language, "modal.post_in.label"),
        hint=translate(language, "modal.post_in.hint"),
        optional=True,
        element=ConversationSelectElement(
            action_id=ids.POST_IN,
            placeholder=translate(language, "modal.post_in.placeholder"),
            initial_conversation=channel or None,
            filter=ConversationFilter(include=["public", "private"], exclude_bot_users=True),
        ),
    )


def _model_block(
    language: str, catalogue: Catalogue, chosen: ModelInfo, today: dt.date
) -> InputBlock:
    models = catalogue.ordered(today)[:MAX_OPTIONS]
    grouped: dict[str, list[Option]] = {"current": [], "retired": []}
    for model in models:
        group = "retired" if model.status_on(today) is ModelStatus.RETIRED else "current"
        grouped[group].append(_model_option(model, language, today))
    groups = [
        OptionGroup(label=translate(language, MODEL_GROUP_KEYS[name]), options=options)
        for name, options in grouped.items()
        if options
    ]
    every = [option for options in grouped.values() for option in options]
    initial = next((o for o in every if o.value == chosen.model_id), None)
    return InputBlock(
        block_id=BASE_MODEL,
        label=translate(language, "modal.base_model.label"),
        dispatch_action=True,  # changing the model refreshes the adapter sizes
        element=StaticSelectElement(
            action_id=BASE_MODEL, option_groups=groups, initial_option=initial
        ),
    )


def _model_notes(model: ModelInfo, language: str, today: dt.date) -> str:
    """The retirement warning and the model's note in the user's language, as mrkdwn."""
    lines = []
    warning = model_warning(model, language, today)
    if warning:
        lines.append(f":warning: {escape(warning)}")
    note = model.note(language)
    if note:
        lines.append(f":information_source: {escape(note)}")
    return "\n".join(lines)


def _number(text: str | None, *, decimal: bool, low: float, high: float) -> str | None:
    """`text` when it is a number Slack's number input takes as its initial value, else None
    (a refill from an older form or another job must not make Slack refuse the view)."""
    if not text:
        return None
    try:
        value = float(text) if decimal else int(text)
    except ValueError:
        return None
    return text if low <= value <= high else None


def _epochs_block(language: str, limits: HyperparameterLimits, value: str | None) -> InputBlock:
    low, high = limits.min_epochs, limits.max_epochs
    return InputBlock(
        block_id=EPOCHS,
        label=translate(language, FIELD_KEYS[EPOCHS][0]),
        hint=translate(language, FIELD_KEYS[EPOCHS][1], low=low, high=high),
        optional=True,
        element=NumberInputElement(
            action_id=EPOCHS,
            is_decimal_allowed=False,
            min_value=str(low),
            max_value=str(high),
            initial_value=_number(value, decimal=False, low=low, high=high),
            placeholder=translate(language, FIELD_KEYS[EPOCHS][2]),
        ),
    )


def _multiplier_block(language: str, limits: HyperparameterLimits, value: str | None) -> InputBlock:
    high = limits.max_learning_rate_multiplier
    return InputBlock(
        block_id=LEARNING_RATE_MULTIPLIER,
        label=translate(language, FIELD_KEYS[LEARNING_RATE_MULTIPLIER][0]),
        hint=translate(language, FIELD_KEYS[LEARNING_RATE_MULTIPLIER][1], high=f"{high:g}"),
        optional=True,
        element=NumberInputElement(
            action_id=LEARNING_RATE_MULTIPLIER,
            is_decimal_allowed=True,
            # Above 0 strictly: Slack's minimum is inclusive, the validation refuses 0.
            min_value="0",
            max_value=f"{high:g}",
            initial_value=_number(value, decimal=True, low=0, high=high),
            placeholder=translate(language, FIELD_KEYS[LEARNING_RATE_MULTIPLIER][2]),
        ),
    )


def _adapter_block(language: str, model: ModelInfo, current: str | None) -> InputBlock:
    options = [Option(value=str(size), text=str(size)) for size in model.adapter_sizes]
    initial = next((o for o in options if o.value == current), None)
    default = (
        str(model.default_adapter_size)
        if model.default_adapter_size
        else translate(language, "modal.google_default")
    )
    return InputBlock(
        block_id=ADAPTER_SIZE,
        label=translate(language, "modal.adapter_size.label"),
        hint=translate(language, "modal.adapter_size.hint", default=default),
        optional=True,
        element=StaticSelectElement(
            action_id=ADAPTER_SIZE,
            placeholder=translate(language, "modal.adapter_size.placeholder"),
            options=options,
            initial_option=initial,
        ),
    )


def message_modal(
    language: str, text: str, *, metadata: ModalMetadata | None = None
) -> dict[str, Any]:
    """A modal with one paragraph and only a close button ("creating…", "created")."""
    view = View(
        type="modal",
        callback_id=ids.CREATE_FORM,
        title=translate(language, "modal.title"),
        close=translate(language, "modal.done"),
        private_metadata=metadata.to_json() if metadata else None,
        blocks=[SectionBlock(text=MarkdownTextObject(text=truncate(text, 3000)))],
    )
    return view.to_dict()


def field_errors(language: str, problems: Mapping[str, Problem]) -> dict[str, str]:
    """The `errors` of a `response_action: errors` ack: Slack shows them as plain text, so they
    carry no mrkdwn (no backticks, no `&amp;`), each within Slack's length."""
    return {
        block_id: truncate(render_plain(language, problem), MAX_FIELD_ERROR)
        for block_id, problem in problems.items()
    }


def read_form(state_values: Mapping[str, Any]) -> dict[str, str | None]:
    """Field values from `view.state.values`; anything missing or oddly shaped reads as empty."""
    form: dict[str, str | None] = {}
    for name in FIELDS:
        block = state_values.get(name)
        element = block.get(name) if isinstance(block, dict) else None
        form[name] = _element_value(element) if isinstance(element, dict) else None
    # The channel select is there only when the form asks where to post.
    block = state_values.get(ids.POST_IN)
    element = block.get(ids.POST_IN) if isinstance(block, dict) else None
    if isinstance(element, dict):
        chosen = element.get("selected_conversation")
        form[ids.POST_IN] = (
            chosen if isinstance(chosen, str) and _CHANNEL.fullmatch(chosen) else None
        )
    return form


def _element_value(element: Mapping[str, Any]) -> str | None:
    # Selects carry `selected_option`; text and number inputs a string `value` (a number input
    # sends the typed number as a string, or null when left empty).
    if element.get("type") == "static_select" or "selected_option" in element:
        option = element.get("selected_option")
        value = option.get("value") if isinstance(option, dict) else None
    else:
        value = element.get("value")
    return value if isinstance(value, str) else None
