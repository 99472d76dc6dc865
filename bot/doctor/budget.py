"""The watcher's request budget against Google's published quota for get, list and cancel."""

from __future__ import annotations

from bot.doctor.results import CheckResult
from bot.tuning.problems import Problem
from bot.watch.budget import GOOGLE_REQUESTS_PER_MINUTE


def check_budget(per_minute: int, quota: int = GOOGLE_REQUESTS_PER_MINUTE) -> CheckResult:
    """VERTEX_REQUESTS_PER_MINUTE leaves room in the quota the whole project shares."""
    if per_minute > quota:
        return CheckResult.warn(
            Problem.of("doctor.budget_above", rate=per_minute, quota=quota),
            Problem.of("doctor.budget_fix"),
        )
    if per_minute == quota:
        # The console, SDKs and other replicas draw on the same quota.
        return CheckResult.warn(
            Problem.of("doctor.budget_all", rate=per_minute, quota=quota),
            Problem.of("doctor.budget_fix"),
        )
    return CheckResult.ok("doctor.budget_ok", rate=per_minute, quota=quota)
