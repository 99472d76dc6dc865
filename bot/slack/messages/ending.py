"""Block Kit for the thread replies that announce a job's end (or pause)."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.i18n import translate
from bot.slack import ids
from bot.slack.messages.shared import checkpoint_lines, dropped_line
from bot.slack.mrkdwn import code, escape, literal, truncate
from bot.tuning.job import TuningJob, console_url, generate_content_url
from bot.tuning.refs import JobRef
from bot.tuning.states import JobState

ENDING_EVENT_TYPE = "tuning_job_ended"

_HEADLINES = {
    JobState.SUCCEEDED: "ending.succeeded",
    JobState.PARTIALLY_SUCCEEDED: "ending.partially_succeeded",
    JobState.FAILED: "ending.failed",
    JobState.CANCELLED: "ending.cancelled",
    JobState.EXPIRED: "ending.expired",
}


def _title(job_name: str, display_name: str | None) -> str:
    return literal(display_name) if display_name else f"#{JobRef.from_name(job_name).job_id}"


def ending_message(
    job: TuningJob, *, started_by: str, language: str, display_name: str | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """Fallback text and blocks for the end of `job` (which must have ended)."""
    t = lambda key, **p: translate(language, key, **p)  # noqa: E731
    name = _title(job.name, job.display_name or display_name)
    headline = t(_HEADLINES.get(job.state, "ending.expired"), name=name, user=started_by)
    lines: list[str] = []
    if job.state.succeeded:
        tuned = job.tuned_model
        model = tuned.model if tuned else None
        endpoint = tuned.endpoint if tuned else None
        lines.append(f"*{t('ending.tuned_model')}:* {code(model) or t('ending.none')}")
        lines.append(f"*{t('ending.endpoint')}:* {code(endpoint) or t('ending.none')}")
        if endpoint:
            lines.append(f"*{t('ending.call_url')}:* {code(generate_content_url(endpoint))}")
        if job.experiment:
            lines.append(f"*{t('ending.experiment')}:* {code(job.experiment)}")
        lines += checkpoint_lines(tuned, language)
        dropped = dropped_line(job.data_stats, language)
        if dropped:
            lines.append(dropped)
    elif job.state is JobState.FAILED:
        message = job.error.message if job.error is not None else ""
        if message:
            lines.append(t("ending.failed_error", error=escape(truncate(message, 2500))))
        else:
            lines.append(t("ending.failed_no_error"))
    blocks: list[Any] = [SectionBlock(text=MarkdownTextObject(text=truncate(headline, 3000)))]
    if lines:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=truncate("\n".join(lines), 3000))))
    blocks.append(
        ActionsBlock(
            elements=[
                ButtonElement(
                    text=t("card.open_console"),
                    action_id=ids.ENDING_CONSOLE,
                    url=console_url(job.ref),
                )
            ]
        )
    )
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=code(job.name))]))
    return truncate(headline, 3000), [b.to_dict() for b in blocks]


def gone_message(
    job_name: str, *, display_name: str | None, language: str
) -> tuple[str, list[dict[str, Any]]]:
    """Fallback text and blocks saying the job no longer exists at Google."""
    text = translate(language, "ending.gone", name=_title(job_name, display_name))
    blocks = [
        SectionBlock(text=MarkdownTextObject(text=text)),
        ContextBlock(elements=[MarkdownTextObject(text=code(job_name))]),
    ]
    return text, [b.to_dict() for b in blocks]


def paused_message(job: TuningJob, *, language: str, display_name: str | None = None) -> str:
    """The one-line note that a job is paused."""
    return translate(
        language, "watch.paused", name=_title(job.name, job.display_name or display_name)
    )


def read_failing_message(
    job_name: str,
    *,
    display_name: str | None,
    language: str,
    project: str,
    status: str,
    message: str,
    denied: bool,
) -> str:
    """The one note that Google keeps refusing to let the bot read the job (and what to grant)."""
    # Google's message may quote user input: escaped like everything else from the API.
    error = escape(truncate(f"{status}: {message}" if message else status, 500))
    return translate(
        language,
        "watch.read_denied" if denied else "watch.read_failing",
        name=_title(job_name, display_name),
        error=error,
        project=code(project),
    )


def read_recovered_message(job_name: str, *, display_name: str | None, language: str) -> str:
    """The note that the job can be read again after `read_failing_message`."""
    return translate(language, "watch.read_recovered", name=_title(job_name, display_name))


def ending_metadata(job_name: str, watch_id: int) -> dict[str, Any]:
    """Message metadata that lets a restarted watcher recognise its own ending post."""
    return {
        "event_type": ENDING_EVENT_TYPE,
        "event_payload": {"job": job_name, "watch": str(watch_id)},
    }
