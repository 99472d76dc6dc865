"""Dataset pre-flight: check a tuning JSONL file before a paid job is created."""

from bot.datasets.findings import Finding, PreflightReport, Severity
from bot.datasets.preflight import Budget, run_preflight
from bot.datasets.sources import DatasetOpener, HeadersProvider
from bot.datasets.text import report_lines, summary_line

__all__ = [
    "Budget",
    "DatasetOpener",
    "Finding",
    "HeadersProvider",
    "PreflightReport",
    "Severity",
    "report_lines",
    "run_preflight",
    "summary_line",
]
