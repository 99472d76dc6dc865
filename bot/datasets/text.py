"""A pre-flight report as lines of plain text in the reader's language.

The lines hold no mrkdwn beyond backticks around key names; the Slack surface escapes them
(`bot.slack.mrkdwn.escape`) before posting, the command line prints them as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.datasets.findings import Finding, PreflightReport
from bot.datasets.preflight import format_bytes
from bot.i18n import render, translate
from bot.tuning.problems import Problem

_LINES_SHOWN = 5


@dataclass
class _Group:
    problem: Problem
    lines: list[int] = field(default_factory=list)
    count: int = 0


# Message keys written out, not composed, so that a test can check each one exists.
SECTION_KEYS: dict[str, tuple[str, str]] = {
    "errors": ("preflight.heading_errors", "preflight.more_errors"),
    "warnings": ("preflight.heading_warnings", "preflight.more_warnings"),
}
JSON_KIND_KEYS: dict[str, str] = {
    "array": "json.array",
    "string": "json.string",
    "number": "json.number",
    "boolean": "json.boolean",
    "null": "json.null",
}


def report_lines(report: PreflightReport, language: str, *, max_findings: int = 5) -> list[str]:
    """The report: verdict, partial notice, the first `max_findings` problems of each kind
    (same problem on several lines shown once), totals and how the estimate is made."""
    out = [_verdict(report, language)]
    if report.partial and report.partial_reason is not None:
        out.append(render(language, report.partial_reason) + " " + _checked_part(report, language))
    out += _section(
        report.errors, report.error_count, language, "errors", max_findings=max_findings
    )
    out += _section(
        report.warnings, report.warning_count, language, "warnings", max_findings=max_findings
    )
    if report.example_count:
        out.append(summary_line(report, language))
        if not report.validation and report.epochs is None:
            out.append(translate(language, "preflight.epochs_unknown"))
        if report.media_parts:
            out.append(
                translate(language, "preflight.media_not_counted", count=f"{report.media_parts:,}")
            )
        out.append(translate(language, "preflight.estimate_rule"))
    return out


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


def _verdict(report: PreflightReport, language: str) -> str:
    dataset = translate(
        language, "preflight.kind_validation" if report.validation else "preflight.kind_training"
    )
    if report.unchecked:
        return translate(
            language, "preflight.verdict_unchecked", dataset=dataset, source=report.source
        )
    if report.error_count:
        return translate(
            language,
            "preflight.verdict_errors",
            dataset=dataset,
            source=report.source,
            errors=f"{report.error_count:,}",
            warnings=f"{report.warning_count:,}",
        )
    if report.warning_count:
        return translate(
            language,
            "preflight.verdict_warnings",
            dataset=dataset,
            source=report.source,
            warnings=f"{report.warning_count:,}",
        )
    return translate(language, "preflight.verdict_ok", dataset=dataset, source=report.source)


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
) -> list[str]:
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
    out = [translate(language, heading)]
    out += ["  " + _group_text(group, language) for group in shown]
    rest = total - sum(group.count for group in shown)
    if rest > 0:
        out.append("  " + translate(language, more, count=f"{rest:,}"))
    return out


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
