"""The report as text: one line per finding with its mark, the fix under it. No I/O here.

Code spans keep their backticks: in a terminal they mark what to type or copy as it is.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.doctor.results import CheckResult, Status
from bot.i18n import render, translate
from bot.logs import scrub
from bot.tuning.problems import Problem

MARKS = {Status.OK: "✓", Status.WARN: "!", Status.FAIL: "✗", Status.SKIP: "-"}


def report_lines(results: Sequence[CheckResult], language: str) -> list[str]:
    """The title, each finding (with its fix when it has one) and the verdict."""
    lines = [translate(language, "doctor.title")]
    for result in results:
        lines.append(f"{MARKS[result.status]} {render(language, result.message)}")
        if result.fix is not None and result.status in (Status.WARN, Status.FAIL):
            fix = render(language, result.fix)
            lines.append("  " + translate(language, "doctor.fix", text=fix))
    failures = sum(r.status is Status.FAIL for r in results)
    warnings = sum(r.status is Status.WARN for r in results)
    if failures:
        verdict = Problem.of("doctor.verdict_blocked", count=failures)
    elif warnings:
        verdict = Problem.of("doctor.verdict_warnings", count=warnings)
    else:
        verdict = Problem.of("doctor.verdict_ok")
    lines.append(render(language, verdict))
    # Nothing above should hold a secret; scrubbing makes sure a quoted answer cannot leak one.
    return [scrub(line) for line in lines]
