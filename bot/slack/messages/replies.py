"""Short answers: a notice, and what the canceller is told."""

from __future__ import annotations

from bot.i18n import translate
from bot.slack.messages.shared import Message, job_title, message, section
from bot.tuning.job import TuningJob
from bot.tuning.states import JobState


def notice(text: str) -> Message:
    """One already-safe mrkdwn paragraph as a message."""
    return message(text, [section(text)])


def cancel_reply(job: TuningJob, language: str) -> str:
    """What the canceller is told once Google answered: requested, cancelled, or already over."""
    if job.state is JobState.CANCELLED:
        key = "cancel.is_cancelled"
    elif job.state.has_ended:
        key = "cancel.already_ended"
    else:
        key = "cancel.requested"
    # The job's own name reads better than its 90-character resource name.
    return translate(language, key, job=f"*{job_title(job)}*")
