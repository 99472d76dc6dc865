"""What a check found: a status, a message and, when something is wrong, the fix."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from bot.tuning.problems import ParamValue, Problem


class Status(enum.Enum):
    """How a finding weighs: only FAIL stops the bot."""

    OK = "ok"
    WARN = "warn"  # works, but deserves a look
    FAIL = "fail"  # the bot cannot work until this is fixed
    SKIP = "skip"  # not checked, and why


@dataclass(frozen=True)
class CheckResult:
    """One line of the report: a catalogue message and, for WARN and FAIL, its fix."""

    status: Status
    message: Problem
    fix: Problem | None = None

    @classmethod
    def ok(cls, key: str, /, **params: ParamValue) -> CheckResult:
        """A passed check."""
        return cls(Status.OK, Problem.of(key, **params))

    @classmethod
    def skip(cls, key: str, /, **params: ParamValue) -> CheckResult:
        """A check that did not apply."""
        return cls(Status.SKIP, Problem.of(key, **params))

    @classmethod
    def warn(cls, message: Problem, fix: Problem | None = None) -> CheckResult:
        """Something that works but should be looked at."""
        return cls(Status.WARN, message, fix)

    @classmethod
    def fail(cls, message: Problem, fix: Problem) -> CheckResult:
        """Something that stops the bot, with what to do about it."""
        return cls(Status.FAIL, message, fix)


def exit_status(results: Iterable[CheckResult]) -> int:
    """1 when any finding stops the bot, else 0 (warnings alone do not)."""
    return 1 if any(r.status is Status.FAIL for r in results) else 0
