"""The Try it modal: prompt, system instruction, temperature, max output tokens, comparison,
checkpoint (when the job has several) and where the answers go; and reading it back."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    CheckboxesElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.i18n import translate
from bot.slack import ids
from bot.slack.mrkdwn import code
from bot.tuning.job import TuningJob
from bot.tuning.trying import DEFAULT_TEMPERATURE, Prompt

# Slack's limit for a plain-text input; prompts longer than this are typed inline or not at all.
MAX_PROMPT = 3000
MAX_OUTPUT_TOKENS = 65_536  # the largest output current Gemini models allow
MAX_OPTIONS = 100  # Slack's limit for a static select


@dataclass(frozen=True)
class TryMetadata:
    """What travels in the modal's `private_metadata`: the job, the channel, the language."""

    job: str
    channel_id: str
    language: str = "en"

    def to_json(self) -> str:
        """Compact JSON (a job name is short, far under Slack's 3,000 characters)."""
        data = {"j": self.job, "c": self.channel_id, "l": self.language}
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def parse(cls, text: str | None) -> TryMetadata | None:
        """Read it back; None when it is not ours."""
        try:
            data = json.loads(text or "")
        except (ValueError, RecursionError):
            return None
        if not isinstance(data, dict):
            return None
        job, channel, language = data.get("j"), data.get("c"), data.get("l", "en")
        if not all(isinstance(v, str) and v for v in (job, channel, language)):
            return None
        return cls(str(job), str(channel), str(language))


@dataclass(frozen=True)
class TryChoice:
    """What the form asked for."""

    prompt: Prompt
    compare: bool
    checkpoint: str | None
    only_me: bool


def _option(text: str, value: str) -> Option:
    return Option(text=text[:75], value=value)


def _checkpoint_options(job: TuningJob, language: str) -> list[Option]:
    tuned = job.tuned_model
    if tuned is None:
        return []
    options = []
    for saved in tuned.checkpoints[:MAX_OPTIONS]:
        if not saved.endpoint:
            continue
        key = (
            "try.checkpoint_default"
            if saved.endpoint == tuned.endpoint
            else "try.checkpoint_option"
        )
        options.append(
            _option(translate(language, key, id=saved.checkpoint_id), saved.checkpoint_id)
        )
    return options


def try_modal(job: TuningJob, metadata: TryMetadata) -> dict[str, Any]:
    """The form for one succeeded job, in the metadata's language."""
    language = metadata.language
    t = lambda key, **p: translate(language, key, **p)  # noqa: E731
    where = [
        _option(t("try.where_thread"), ids.TRY_IN_THREAD),
        _option(t("try.where_me"), ids.TRY_ONLY_ME),
    ]
    compare = _option(t("try.compare_option"), ids.TRY_COMPARE)
    job_line = t("try.modal_job", job=code(job.ref.job_id), model=code(job.base_model or "—"))
    blocks: list[Any] = [
        ContextBlock(elements=[MarkdownTextObject(text=job_line)]),
        InputBlock(
            block_id=ids.TRY_PROMPT,
            label=t("try.prompt_label"),
            element=PlainTextInputElement(
                action_id=ids.TRY_PROMPT, multiline=True, max_length=MAX_PROMPT, focus_on_load=True
            ),
        ),
        InputBlock(
            block_id=ids.TRY_SYSTEM,
            label=t("try.system_label"),
            optional=True,
            element=PlainTextInputElement(
                action_id=ids.TRY_SYSTEM, multiline=True, max_length=MAX_PROMPT
            ),
        ),
        InputBlock(
            block_id=ids.TRY_TEMPERATURE,
            label=t("try.temperature_label"),
            optional=True,
            element=NumberInputElement(
                action_id=ids.TRY_TEMPERATURE,
                is_decimal_allowed=True,
                initial_value=f"{DEFAULT_TEMPERATURE:.1f}",
                min_value="0",
                max_value="2",
            ),
        ),
        InputBlock(
            block_id=ids.TRY_MAX_TOKENS,
            label=t("try.max_tokens_label"),
            optional=True,
            element=NumberInputElement(
                action_id=ids.TRY_MAX_TOKENS,
                is_decimal_allowed=False,
                min_value="1",
                max_value=str(MAX_OUTPUT_TOKENS),
            ),
        ),
        InputBlock(
            block_id=ids.TRY_OPTIONS,
            label=t("try.options_label"),
            optional=True,
            element=CheckboxesElement(
                action_id=ids.TRY_OPTIONS, options=[compare], initial_options=[compare]
            ),
        ),
    ]
    checkpoints = _checkpoint_options(job, language)
    if len(checkpoints) > 1:
        default = next(
            (o for o in checkpoints if o.value == _default_checkpoint(job)), checkpoints[-1]
        )
        blocks.append(
            InputBlock(
                block_id=ids.TRY_CHECKPOINT,
                label=t("try.checkpoint_label"),
                element=StaticSelectElement(
                    action_id=ids.TRY_CHECKPOINT, options=checkpoints, initial_option=default
                ),
            )
        )
    blocks.append(
        InputBlock(
            block_id=ids.TRY_WHERE,
            label=t("try.where_label"),
            element=RadioButtonsElement(
                action_id=ids.TRY_WHERE, options=where, initial_option=where[0]
            ),
        )
    )
    view = View(
        type="modal",
        callback_id=ids.TRY_FORM,
        title=t("try.modal_title"),
        submit=t("try.submit"),
        close=t("modal.close"),
        private_metadata=metadata.to_json(),
        blocks=blocks,
    )
    return view.to_dict()


def _default_checkpoint(job: TuningJob) -> str | None:
    tuned = job.tuned_model
    default = tuned.default_checkpoint if tuned is not None else None
    return default.checkpoint_id if default is not None else None


def _value(values: Mapping[str, Any], block: str) -> Any:
    field = values.get(block)
    element = field.get(block) if isinstance(field, dict) else None
    return element if isinstance(element, dict) else {}


def _number(text: Any) -> float | None:
    try:
        return float(text) if isinstance(text, str) and text.strip() else None
    except ValueError:
        return None


def read_try_form(values: Mapping[str, Any]) -> TryChoice:
    """The choice from `view.state.values`; Slack has checked the numbers' ranges already."""
    prompt = str(_value(values, ids.TRY_PROMPT).get("value") or "")
    system = str(_value(values, ids.TRY_SYSTEM).get("value") or "").strip() or None
    temperature = _number(_value(values, ids.TRY_TEMPERATURE).get("value"))
    tokens = _number(_value(values, ids.TRY_MAX_TOKENS).get("value"))
    checked = _value(values, ids.TRY_OPTIONS).get("selected_options") or []
    compare = any(isinstance(o, dict) and o.get("value") == ids.TRY_COMPARE for o in checked)
    selected = _value(values, ids.TRY_CHECKPOINT).get("selected_option") or {}
    checkpoint = selected.get("value") if isinstance(selected, dict) else None
    where = _value(values, ids.TRY_WHERE).get("selected_option") or {}
    only_me = isinstance(where, dict) and where.get("value") == ids.TRY_ONLY_ME
    return TryChoice(
        Prompt(
            prompt,
            system_instruction=system,
            temperature=temperature,
            max_output_tokens=int(tokens) if tokens is not None and tokens >= 1 else None,
        ),
        compare=compare,
        checkpoint=str(checkpoint) if checkpoint else None,
        only_me=only_me,
    )
