"""Project ids and project numbers: Vertex names every resource by the project NUMBER.

A request may say `projects/acme-ml/...` or `projects/123456789012/...`; both reach the same jobs,
and every name the emulator returns carries the number, as Google's do. Unless told otherwise, a
project id gets a stable 12-digit number derived from a hash of it, so runs are repeatable.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

# The key of `project_numbers` that stands for "every project id not named otherwise".
ANY_PROJECT = "*"
_NUMBER = re.compile(r"[0-9]{1,20}")
_NAME = re.compile(r"projects/([^/]+)/(.*)", re.DOTALL)


def derived_number(project_id: str) -> str:
    """A stable 12-digit number for `project_id` (first digit never 0)."""
    digest = int(hashlib.sha256(project_id.encode()).hexdigest(), 16)
    return str(10**11 + digest % (9 * 10**11))


class ProjectNumbers:
    """Maps project ids to numbers; numbers map to themselves."""

    def __init__(self, overrides: Mapping[str, str] | None = None) -> None:
        self._overrides = dict(overrides or {})
        for key, number in self._overrides.items():
            if not _NUMBER.fullmatch(number):
                raise ValueError(f"project number for {key!r} must be digits, not {number!r}")

    def number(self, project: str) -> str:
        """The project number for a project id, or the number itself."""
        if _NUMBER.fullmatch(project):
            return project
        number = self._overrides.get(project) or self._overrides.get(ANY_PROJECT)
        return number or derived_number(project)

    def canonical(self, name: str) -> str:
        """A resource name with its project segment in number form."""
        match = _NAME.fullmatch(name)
        if match is None:
            return name
        return f"projects/{self.number(match[1])}/{match[2]}"
