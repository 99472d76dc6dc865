"""Checking a dataset before it is tuned on: the verdict the handlers hand on, and the check
itself (the pre-flight of `bot.datasets` on the configured Cloud Storage)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bot.datasets.preflight import Budget, run_preflight
from bot.datasets.sources import DatasetOpener
from bot.datasets.text import ReportText, report_text, summary_line
from bot.tuning.catalogue import Catalogue


@dataclass(frozen=True)
class DatasetVerdict:
    """What a check found: a report per file and a one-line summary, as plain text in the
    user's language (the chat surface formats and escapes them)."""

    reports: tuple[ReportText, ...]
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


class PreflightCheck:
    """`DatasetCheck` by reading the file through `opener` against the model's limits."""

    def __init__(
        self,
        opener: DatasetOpener,
        catalogue: Catalogue,
        today: Callable[[], dt.date] = lambda: dt.datetime.now(dt.UTC).date(),
    ) -> None:
        self._opener = opener
        self._catalogue = catalogue
        self._today = today

    async def __call__(
        self,
        uri: str,
        language: str,
        *,
        model: str | None = None,
        validation: bool = False,
        epochs: int | None = None,
        max_seconds: float | None = None,
    ) -> DatasetVerdict:
        """Read the file and say what it found."""
        catalogue = self._catalogue
        info = (catalogue.get(model) if model else None) or catalogue.default_model(self._today())
        report = await run_preflight(
            uri,
            model=info,
            validation=validation,
            opener=self._opener,
            epochs=epochs,
            budget=Budget(max_seconds=max_seconds) if max_seconds else None,
        )
        return DatasetVerdict(
            reports=(report_text(report, language),),
            summary=summary_line(report, language) if report.example_count else None,
            has_errors=bool(report.error_count),
            has_warnings=bool(report.warning_count) or report.partial,
        )
