"""`/tune get`: everything about one job: state, times, settings, data, results, error."""

from __future__ import annotations

import datetime as dt

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
)

from bot.i18n import translate
from bot.slack import ids
from bot.slack.messages.shared import (
    STATE_KEYS,
    Message,
    checkpoint_lines,
    dropped_line,
    hyperparameters_text,
    job_title,
    linked_id,
    message,
    section,
    state_label,
)
from bot.slack.mrkdwn import code, escape, format_duration, slack_date, truncate
from bot.tuning.job import TuningJob, console_url, experiment_console_url, generate_content_url
from bot.tuning.states import JobState


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
        # Nobody copies the experiment's 110-character name: its page is what they want.
        url = experiment_console_url(job.experiment)
        result.append(_field(language, "get.experiment", linked_id(job.experiment, url, "—")))
    dropped = dropped_line(stats, language)
    if dropped:
        result.append(dropped)
    if job.error is not None:
        error = escape(truncate(job.error.message, 1500))
        result.append(_field(language, "get.error", f"{error} {code(job.error.status)}"))
    blocks: list[Block] = [section(head), section("\n".join(lines))]
    blocks += [section("\n".join(part)) for part in (data, result) if part]
    if job.state is JobState.SUCCEEDED and job.tuned_model and job.tuned_model.endpoint:
        try_it = ButtonElement(text=t("try.button"), action_id=ids.TRY_MODEL, value=job.name)
        blocks.append(ActionsBlock(elements=[try_it]))
    link = f"<{console_url(job.ref)}|{t('card.open_console')}>"
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"{code(job.name)}  {link}")]))
    return message(f"{job_title(job)}: {t(STATE_KEYS[job.state])}", blocks)
