"""What the poller needs from a chat surface, and the errors that tell it what to do next."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from bot.tuning.job import TuningJob
from bot.tuning.subscriptions import ALL_MESSAGES, Delivery, Subscription
from bot.watch.model import Watch


class NotifyError(Exception):
    """A message could not be sent or edited.

    `delivered_unknown` is True when the request may have reached the chat service (timeout,
    connection reset, an HTTP 5xx or an answer that is not the service's own JSON): an ending
    post in that state is checked for before it is sent again.
    """

    def __init__(self, error: str, *, delivered_unknown: bool = False) -> None:
        super().__init__(error)
        self.error = error
        self.delivered_unknown = delivered_unknown


class ChannelGone(NotifyError):
    """The channel cannot receive messages any more (deleted, archived, bot removed)."""


class LeaseLapsed(NotifyError):
    """The post was not sent: the caller's lease ran out before the request could leave."""


def always_ours() -> bool:
    """A lease check for posts that no other replica can take over."""
    return True


class RateLimited(NotifyError):
    """The chat service asked us to wait `retry_after` seconds before this call."""

    def __init__(self, error: str, retry_after: float) -> None:
        super().__init__(error)
        self.retry_after = retry_after


class Notifier(Protocol):
    """Posts and edits the messages of one watch."""

    async def show_status(self, watch: Watch, job: TuningJob) -> str:
        """Edit the status message in place (post one when the watch has none); returns its ts."""
        ...

    async def announce_ending(
        self,
        watch: Watch,
        job: TuningJob,
        *,
        still_ours: Callable[[], bool] = always_ours,
        delivery: Delivery = ALL_MESSAGES,
    ) -> None:
        """Reply in the status message's thread that the job ended (once per watch); top-level
        when the watch has no card or its channel wants endings so.

        `still_ours` is asked right before the request leaves; False raises `LeaseLapsed`.
        """
        ...

    async def note_location_unreadable(self, subscription: Subscription, reason: str) -> None:
        """Tell a subscribed channel that its project and region cannot be read, and why."""
        ...

    async def announce_gone(
        self, watch: Watch, *, still_ours: Callable[[], bool] = always_ours
    ) -> None:
        """Reply in the thread that the job no longer exists at Google (`still_ours` as above)."""
        ...

    async def note_paused(self, watch: Watch, job: TuningJob) -> None:
        """Reply in the thread that the job is paused."""
        ...

    async def note_read_failing(
        self, watch: Watch, *, status: str, message: str, denied: bool
    ) -> None:
        """Reply in the thread that Google refuses to let the bot read the job (`denied`: for
        lack of permission, which the reply names)."""
        ...

    async def note_read_recovered(self, watch: Watch) -> None:
        """Reply in the thread that the job can be read again."""
        ...

    async def ending_posted(self, watch: Watch) -> bool | None:
        """After an interrupted post: True when the thread already holds this watch's ending,
        False when it certainly does not, None when that cannot be told.

        Raises `NotifyError` when the check itself failed for now (rate limit, 5xx, timeout):
        the caller then tries again later rather than posting blind.
        """
        ...


class HomeRefresher(Protocol):
    """Keeps the Home tab of a watch's user current (implemented by the chat surface)."""

    async def job_changed(self, watch: Watch, job: TuningJob) -> None:
        """The watch's card now shows `job`: refresh the Home of whoever started the watch.

        Returns quickly (the refresh is queued) and never raises into the poller.
        """
        ...


class NoHomes:
    """A watcher without Home tabs to refresh."""

    async def job_changed(self, watch: Watch, job: TuningJob) -> None:
        """Nothing to do."""


NO_HOMES = NoHomes()


class ChartPoster(Protocol):
    """Posts a succeeded job's training curves under its ending (implemented by the chat
    surface)."""

    async def job_succeeded(self, watch: Watch, job: TuningJob) -> None:
        """The watch's ending is out: post the chart in its thread.

        Returns quickly (the chart is drawn and uploaded in the background) and never raises
        into the poller: a chart that cannot be made leaves the ending as it is.
        """
        ...


class NoCharts:
    """A watcher that posts no charts."""

    async def job_succeeded(self, watch: Watch, job: TuningJob) -> None:
        """Nothing to do."""


NO_CHARTS = NoCharts()
