"""Lines about what a finished job produced, shared by its ending and `/tune get`."""

from __future__ import annotations

from bot.i18n import translate
from bot.slack.mrkdwn import code, escape, truncate
from bot.tuning.job import Checkpoint, DataStats, TunedModel

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
