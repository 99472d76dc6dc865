"""What the handlers raise when a request cannot be carried out, in the user's terms.

One family: listeners catch `HandlerError`, show its `problem` and count its `outcome`; they
never see the Vertex client's or the chat publisher's own errors.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from bot.tuning.problems import Problem
from bot.vertex.errors import CreateOutcomeUnknown, VertexError, problem_for


class HandlerError(Exception):
    """A request the handlers did not carry out; `problem` says why and what to do."""

    outcome = "error"

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.key)
        self.problem = problem


class BadInput(HandlerError):
    """What the user typed or sent cannot be read (a malformed job id, a bad URI)."""

    outcome = "bad_input"


class Refused(HandlerError):
    """The user may not do this here (allow-lists, ownership, projects); it was audited."""

    outcome = "refused"


class Unavailable(HandlerError):
    """This bot was set up without what the request needs."""

    outcome = "unavailable"


class NotPosted(HandlerError):
    """The job's status card could not be posted in the channel; nothing was stored."""

    outcome = "slack_error"


class GoogleFailed(HandlerError):
    """Google answered with an error or not at all; `status` is its canonical status name."""

    outcome = "google_error"

    def __init__(self, problem: Problem, *, status: str) -> None:
        super().__init__(problem)
        self.status = status


class CreateUnconfirmed(GoogleFailed):
    """A create may have reached Google: the bot never sends it again, it looks the job up."""

    outcome = "create_unknown"


@contextlib.contextmanager
def google_failures(project: str, name: str | None = None) -> Iterator[None]:
    """Raise the Vertex client's errors inside the block as GoogleFailed (about job `name`)."""
    try:
        yield
    except CreateOutcomeUnknown as exc:
        raise CreateUnconfirmed(problem_for(exc, project=project), status=exc.status) from exc
    except VertexError as exc:
        problem = problem_for(exc, project=project, name=name)
        raise GoogleFailed(problem, status=exc.status) from exc
