"""Block Kit for the thread replies that announce a job's end (or pause)."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.i18n import translate, translate_plain
from bot.slack import ids
from bot.slack.messages.rerun import can_continue, continue_button, rerun_button
from bot.slack.messages.shared import checkpoint_lines, dropped_line, linked_id, section
from bot.slack.mrkdwn import code, escape, format_duration, literal, truncate
from bot.tuning.catalogue import default_catalogue
from bot.tuning.job import (
    ResourceName,
    TuningJob,
    console_url,
    endpoint_console_url,
    experiment_console_url,
    generate_content_url,
    model_console_url,
)
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


def _code_block(text: str) -> str:
    # Slack still interprets `&`, `<` and `>` inside a code block: escaped, they show as typed.
    return f"```{escape(text)}```"


def curl_command(endpoint: str, prompt: str) -> str:
    """A shell command that sends `prompt` to the tuned endpoint with the caller's gcloud login."""
    body = json.dumps(
        {"contents": [{"role": "user", "parts": [{"text": prompt}]}]},
        ensure_ascii=False,
        separators=(",", ":"),
    )
    # The body goes between single quotes: a quote in the prompt must not end them.
    body = body.replace("'", "\\u0027")
    return "\n".join(
        [
            "curl -X POST \\",
            '  -H "Authorization: Bearer $(gcloud auth print-access-token)" \\',
            '  -H "Content-Type: application/json" \\',
            f'  "{generate_content_url(endpoint)}" \\',
            f"  -d '{body}'",
        ]
    )


def genai_line(endpoint: str, prompt: str) -> str:
    """One line of Python that calls the tuned endpoint with google-genai.

    The client's location is the endpoint's own (`us` / `eu` for the 3.x models, not the
    region the job ran in): google-genai picks the host from it. The client is kept in a
    variable because google-genai closes its connections once the client is garbage, which a
    chained `genai.Client(...).models.generate_content(...)` makes it before the call.
    """
    parsed = ResourceName.parse(endpoint)
    project = parsed.project if parsed else ""
    location = parsed.location if parsed else ""
    q = lambda text: json.dumps(text, ensure_ascii=False)  # noqa: E731
    return (
        "from google import genai; client = genai.Client("
        f"vertexai=True, project={q(project)}, location={q(location)}); "
        f"print(client.models.generate_content(model={q(endpoint)}, contents={q(prompt)}).text)"
    )


def _duration_line(job: TuningJob, language: str) -> str | None:
    if job.end_time is None:
        return None
    taken = job.duration(job.end_time)
    if taken is None:
        return None
    return f"*{translate(language, 'ending.duration')}:* {format_duration(taken, language)}"


def _success_lines(job: TuningJob, language: str) -> list[str]:
    t = lambda key, **p: translate(language, key, **p)  # noqa: E731
    none = t("ending.none")
    tuned = job.tuned_model
    model = tuned.model if tuned else None
    endpoint = tuned.endpoint if tuned else None
    lines = [
        f"*{t('ending.tuned_model')}:* "
        + linked_id(model, model_console_url(model) if model else None, none),
    ]
    if model:
        # The full name is what continuous tuning and the SDKs take: whole, to copy.
        lines.append(_code_block(model))
    lines += [
        f"*{t('ending.endpoint')}:* "
        + linked_id(endpoint, endpoint_console_url(endpoint) if endpoint else None, none),
    ]
    if job.experiment:
        url = experiment_console_url(job.experiment)
        lines.append(f"*{t('ending.experiment')}:* {linked_id(job.experiment, url, none)}")
    lines += checkpoint_lines(tuned, language)
    dropped = dropped_line(job.data_stats, language)
    if dropped:
        lines.append(dropped)
    return lines


def _call_sections(endpoint: str, language: str) -> list[SectionBlock]:
    """How to call the tuned model: a curl command and a google-genai line, each a code block
    so that it copies whole."""
    prompt = translate(language, "ending.sample_prompt")
    return [
        section(
            translate(language, "ending.call_shell")
            + "\n"
            + _code_block(curl_command(endpoint, prompt))
        ),
        section(
            translate(language, "ending.call_python")
            + "\n"
            + _code_block(genai_line(endpoint, prompt))
        ),
    ]


def ending_message(
    job: TuningJob,
    *,
    started_by: str | None,
    language: str,
    display_name: str | None = None,
    cancelled_by: str | None = None,
) -> tuple[str, list[dict[str, Any]]]:
    """Fallback text and blocks for the end of `job` (which must have ended); `started_by` is
    mentioned (None: nobody, as for a job a subscription found); `cancelled_by` is the Slack
    user who cancelled it through the bot, when known."""
    t = lambda key, **p: translate(language, key, **p)  # noqa: E731
    name = _title(job.name, job.display_name or display_name)
    key = _headline_key(job, started_by)
    headline = t(key, name=name, user=started_by or "")
    lines: list[str] = []
    calls: list[SectionBlock] = []
    if job.state.succeeded:
        lines += _success_lines(job, language)
        endpoint = job.tuned_model.endpoint if job.tuned_model else None
        if endpoint:
            calls = _call_sections(endpoint, language)
    if job.state is JobState.FAILED:
        message = job.error.message if job.error is not None else ""
        if message:
            lines.append(t("ending.failed_error", error=escape(truncate(message, 2500))))
        else:
            lines.append(t("ending.failed_no_error"))
        lines.append(t("ending.failed_next"))
    elif job.state is JobState.PARTIALLY_SUCCEEDED:
        # What did not complete is the first question: Google's words when it gave any.
        message = job.error.message if job.error is not None else ""
        if message:
            lines.insert(0, t("ending.failed_error", error=escape(truncate(message, 2000))))
        else:
            lines.insert(0, t("ending.partial_no_error"))
    elif job.state is JobState.EXPIRED:
        lines.append(t("ending.expired_next"))
    elif job.state is JobState.CANCELLED and cancelled_by:
        lines.append(t("ending.cancelled_by", user=escape(cancelled_by)))
    duration = _duration_line(job, language)
    if duration:
        lines.append(duration)
    blocks: list[Any] = [section(headline)]
    if lines:
        blocks.append(section("\n".join(lines)))
    blocks += calls
    buttons = [
        ButtonElement(
            text=t("card.open_console"), action_id=ids.ENDING_CONSOLE, url=console_url(job.ref)
        )
    ]
    if calls and job.state is JobState.SUCCEEDED:
        buttons.append(ButtonElement(text=t("try.button"), action_id=ids.TRY_MODEL, value=job.name))
    buttons += _rerun_buttons(job, language)
    blocks.append(ActionsBlock(elements=buttons))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=_job_context(job))]))
    # Phones notify with the message's text alone, drawn without mrkdwn: the headline again,
    # with no marks around the name.
    plain_name = escape(job.display_name or display_name) or f"#{job.ref.job_id}"
    fallback = translate_plain(language, key, name=plain_name, user=started_by or "")
    return truncate(fallback, 3000), [b.to_dict() for b in blocks]


def _headline_key(job: TuningJob, started_by: str | None) -> str:
    key = _HEADLINES.get(job.state, "ending.expired")
    if started_by is None and key != "ending.cancelled":
        return f"{key}_nobody"
    return key


def _rerun_buttons(job: TuningJob, language: str) -> list[ButtonElement]:
    # Continue tuning only where Google would accept it: a tuned model of a model that allows it.
    buttons = [rerun_button(job.name, language)]
    if can_continue(job, default_catalogue()):
        buttons.append(continue_button(job.name, language))
    return buttons


def _job_context(job: TuningJob) -> str:
    # The job's number and location rather than its 90-character name in a code span.
    ref = job.ref
    return f"#{ref.job_id} · {escape(ref.region)} · {escape(ref.project)}"


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
