"""What several messages share: Slack's limits, state names and markers, job titles, the lines
about what a finished job produced, and the small Block Kit helpers."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock

from bot.i18n import translate
from bot.slack.mrkdwn import code, escape, literal, truncate
from bot.tuning.job import Checkpoint, DataStats, ResourceName, TunedModel, TuningJob
from bot.tuning.states import JobState

MAX_BUTTON_VALUE = 2000
# Slack refuses messages whose block text adds up past roughly 13k characters.
MAX_MESSAGE_TEXT = 11_000
MAX_TITLE = 100
Message = tuple[str, list[dict[str, Any]]]

# Message keys are written out, not composed, so that a test can check each one exists.
STATE_KEYS: dict[JobState, str] = {
    JobState.UNSPECIFIED: "state.unspecified",
    JobState.QUEUED: "state.queued",
    JobState.PENDING: "state.pending",
    JobState.RUNNING: "state.running",
    JobState.SUCCEEDED: "state.succeeded",
    JobState.FAILED: "state.failed",
    JobState.CANCELLING: "state.cancelling",
    JobState.CANCELLED: "state.cancelled",
    JobState.PAUSED: "state.paused",
    JobState.EXPIRED: "state.expired",
    JobState.UPDATING: "state.updating",
    JobState.PARTIALLY_SUCCEEDED: "state.partially_succeeded",
}
STATE_MARKERS: dict[JobState, str] = {
    JobState.UNSPECIFIED: ":grey_question:",
    JobState.QUEUED: ":hourglass_flowing_sand:",
    JobState.PENDING: ":hourglass_flowing_sand:",
    JobState.RUNNING: ":arrows_counterclockwise:",
    JobState.UPDATING: ":arrows_counterclockwise:",
    JobState.SUCCEEDED: ":white_check_mark:",
    JobState.PARTIALLY_SUCCEEDED: ":large_yellow_circle:",
    JobState.FAILED: ":x:",
    JobState.CANCELLING: ":no_entry_sign:",
    JobState.CANCELLED: ":no_entry_sign:",
    JobState.PAUSED: ":double_vertical_bar:",
    JobState.EXPIRED: ":warning:",
}


def state_label(state: JobState, language: str) -> str:
    """Marker and translated name, e.g. `:arrows_counterclockwise: Running`."""
    return f"{STATE_MARKERS[state]} {translate(language, STATE_KEYS[state])}"


def hyperparameters_text(job: TuningJob, language: str) -> str:
    """`epochs 3, adapter size 4, learning-rate × 0.5`, or "Google's defaults" when none set."""
    parts = []
    if job.epochs is not None:
        parts.append(f"{translate(language, 'card.epochs')} {job.epochs}")
    if job.adapter_size is not None:
        parts.append(f"{translate(language, 'card.adapter_size')} {job.adapter_size}")
    if job.learning_rate_multiplier is not None:
        multiplier = job.learning_rate_multiplier
        parts.append(f"{translate(language, 'card.lr_multiplier')} {multiplier:g}")
    separator = translate(language, "format.list_separator")
    return separator.join(parts) or translate(language, "card.defaults")


def job_title(job: TuningJob) -> str:
    """The display name if there is one (shown as typed), else the job number."""
    return literal(job.display_name) if job.display_name else f"#{job.ref.job_id}"


def linked_id(name: str | None, url: str | None, none: str) -> str:
    """A resource as its short id linked to its console page: a full name in a line of text
    wraps mid-token on a phone (the names people copy are given whole in code blocks)."""
    if not name:
        return none
    parsed = ResourceName.parse(name)
    short = escape(parsed.resource_id if parsed else name)
    return f"<{url}|{short}>" if url else short


def section(text: str) -> SectionBlock:
    """A mrkdwn section, cut to Slack's 3,000-character limit."""
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, 3000)))


def message(fallback: str, blocks: list[Block]) -> Message:
    """The fallback text and the blocks as Slack's JSON."""
    return truncate(fallback, 3000), [b.to_dict() for b in blocks]


def notice(text: str) -> Message:
    """One already-safe mrkdwn paragraph as a message."""
    return message(text, [section(text)])


MAX_REASONS = 2
MAX_REASON = 150
MAX_OTHER_CHECKPOINTS = 8


def dropped_line(stats: DataStats | None, language: str) -> str | None:
    """`*Dropped examples:* 57 (e.g. “…”; “…”)`, or None when Google dropped none."""
    if stats is None or not stats.dropped_examples:
        return None
    line = f"*{translate(language, 'ending.dropped_examples')}:* " + translate(
        language, "format.count", count=f"{stats.dropped_examples:,}"
    )
    # Google samples one reason per sampled example: show distinct ones, not a count of them.
    reasons = list(dict.fromkeys(stats.dropped_reasons))[:MAX_REASONS]
    if reasons:
        sample = translate(language, "format.list_separator").join(
            translate(language, "format.quoted", text=escape(truncate(r, MAX_REASON)))
            for r in reasons
        )
        line += translate(language, "ending.dropped_sample", reasons=sample)
    return line


def _checkpoint_text(checkpoint: Checkpoint, language: str) -> str:
    where = []
    if checkpoint.epoch is not None:
        where.append(translate(language, "checkpoint.epoch", epoch=checkpoint.epoch))
    if checkpoint.step is not None:
        where.append(translate(language, "checkpoint.step", step=checkpoint.step))
    text = translate(language, "checkpoint.name", id=escape(checkpoint.checkpoint_id))
    if where:
        text += translate(
            language,
            "format.parenthesised",
            text=translate(language, "format.list_separator").join(where),
        )
    return text


def checkpoint_lines(tuned: TunedModel | None, language: str) -> list[str]:
    """How many checkpoints, which one the model's endpoint serves, and the others compactly."""
    if tuned is None or not tuned.checkpoints:
        return []
    default = tuned.default_checkpoint
    head = f"*{translate(language, 'checkpoint.label')}:* " + translate(
        language, "format.count", count=len(tuned.checkpoints)
    )
    if default is not None:
        head += translate(language, "format.list_separator") + translate(
            language, "checkpoint.default", checkpoint=_checkpoint_text(default, language)
        )
    lines = [head]
    others = [c for c in tuned.checkpoints if c is not default]
    for checkpoint in others[:MAX_OTHER_CHECKPOINTS]:
        endpoint = checkpoint.endpoint.rsplit("/", 1)[-1] if checkpoint.endpoint else None
        line = f"• {_checkpoint_text(checkpoint, language)}"
        if endpoint:
            line += translate(
                language, "checkpoint.endpoint", endpoint=code(truncate(endpoint, 40))
            )
        lines.append(line)
    if len(others) > MAX_OTHER_CHECKPOINTS:
        lines.append(
            translate(language, "checkpoint.more", count=len(others) - MAX_OTHER_CHECKPOINTS)
        )
    return lines
