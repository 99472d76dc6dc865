"""Block Kit for ephemeral answers: help, job lists, one job in detail, short notices."""

from __future__ import annotations

import datetime as dt
import functools
import json
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.i18n import translate
from bot.slack.mrkdwn import code, escape, format_duration, slack_date, truncate
from bot.slack.results import checkpoint_lines, dropped_line
from bot.slack.status_card import STATE_KEYS, hyperparameters_text, job_title, state_label
from bot.tuning.job import TuningJob, console_url, generate_content_url
from bot.tuning.states import JobState

LIST_MORE_ACTION_ID = "jobs_list_more"
MAX_BUTTON_VALUE = 2000
# Slack refuses messages whose block text adds up past roughly 13k characters.
MAX_MESSAGE_TEXT = 11_000
MAX_LIST_LINES = 40  # a reply holds up to two of Google's pages when a state filter thins them
MAX_TITLE = 100
Message = tuple[str, list[dict[str, Any]]]


# (usage, text) message keys of each help line, in the order shown; written out, not composed,
# so that a test can check each one exists.
HELP_KEYS: tuple[tuple[str, str], ...] = (
    ("help.create.usage", "help.create.text"),
    ("help.list.usage", "help.list.text"),
    ("help.get.usage", "help.get.text"),
    ("help.cancel.usage", "help.cancel.text"),
    ("help.watch.usage", "help.watch.text"),
    ("help.unwatch.usage", "help.unwatch.text"),
    ("help.check.usage", "help.check.text"),
    ("help.help.usage", "help.help.text"),
)
LIST_FILTER_KEYS: dict[str, str] = {
    "active": "list.active",
    "succeeded": "list.succeeded",
    "failed": "list.failed",
    "cancelled": "list.cancelled",
    "all": "list.all",
}


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, 3000)))


def _message(fallback: str, blocks: list[Block]) -> Message:
    return truncate(fallback, 3000), [b.to_dict() for b in blocks]


def notice(text: str) -> Message:
    """One already-safe mrkdwn paragraph as a message."""
    return _message(text, [_section(text)])


def help_message(language: str, *, unknown: bool = False) -> Message:
    """The usage of `/tune`, built once per language (help is the most frequent answer).

    The blocks are shared between calls: serialise them, never change them.
    """
    return _help(language, unknown)


@functools.lru_cache(maxsize=16)
def _help(language: str, unknown: bool) -> Message:
    return _build_help(language, unknown)


def _build_help(language: str, unknown: bool) -> Message:
    # `unknown` adds a line saying the text was not understood.
    lines = [translate(language, "help.unknown")] if unknown else []
    lines.append(translate(language, "help.title"))
    lines += [
        f"• `{translate(language, usage)}` — {translate(language, text)}"
        for usage, text in HELP_KEYS
    ]
    blocks: list[Block] = [
        _section("\n".join(lines)),
        ContextBlock(elements=[MarkdownTextObject(text=translate(language, "help.job_ref"))]),
    ]
    return _message(translate(language, "help.title"), blocks)


def _list_line(job: TuningJob, language: str, now: dt.datetime) -> str:
    title = escape(truncate(job.display_name, MAX_TITLE)) if job.display_name else job_title(job)
    parts = [f"{state_label(job.state, language)}  *{title}*"]
    parts.append(code(truncate(job.base_model, MAX_TITLE)) if job.base_model else "—")
    if job.create_time is not None:
        parts.append(slack_date(job.create_time))
    elapsed = job.duration(now)
    if elapsed is not None:
        parts.append(format_duration(elapsed, language))
    return "  ·  ".join(parts[:1]) + "\n" + "  ·  ".join([*parts[1:], code(job.ref.job_id)])


def list_message(
    jobs: list[TuningJob],
    *,
    filter_word: str,
    next_page_token: str | None,
    language: str,
    now: dt.datetime,
) -> Message:
    """A page of jobs, newest first, with a "More" button while Google has more pages."""
    # The filter word comes back in a button's value: a word we do not know reads as "all".
    word = translate(language, LIST_FILTER_KEYS.get(filter_word, "list.all"))
    heading = translate(language, "list.title", filter=word)
    blocks: list[Block] = [_section(f"*{heading}*")]
    if not jobs:
        blocks.append(_section(translate(language, "list.empty")))
    budget = MAX_MESSAGE_TEXT - len(heading)
    for job in jobs[:MAX_LIST_LINES]:
        line = _list_line(job, language, now)
        budget -= len(line)
        if budget < 0:
            break
        blocks.append(_section(line))
    value = json.dumps({"f": filter_word, "t": next_page_token}) if next_page_token else ""
    if value and len(value) <= MAX_BUTTON_VALUE:
        blocks.append(
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text=translate(language, "list.more"),
                        action_id=LIST_MORE_ACTION_ID,
                        value=value,
                    )
                ]
            )
        )
    return _message(heading, blocks)


def cancel_reply(job: TuningJob, language: str) -> str:
    """What the canceller is told once Google answered: requested, cancelled, or already over."""
    if job.state is JobState.CANCELLED:
        key = "cancel.is_cancelled"
    elif job.state.has_ended:
        key = "cancel.already_ended"
    else:
        key = "cancel.requested"
    return translate(language, key, job=code(job.name))


def parse_more_value(value: str) -> tuple[str, str] | None:
    """The filter and page token a "More" button carries; None when it is malformed."""
    try:
        data = json.loads(value)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    filter_word, token = data.get("f"), data.get("t")
    if not isinstance(filter_word, str) or not isinstance(token, str) or not token:
        return None
    return filter_word, token


def _field(language: str, key: str, value: str) -> str:
    return f"*{translate(language, key)}:* {value}"


def job_detail_message(job: TuningJob, *, language: str, now: dt.datetime) -> Message:
    """Everything a user asks about one job: state, times, settings, data, results, error."""
    t = lambda key, **p: translate(language, key, **p)  # noqa: E731
    head = f"*{job_title(job)}*  {state_label(job.state, language)}"
    lines = [_field(language, "card.model", code(job.base_model) or "—")]
    for key, when in (
        ("get.created", job.create_time),
        ("get.started", job.start_time),
        ("get.ended", job.end_time),
    ):
        if when is not None:
            lines.append(_field(language, key, slack_date(when)))
    elapsed = job.duration(now)
    if elapsed is not None:
        lines.append(_field(language, "get.duration", format_duration(elapsed, language)))
    lines.append(_field(language, "card.hyperparameters", hyperparameters_text(job, language)))
    data = []
    if job.training_dataset_uri:
        data.append(_field(language, "card.training_data", code(job.training_dataset_uri)))
    if job.validation_dataset_uri:
        data.append(_field(language, "get.validation_data", code(job.validation_dataset_uri)))
    stats = job.data_stats
    if stats is not None and stats.example_count is not None:
        tokens = f"{stats.billable_tokens:,}" if stats.billable_tokens is not None else "—"
        data.append(t("card.data_stats", examples=f"{stats.example_count:,}", tokens=tokens))
    result = []
    if job.tuned_model is not None and job.tuned_model.model:
        result.append(_field(language, "get.tuned_model", code(job.tuned_model.model)))
    if job.tuned_model is not None and job.tuned_model.endpoint:
        endpoint = job.tuned_model.endpoint
        result.append(_field(language, "get.endpoint", code(endpoint)))
        result.append(_field(language, "get.call_url", code(generate_content_url(endpoint))))
    result += checkpoint_lines(job.tuned_model, language)
    if job.experiment:
        result.append(_field(language, "get.experiment", code(job.experiment)))
    dropped = dropped_line(stats, language)
    if dropped:
        result.append(dropped)
    if job.error is not None:
        message = escape(truncate(job.error.message, 1500))
        result.append(_field(language, "get.error", f"{message} ({job.error.code})"))
    blocks: list[Block] = [_section(head), _section("\n".join(lines))]
    blocks += [_section("\n".join(part)) for part in (data, result) if part]
    link = f"<{console_url(job.ref)}|{t('card.open_console')}>"
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"{code(job.name)}  {link}")]))
    return _message(f"{job_title(job)}: {t(STATE_KEYS[job.state])}", blocks)
