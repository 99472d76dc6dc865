"""Dataset reports in Slack: the verdict first, then bold headings over bulleted items."""

from __future__ import annotations

from collections.abc import Iterable

from bot.datasets.text import Outcome, ReportText
from bot.slack.mrkdwn import code, escape, truncate

OUTCOME_EMOJI: dict[Outcome, str] = {
    Outcome.OK: ":white_check_mark:",
    Outcome.WARNINGS: ":warning:",
    Outcome.UNCHECKED: ":warning:",
    Outcome.ERRORS: ":x:",
    Outcome.MISSING: ":x:",
    Outcome.UNREADABLE: ":x:",
}
# A section block's text limit; a reply is kept within it too.
MAX_REPORT = 3000


def report_mrkdwn(report: ReportText) -> str:
    """One file's report as mrkdwn; every text from the file or the user is escaped."""
    lines = [
        f"{OUTCOME_EMOJI[report.outcome]} *{escape(report.dataset)}* {code(report.source)}",
        escape(report.verdict),
        *(escape(note) for note in report.notes),
    ]
    for section in report.sections:
        lines.append(f"*{escape(section.heading)}*")
        lines += [f"• {escape(item)}" for item in section.items]
    return "\n".join(lines)


def reports_mrkdwn(reports: Iterable[ReportText], *, lead: str | None = None) -> str:
    """Several files' reports (training, then validation) with an optional lead paragraph."""
    parts = ([lead] if lead else []) + [report_mrkdwn(r) for r in reports]
    return truncate("\n\n".join(parts), MAX_REPORT)
