"""What the handlers need from the chat service: one publisher of a job's status card.

The Slack publisher (`bot.slack.notifier.SlackNotifier`) implements it; it is also the
watcher's notifier, so the first card, its edits and the ending share one client and one
rate-limit policy.
"""

from __future__ import annotations

from typing import Protocol

from bot.tuning.job import TuningJob


class CardPublisher(Protocol):
    """Posts and takes back a job's status card; failures raise `bot.watch.notify.NotifyError`."""

    async def post_card(
        self,
        channel_id: str,
        job: TuningJob,
        *,
        started_by: str | None,
        language: str,
        note: str | None = None,
        watched_by: str | None = None,
    ) -> str:
        """Post the job's status card in the channel; returns the message's ts."""
        ...

    async def withdraw_card(self, channel_id: str, ts: str) -> None:
        """Delete a card that nothing will ever update (its watch could not be saved)."""
        ...
