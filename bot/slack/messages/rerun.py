"""Run again and Continue tuning: their buttons, and the create form filled from a job."""

from __future__ import annotations

from slack_sdk.models.blocks import ButtonElement

from bot.i18n import translate
from bot.slack import ids
from bot.slack.mrkdwn import code
from bot.tuning.catalogue import Catalogue
from bot.tuning.job import TuningJob, console_url
from bot.tuning.rerun import next_display_name
from bot.tuning.spec import (
    ADAPTER_SIZE,
    BASE_MODEL,
    DISPLAY_NAME,
    EPOCHS,
    LEARNING_RATE_MULTIPLIER,
    TRAINING_DATASET,
    VALIDATION_DATASET,
)


def rerun_button(job_name: str, language: str) -> ButtonElement:
    """Run again: the create form, filled from the job."""
    return ButtonElement(
        text=translate(language, "rerun.button"), action_id=ids.JOB_RERUN, value=job_name
    )


def continue_button(job_name: str, language: str) -> ButtonElement:
    """Continue tuning: the create form, starting from the job's tuned model."""
    return ButtonElement(
        text=translate(language, "rerun.continue_button"),
        action_id=ids.JOB_CONTINUE,
        value=job_name,
    )


def can_continue(job: TuningJob, catalogue: Catalogue) -> bool:
    """Whether the job has a tuned model that Google would tune further."""
    model = catalogue.get(job.base_model or "")
    tuned = job.tuned_model.model if job.tuned_model else None
    return job.state.succeeded and tuned is not None and bool(model and model.continuous_tuning)


def rerun_values(job: TuningJob) -> dict[str, str | None]:
    """The form's values from `job`, its display name with the next `-vN` suffix."""
    lr = job.learning_rate_multiplier
    return {
        BASE_MODEL: job.base_model,
        TRAINING_DATASET: job.training_dataset_uri,
        VALIDATION_DATASET: job.validation_dataset_uri,
        EPOCHS: str(job.epochs) if job.epochs is not None else None,
        ADAPTER_SIZE: str(job.adapter_size) if job.adapter_size is not None else None,
        LEARNING_RATE_MULTIPLIER: f"{lr:g}" if lr is not None else None,
        DISPLAY_NAME: next_display_name(job.display_name, job.ref.job_id),
    }


def source_link(job_id: str, url: str) -> str:
    """`#ID` linking to the job's console page."""
    return f"<{url}|#{job_id}>"


def rerun_banner(job: TuningJob, language: str, catalogue: Catalogue, *, continuing: bool) -> str:
    """What leads the filled form: where its values come from, and about continuous tuning."""
    link = source_link(job.ref.job_id, console_url(job.ref))
    supported = ", ".join(code(m.model_id) for m in catalogue.continuable())
    if continuing:
        tuned = job.tuned_model.model if job.tuned_model else ""
        lines = [
            translate(language, "rerun.banner_continue", job=link, model=code(tuned or "")),
            translate(language, "rerun.continue_models", models=supported),
        ]
        return "\n".join(lines)
    lines = [translate(language, "rerun.banner", job=link)]
    if can_continue(job, catalogue):
        lines.append(translate(language, "rerun.continue_offer", job=job.ref.job_id))
    lines.append(translate(language, "rerun.continue_models", models=supported))
    return "\n".join(lines)
