"""The channel message that shows one job's status; created once, then edited in place."""

from __future__ import annotations

import datetime as dt
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
from bot.slack.messages.shared import (
    STATE_KEYS,
    hyperparameters_text,
    job_title,
    state_label,
)
from bot.slack.mrkdwn import code, escape, format_duration, slack_date, truncate
from bot.tuning.job import TuningJob, console_url
from bot.tuning.states import JobState


def render_status_card(
    job: TuningJob,
    *,
    started_by: str | None,
    language: str,
    now: dt.datetime,
    preflight_summary: str | None = None,
    cancelled_by: str | None = None,
) -> tuple[str, list[dict[str, Any]]]:
    """Fallback text and blocks for a job's status message; `cancelled_by` is the Slack user
    who cancelled the job through the bot, shown once the job is cancelling or cancelled."""
    t = lambda key, **p: translate(language, key, **p)  # noqa: E731
    title = job_title(job)
    plain_title = job.display_name or f"#{job.ref.job_id}"
    state = state_label(job.state, language)
    lines = [f"*{title}*  {state}"]
    details = [f"*{t('card.model')}:* {code(job.base_model) or '—'}"]
    details.append(f"*{t('card.hyperparameters')}:* {hyperparameters_text(job, language)}")
    if job.training_dataset_uri:
        details.append(
            f"*{t('card.training_data')}:* {code(truncate(job.training_dataset_uri, 300))}"
        )
    if started_by:
        details.append(f"*{t('card.started_by')}:* <@{started_by}>")
    if cancelled_by and job.state in (JobState.CANCELLING, JobState.CANCELLED):
        details.append(f"*{t('card.cancelled_by')}:* <@{escape(cancelled_by)}>")
    if job.create_time is not None:
        elapsed = job.duration(now)
        when = slack_date(job.create_time)
        details.append(
            f"*{t('card.created')}:* {when}"
            + (f"  ({t('card.elapsed')} {format_duration(elapsed, language)})" if elapsed else "")
        )
    stats = job.data_stats
    if stats is not None and stats.example_count is not None:
        details.append(
            t(
                "card.data_stats",
                examples=f"{stats.example_count:,}",
                tokens=f"{stats.billable_tokens:,}" if stats.billable_tokens is not None else "—",
            )
        )
    if preflight_summary:
        details.append(escape(truncate(preflight_summary, 500)))
    blocks: list[Any] = [
        SectionBlock(text=MarkdownTextObject(text=truncate("\n".join(lines), 3000))),
        SectionBlock(text=MarkdownTextObject(text=truncate("\n".join(details), 3000))),
    ]
    buttons: list[ButtonElement] = [
        ButtonElement(
            text=t("card.open_console"),
            action_id=ids.CARD_CONSOLE,
            url=console_url(job.ref),
        )
    ]
    if not job.state.has_ended and job.state is not JobState.CANCELLING:
        buttons.append(
            ButtonElement(
                text=t("card.cancel"),
                action_id=ids.CARD_CANCEL,
                value=job.name,
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
        )
    blocks.append(ActionsBlock(elements=buttons))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=code(job.name))]))
    fallback = truncate(f"{title}: {translate(language, STATE_KEYS[job.state])}", 3000)
    return fallback, [b.to_dict() for b in blocks]
