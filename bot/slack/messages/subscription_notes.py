"""What the watcher says to a subscribed channel about its subscription itself."""

from __future__ import annotations

from bot.i18n import translate
from bot.slack.mrkdwn import code, escape
from bot.tuning.subscriptions import Subscription


def location_unreadable_message(subscription: Subscription, reason: str) -> str:
    """The subscribed project and region cannot be read: Google's reason and what to grant."""
    location = subscription.location
    return translate(
        subscription.language,
        "subs.location_unreadable",
        project=code(location.project),
        region=code(location.region),
        reason=escape(reason[:500]),
    )
