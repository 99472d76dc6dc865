"""User-facing problems as message keys plus parameters, rendered later in the user's language."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

ParamValue = str | int | float


@dataclass(frozen=True)
class Problem:
    """A message key from the i18n catalogue and the values its placeholders take."""

    key: str
    params: Mapping[str, ParamValue] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def of(cls, key: str, /, **params: ParamValue) -> Problem:
        """Build a problem from keyword parameters."""
        return cls(key, MappingProxyType(dict(params)))


class DomainError(ValueError):
    """Raised by parsers of user input; carries a Problem instead of English text."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.key)
        self.problem = problem
