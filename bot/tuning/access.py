"""Who may do what: the bot acts with one service account for everyone, so it decides."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Action(Enum):
    """Things a Slack user can ask the bot to do."""

    CREATE = "create"
    CANCEL = "cancel"
    READ = "read"
    WATCH = "watch"


@dataclass(frozen=True)
class AccessPolicy:
    """Allow-lists from the configuration; empty means everyone / every channel."""

    admins: frozenset[str] = frozenset()
    allowed_users: frozenset[str] = frozenset()
    allowed_channels: frozenset[str] = frozenset()

    def is_admin(self, user_id: str) -> bool:
        """Admins may cancel any job."""
        return user_id in self.admins

    def user_refusal(self, user_id: str) -> str | None:
        """None when the user may use the bot at all, otherwise the i18n key of the reason.

        For surfaces private to the user (the App Home tab), where no channel is involved.
        """
        if self.allowed_users and user_id not in self.allowed_users and not self.is_admin(user_id):
            return "auth.user_not_allowed"
        return None

    def refusal(
        self,
        action: Action,
        user_id: str,
        channel_id: str | None,
        job_owners: frozenset[str] = frozenset(),
    ) -> str | None:
        """None when allowed, otherwise the i18n key of the reason.

        `job_owners` are the users who started or watched the job (used for CANCEL only).
        Reading (list, get) follows the allow-lists too: job names and datasets are not public.
        """
        admin = self.is_admin(user_id)
        if self.allowed_users and user_id not in self.allowed_users and not admin:
            return "auth.user_not_allowed"
        if self.allowed_channels and channel_id not in self.allowed_channels and not admin:
            return "auth.channel_not_allowed"
        if action is Action.CANCEL and not admin and user_id not in job_owners:
            return "auth.cancel_not_owner"
        return None
