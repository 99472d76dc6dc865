"""The preview Slack shows under a shared console link of a tuning job (`chat.unfurl`)."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

from bot.i18n import translate
from bot.slack.messages.shared import MAX_TITLE, job_title, state_label
from bot.slack.mrkdwn import code, literal, slack_date, truncate
from bot.tuning.job import TuningJob

MAX_NAME = 300
MAX_FIELD = 2000


def _field(label: str, value: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=truncate(f"*{label}*\n{value}", MAX_FIELD))


def unfurl_blocks(job: TuningJob, language: str) -> list[dict[str, Any]]:
    """A compact card: name and state, base model, when it was created and, once it
    succeeded, the tuned model. Nothing on it depends on when it was drawn (a preview is
    never edited): the date is a Slack date token each reader's client renders."""
    t = lambda key: translate(language, key)  # noqa: E731
    title = literal(truncate(job.display_name, MAX_TITLE)) if job.display_name else job_title(job)
    heading = f"*{title}*  {state_label(job.state, language)}"
    fields = [_field(t("unfurl.base_model"), code(truncate(job.base_model or "", MAX_NAME)) or "—")]
    if job.create_time is not None:
        fields.append(_field(t("unfurl.created"), slack_date(job.create_time)))
    tuned = job.tuned_model
    if job.state.succeeded and tuned is not None and tuned.model:
        fields.append(_field(t("unfurl.tuned_model"), code(truncate(tuned.model, MAX_NAME))))
    blocks = [
        SectionBlock(text=MarkdownTextObject(text=truncate(heading, 3000))),
        SectionBlock(fields=fields),
    ]
    return [block.to_dict() for block in blocks]


def unfurls(jobs: dict[str, TuningJob], language: str) -> dict[str, dict[str, Any]]:
    """`chat.unfurl`'s `unfurls`: each shared URL (as Slack sent it) with its job's card."""
    return {url: {"blocks": unfurl_blocks(job, language)} for url, job in jobs.items()}
