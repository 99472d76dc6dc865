"""Asking a model one question: what is sent (`Prompt`) and what came back (`ModelAnswer`).

Pure values: the Vertex client fills them from Google's `GenerateContentResponse`, the handlers
time them and the Slack layer renders them.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.tuning.job import TuningJob
from bot.tuning.problems import Problem

# Google's default temperature for current Gemini models.
DEFAULT_TEMPERATURE = 1.0


@dataclass(frozen=True)
class Prompt:
    """One user turn, with optional system instruction and generation settings."""

    text: str
    system_instruction: str | None = None
    temperature: float | None = None
    max_output_tokens: int | None = None


@dataclass(frozen=True)
class ModelAnswer:
    """A model's answer: its text (empty when blocked), why it stopped, and token counts.

    `block_reason` is `promptFeedback.blockReason` (the prompt itself was refused);
    `finish_reason` is the first candidate's (`STOP` normally, `SAFETY`, `MAX_TOKENS`…).
    """

    text: str
    finish_reason: str | None = None
    block_reason: str | None = None
    prompt_tokens: int | None = None
    answer_tokens: int | None = None
    total_tokens: int | None = None

    @property
    def stopped_early(self) -> bool:
        """It ended for another reason than a natural stop."""
        return self.block_reason is not None or self.finish_reason not in (None, "STOP")


@dataclass(frozen=True)
class SideResult:
    """One model's outcome: an answer or a problem, and how long the call took."""

    target: str
    seconds: float
    answer: ModelAnswer | None = None
    problem: Problem | None = None


@dataclass(frozen=True)
class Tried:
    """Both outcomes of one Try; `base` is None when no comparison was asked for."""

    job: TuningJob
    prompt: Prompt
    tuned: SideResult
    base: SideResult | None
    checkpoint: str | None = None


def base_model_path(project: str, location: str, model: str) -> str:
    """The publisher model a base model is called through, in the location given."""
    return f"projects/{project}/locations/{location}/publishers/google/models/{model}"


def target_location(target: str) -> str:
    """The location of an endpoint or publisher model resource name (`projects/P/locations/L/…`)."""
    parts = target.split("/")
    return parts[3] if len(parts) > 3 and parts[2] == "locations" else "global"
