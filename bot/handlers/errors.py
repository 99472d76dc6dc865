"""What the handlers raise when Google refused or failed a request, in the user's terms.

Listeners catch these and show `problem`; they never see the Vertex client's own errors.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from bot.tuning.problems import Problem
from bot.vertex.errors import CreateOutcomeUnknown, VertexError, problem_for


class GoogleFailed(Exception):
    """Google answered with an error or not at all; `problem` says what went wrong and what to
    do, `status` is Google's canonical status name (for logs)."""

    def __init__(self, problem: Problem, *, status: str) -> None:
        super().__init__(problem.key)
        self.problem = problem
        self.status = status


class CreateUnconfirmed(GoogleFailed):
    """A create may have reached Google: the bot never sends it again, it looks the job up."""


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
