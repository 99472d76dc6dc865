"""Which Google Cloud projects Slack users may reach through the bot's one service account.

The bot is the only authorisation layer between Slack users and that account, so a job
reference outside the configured projects is refused. Google names jobs by project NUMBER while
the configuration names projects by id: a number counts as allowed once a Google answer to a
request for an allowed id has shown it (`learn`).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ProjectScope:
    """The allowed project ids (or numbers), and the numbers learned to belong to them."""

    allowed: frozenset[str]
    _numbers: dict[str, str] = field(default_factory=dict)

    def learn(self, asked: str, named: str) -> None:
        """A request for project `asked` was answered with names in project `named`."""
        if asked in self.allowed and named.isdigit() and named != asked:
            self._numbers[named] = asked

    def allows(self, project: str) -> bool | None:
        """True or False; None for a project number not (yet) known to be an allowed one."""
        if project in self.allowed or project in self._numbers:
            return True
        return None if project.isdigit() else False

    @property
    def ids(self) -> list[str]:
        """The configured projects that are ids (what a number may turn out to be)."""
        return sorted(p for p in self.allowed if not p.isdigit())
