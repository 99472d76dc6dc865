"""The dataset pre-flight as the Slack surface sees it: a verdict and lines to show."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class DatasetVerdict:
    """What a check found: report lines (already escaped for mrkdwn) and a one-line summary."""

    lines: list[str]
    summary: str | None
    has_errors: bool
    has_warnings: bool


class DatasetCheck(Protocol):
    """Checks one `gs://` JSONL file for a model (the default one when None)."""

    async def __call__(
        self,
        uri: str,
        language: str,
        *,
        model: str | None = None,
        validation: bool = False,
        epochs: int | None = None,
        max_seconds: float | None = None,
    ) -> DatasetVerdict: ...
