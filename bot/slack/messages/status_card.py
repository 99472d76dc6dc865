"""The channel message that shows one job's status; created once, then edited in place."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.i18n import translate
from bot.slack import ids
from bot.slack.messages.rerun import rerun_button, source_link
from bot.slack.messages.shared import (
    MAX_TITLE,
    STATE_KEYS,
    hyperparameters_text,
    job_title,
    state_label,
)
from bot.slack.mrkdwn import code, escape, format_duration, literal, slack_date, truncate
from bot.tuning.curves import Progress, progress_bar
from bot.tuning.job import TuningJob, console_url
from bot.tuning.rerun import rerun_source
from bot.tuning.states import JobState

# Slack shows a section's fields two to a row, at most ten of them, each up to 2,000 characters.
MAX_FIELDS = 10
MAX_FIELD = 2000
MAX_URI = 300
MAX_NOTE = 500


def cancel_button(job_name: str, plain_title: str, language: str) -> ButtonElement:
    """The Cancel button with Slack's confirmation (the card's, also on the Home tab)."""
    t = lambda key, **p: translate(language, key, **p)  # noqa: E731
    return ButtonElement(
        text=t("card.cancel"),
        action_id=ids.CARD_CANCEL,
        value=job_name,
        style="danger",
        confirm=ConfirmObject(
            title=t("card.cancel_confirm_title"),
            # Plain text: nothing in it is interpreted, so the name needs no escaping
            # (whose entities could push it past Slack's 300-character limit).
            text=PlainTextObject(
                text=t("card.cancel_confirm_text", name=truncate(plain_title, 120))
            ),
            confirm=t("card.cancel_confirm_yes"),
            deny=t("card.cancel_confirm_no"),
            # Slack draws the confirm button green unless told it destroys something.
            style="danger",
        ),
    )


def _field(label: str, value: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=truncate(f"*{label}*\n{value}", MAX_FIELD))


def _loss(value: float) -> str:
    # Four significant figures, but a diverging loss in plain digits rather than 1.235e+04.
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def progress_text(progress: Progress, language: str) -> str:
    """The card's progress line: a bar and the step count, then the latest losses (the
    validation one with its step when it is older than the latest training step)."""
    t = lambda key, **p: translate(language, key, **p)  # noqa: E731
    head = [f"*{t('card.progress')}*"]
    if progress.fraction is not None and progress.step is not None:
        steps = t(
            "card.progress_of", step=f"{progress.step:,}", planned=f"{progress.planned_steps:,}"
        )
        head.append(f"`{progress_bar(progress.fraction)}`  {progress.percent}%  ·  {steps}")
    elif progress.step is not None:
        head.append(t("card.progress_step", step=f"{progress.step:,}"))
    losses = []
    if progress.train_loss is not None:
        losses.append(t("card.train_loss", value=_loss(progress.train_loss)))
    if progress.eval_loss is not None:
        if progress.eval_step is not None and progress.eval_step != progress.step:
            losses.append(
                t(
                    "card.eval_loss_at",
                    value=_loss(progress.eval_loss),
                    step=f"{progress.eval_step:,}",
                )
            )
        else:
            losses.append(t("card.eval_loss", value=_loss(progress.eval_loss)))
    lines = ["  ".join(head)]
    if losses:
        lines.append("  ·  ".join(losses))
    return "\n".join(lines)


def render_status_card(
    job: TuningJob,
    *,
    started_by: str | None,
    language: str,
    watched_by: str | None = None,
    preflight_summary: str | None = None,
    cancelled_by: str | None = None,
    progress: Progress | None = None,
) -> tuple[str, list[dict[str, Any]]]:
    """Fallback text and blocks for a job's status message; `cancelled_by` is the Slack user
    who cancelled the job through the bot, shown once the job is cancelling or cancelled;
    `progress`, the latest training figures, shown while the job runs.

    The card is edited only when something about the job changes, so nothing on it may be
    computed from the time it was drawn: times are Slack date tokens, which each reader's
    client renders (and keeps current), and the duration appears once the job has ended.
    """
    t = lambda key, **p: translate(language, key, **p)  # noqa: E731
    plain_title = job.display_name or f"#{job.ref.job_id}"
    title = literal(truncate(job.display_name, MAX_TITLE)) if job.display_name else job_title(job)
    heading = f"*<{console_url(job.ref)}|{title}>*  {state_label(job.state, language)}"
    fields = [
        _field(t("card.model"), code(truncate(job.base_model or "", MAX_URI)) or "—"),
        _field(t("card.hyperparameters"), hyperparameters_text(job, language)),
    ]
    if job.training_dataset_uri:
        fields.append(
            _field(t("card.training_data"), code(truncate(job.training_dataset_uri, MAX_URI)))
        )
    if job.validation_dataset_uri:
        fields.append(
            _field(t("card.validation_data"), code(truncate(job.validation_dataset_uri, MAX_URI)))
        )
    fields.append(_field(t("card.location"), f"{code(job.ref.project)} / {code(job.ref.region)}"))
    if started_by:
        fields.append(_field(t("card.started_by"), f"<@{started_by}>"))
    elif watched_by:
        fields.append(_field(t("card.watched_by"), f"<@{watched_by}>"))
    if cancelled_by and job.state in (JobState.CANCELLING, JobState.CANCELLED):
        fields.append(_field(t("card.cancelled_by"), f"<@{escape(cancelled_by)}>"))
    if job.create_time is not None:
        fields.append(_field(t("card.created"), slack_date(job.create_time)))
    ran_for = job.ran_for
    if job.state.has_ended and ran_for is not None:
        fields.append(_field(t("card.duration"), format_duration(ran_for, language)))
    elif not job.state.has_ended and job.start_time is not None:
        # "3 hours ago", which the reader's client keeps current between edits.
        fields.append(_field(t("card.started"), slack_date(job.start_time, "{ago}")))
    stats = job.data_stats
    if stats is not None and job.has_data_stats:
        tokens = f"{stats.billable_tokens:,}" if stats.billable_tokens is not None else "—"
        fields.append(
            _field(
                t("card.data"),
                t("card.data_stats", examples=f"{stats.example_count:,}", tokens=tokens),
            )
        )
    elif preflight_summary:
        # The bot's own estimate from before the job started; Google's figures replace it.
        fields.append(_field(t("card.preflight"), escape(truncate(preflight_summary, MAX_NOTE))))
    blocks: list[Any] = [
        SectionBlock(text=MarkdownTextObject(text=truncate(heading, 3000))),
        SectionBlock(fields=fields[:MAX_FIELDS]),
    ]
    if progress is not None and job.state is JobState.RUNNING and not progress.is_empty:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=progress_text(progress, language))))
    buttons: list[ButtonElement] = [
        ButtonElement(
            text=t("card.open_console"),
            action_id=ids.CARD_CONSOLE,
            url=console_url(job.ref),
        )
    ]
    if not job.state.has_ended and job.state is not JobState.CANCELLING:
        buttons.append(cancel_button(job.name, plain_title, language))
    buttons.append(rerun_button(job.name, language))
    blocks.append(ActionsBlock(elements=buttons))
    context = [MarkdownTextObject(text=code(job.name))]
    source = rerun_source(job.ref, job.labels)
    if source is not None:
        # In the context rather than the fields, which Slack caps at ten.
        link = source_link(source.job_id, console_url(source))
        context.append(MarkdownTextObject(text=t("rerun.card_source", job=link)))
    blocks.append(ContextBlock(elements=context))
    fallback = truncate(f"{title}: {t(STATE_KEYS[job.state])}", 3000)
    return fallback, [b.to_dict() for b in blocks]
