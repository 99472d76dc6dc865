"""A pre-flight report in the reader's language: a verdict, then headed lists of items.

`report_text` gives the parts as plain text (no mrkdwn beyond backticks around key names);
the Slack surface formats and escapes them, `report_lines` lays them out for a terminal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from bot.datasets.findings import Finding, PreflightReport
from bot.datasets.preflight import format_bytes
from bot.i18n import render, translate
from bot.tuning.problems import Problem

_LINES_SHOWN = 5


class Outcome(Enum):
    """What the check found, in the words a reader acts on."""

    OK = "ok"
    WARNINGS = "warnings"
    ERRORS = "errors"
    MISSING = "missing"  # no such file: the data was never seen
    UNREADABLE = "unreadable"  # Cloud Storage failed, or the path is no file
    UNCHECKED = "unchecked"  # the bot may not read it; Vertex AI may


@dataclass(frozen=True)
class ReportSection:
    """A heading and the items under it."""

    heading: str
    items: tuple[str, ...]


@dataclass(frozen=True)
class ReportText:
    """One file's report: which file, the verdict sentence, notes on how it was checked
    (the model whose limits applied, a partial read), and headed sections."""

    dataset: str
    source: str
    outcome: Outcome
    verdict: str
    notes: tuple[str, ...]
    sections: tuple[ReportSection, ...]


@dataclass
class _Group:
    problem: Problem
    lines: list[int] = field(default_factory=list)
    count: int = 0


# Message keys written out, not composed, so that a test can check each one exists.
SECTION_KEYS: dict[str, tuple[str, str]] = {
    "errors": ("preflight.heading_errors", "preflight.more_errors"),
    "warnings": ("preflight.heading_warnings", "preflight.more_warnings"),
    "check": ("preflight.heading_what_to_check", "preflight.more_errors"),
}
VERDICT_KEYS: dict[Outcome, str] = {
    Outcome.OK: "preflight.verdict_ok",
    Outcome.WARNINGS: "preflight.verdict_warnings",
    Outcome.ERRORS: "preflight.verdict_errors",
    Outcome.MISSING: "preflight.verdict_missing",
    Outcome.UNREADABLE: "preflight.verdict_unreadable",
    Outcome.UNCHECKED: "preflight.verdict_unchecked",
}
# (one, many) forms of a count; Japanese uses the same text for both.
COUNT_KEYS: dict[str, tuple[str, str]] = {
    "errors": ("preflight.count_error_one", "preflight.count_error_many"),
    "warnings": ("preflight.count_warning_one", "preflight.count_warning_many"),
}
JSON_KIND_KEYS: dict[str, str] = {
    "array": "json.array",
    "string": "json.string",
    "number": "json.number",
    "boolean": "json.boolean",
    "null": "json.null",
}
_NOT_READ = (Outcome.MISSING, Outcome.UNREADABLE, Outcome.UNCHECKED)


def outcome_of(report: PreflightReport) -> Outcome:
    """The report's outcome; a file that was never read is not judged on its data."""
    if report.missing:
        return Outcome.MISSING
    if report.unreadable:
        return Outcome.UNREADABLE
    if report.unchecked:
        return Outcome.UNCHECKED
    if report.error_count:
        return Outcome.ERRORS
    if report.warning_count:
        return Outcome.WARNINGS
    return Outcome.OK


def report_text(report: PreflightReport, language: str, *, max_findings: int = 5) -> ReportText:
    """The report's parts: the first `max_findings` problems of each kind (the same problem
    on several lines shown once), the totals and how the estimate is made; no zero counts."""
    outcome = outcome_of(report)
    kind = "preflight.kind_validation" if report.validation else "preflight.kind_training"
    notes: list[str] = []
    if outcome not in _NOT_READ and report.model:
        notes.append(translate(language, "preflight.model_used", model=report.model))
    if report.partial and report.partial_reason is not None:
        notes.append(
            render(language, report.partial_reason) + " " + _checked_part(report, language)
        )
    sections: list[ReportSection] = []
    if outcome in _NOT_READ:
        findings = report.errors + report.warnings
        total = report.error_count + report.warning_count
        sections += _section(findings, total, language, "check", max_findings=max_findings)
    else:
        sections += _section(
            report.errors, report.error_count, language, "errors", max_findings=max_findings
        )
        sections += _section(
            report.warnings, report.warning_count, language, "warnings", max_findings=max_findings
        )
    if report.example_count:
        sections.append(_data_section(report, language))
    return ReportText(
        dataset=translate(language, kind),
        source=report.source,
        outcome=outcome,
        verdict=_verdict(report, outcome, language),
        notes=tuple(notes),
        sections=tuple(sections),
    )


def report_lines(report: PreflightReport, language: str, *, max_findings: int = 5) -> list[str]:
    """The report laid out as lines of plain text, for a terminal."""
    text = report_text(report, language, max_findings=max_findings)
    out = [translate(language, "preflight.plain_title", dataset=text.dataset, source=text.source)]
    out[0] += " " + text.verdict
    out += text.notes
    for section in text.sections:
        out.append(translate(language, "preflight.plain_heading", heading=section.heading))
        out += [f"  - {item}" for item in section.items]
    return out


def _data_section(report: PreflightReport, language: str) -> ReportSection:
    items = [summary_line(report, language)]
    if not report.validation and report.epochs is None:
        items.append(translate(language, "preflight.epochs_unknown"))
    if report.media_parts:
        items.append(
            translate(language, "preflight.media_not_counted", count=f"{report.media_parts:,}")
        )
    items.append(translate(language, "preflight.estimate_rule"))
    return ReportSection(translate(language, "preflight.heading_data"), tuple(items))


def count_text(language: str, kind: str, count: int) -> str:
    """A count in words, such as "1 error" or "3 warnings"; never called with 0."""
    one, many = COUNT_KEYS[kind]
    return translate(language, one if count == 1 else many, count=f"{count:,}")


def summary_line(report: PreflightReport, language: str) -> str:
    """One line for the job's status card: examples and estimated (billable) tokens."""
    text = translate(
        language,
        "preflight.summary",
        examples=f"{report.example_count:,}",
        tokens=f"{report.estimated_tokens:,}",
    )
    billable = report.estimated_billable_tokens
    if billable is not None and report.epochs is not None:
        text += translate(
            language,
            "preflight.summary_billable",
            billable=f"{billable:,}",
            epochs=report.epochs,
        )
    if report.partial:
        text += translate(language, "preflight.summary_partial")
    return text


def _verdict(report: PreflightReport, outcome: Outcome, language: str) -> str:
    key = VERDICT_KEYS[outcome]
    if outcome is Outcome.ERRORS:
        counts = count_text(language, "errors", report.error_count)
        if report.warning_count:
            counts = translate(
                language,
                "preflight.counts_both",
                errors=counts,
                warnings=count_text(language, "warnings", report.warning_count),
            )
        return translate(language, key, counts=counts)
    if outcome is Outcome.WARNINGS:
        return translate(
            language, key, counts=count_text(language, "warnings", report.warning_count)
        )
    return translate(language, key)


def _checked_part(report: PreflightReport, language: str) -> str:
    if report.total_bytes is None:
        return translate(
            language,
            "preflight.checked_part_unknown",
            read=format_bytes(report.bytes_read),
            lines=f"{report.lines_read:,}",
        )
    return translate(
        language,
        "preflight.checked_part",
        read=format_bytes(report.bytes_read),
        total=format_bytes(report.total_bytes),
        lines=f"{report.lines_read:,}",
    )


def _section(
    findings: list[Finding], total: int, language: str, kind: str, *, max_findings: int
) -> list[ReportSection]:
    if not total:
        return []
    # Problem holds a mapping and is not hashable; its key and sorted parameters are.
    groups: dict[tuple[str, tuple[tuple[str, object], ...]], _Group] = {}
    file_wide: list[_Group] = []
    for finding in findings:
        if finding.line is None:
            file_wide.append(_Group(finding.problem, count=1))
            continue
        identity = (finding.problem.key, tuple(sorted(finding.problem.params.items())))
        group = groups.setdefault(identity, _Group(finding.problem))
        group.lines.append(finding.line)
        group.count += 1
    ordered = file_wide + list(groups.values())
    shown = ordered[:max_findings]
    heading, more = SECTION_KEYS[kind]
    items = [_group_text(group, language) for group in shown]
    rest = total - sum(group.count for group in shown)
    if rest > 0:
        items.append(translate(language, more, count=f"{rest:,}"))
    return [ReportSection(translate(language, heading), tuple(items))]


def _problem_text(problem: Problem, language: str) -> str:
    # Checks record a JSON type as a plain word (`array`, …) to keep the per-line path cheap;
    # the word is put into the reader's language only here, once per shown finding.
    kind = problem.params.get("kind")
    if problem.key == "preflight.not_object" and isinstance(kind, str):
        params = {**problem.params, "kind": translate(language, JSON_KIND_KEYS.get(kind, kind))}
        return translate(language, problem.key, **params)
    return render(language, problem)


def _group_text(group: _Group, language: str) -> str:
    text = _problem_text(group.problem, language)
    if not group.lines:
        return text
    if len(group.lines) == 1:
        return translate(language, "preflight.at_line", line=group.lines[0], text=text)
    separator = translate(language, "format.list_separator")
    listed = separator.join(str(n) for n in group.lines[:_LINES_SHOWN])
    more = len(group.lines) - _LINES_SHOWN
    if more > 0:
        return translate(language, "preflight.at_lines_more", lines=listed, more=more, text=text)
    return translate(language, "preflight.at_lines", lines=listed, text=text)
