"""The App Home tab at the edge: built by the `home` use case, published through the one
publisher of the bot's messages (so a 429 holds back that user's Home only), and refreshed for
the watcher when one of the user's jobs changes state.
"""

from __future__ import annotations

import asyncio
import logging

from bot.handlers.home import HomeHandlers
from bot.handlers.jobs import Actor
from bot.slack.locale import LocaleCache
from bot.slack.messages.home import home_view, problem_of
from bot.slack.notifier import SlackNotifier
from bot.slack.surface import problem_text
from bot.tuning.job import TuningJob
from bot.watch.model import Watch
from bot.watch.notify import NotifyError

log = logging.getLogger(__name__)

MAX_CHANNELS = 50_000


class HomeTab:
    """Publishes Home tabs; the watcher's `bot.watch.notify.HomeRefresher`."""

    def __init__(self, homes: HomeHandlers, locales: LocaleCache, publisher: SlackNotifier) -> None:
        self.homes = homes
        self._locales = locales
        self._publisher = publisher
        # User → their direct-message channel with the bot, from `app_home_opened`: a job
        # started from Home posts its card there.
        self._channels: dict[str, str] = {}
        self._refreshing: set[str] = set()
        self._again: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def channel_of(self, user_id: str) -> str | None:
        """The user's direct-message channel with the bot, once they opened the Home tab."""
        return self._channels.get(user_id)

    async def show(self, actor: Actor, *, fresh: bool = False) -> bool:
        """Build (or take from the cache) and publish the actor's Home; False when Slack
        refused it (logged)."""
        if actor.channel_id:
            if len(self._channels) >= MAX_CHANNELS:
                self._channels.clear()
            self._channels[actor.user_id] = actor.channel_id
        channel = self._channels.get(actor.user_id)
        home = await self.homes.home(Actor(actor.user_id, channel, actor.language), fresh=fresh)
        problem = problem_of(home)
        view = home_view(
            home,
            language=actor.language,
            channel_id=channel,
            problem_text=problem_text(actor.language, problem) if problem else None,
        )
        try:
            await self._publisher.publish_home(actor.user_id, view)
        except NotifyError as exc:
            log.warning("home not published", extra={"user": actor.user_id, "error": exc.error})
            return False
        return True

    async def job_changed(self, watch: Watch, job: TuningJob) -> None:
        """Queue a refresh of the Home of whoever started the watch (one at a time per user;
        changes arriving meanwhile make one more)."""
        self.homes.job_seen(job)
        # Also for users who have not opened their Home here: it may have been opened on
        # another replica (or this is the watcher-only process), and Slack keeps what was
        # published. Without a known DM channel its New tuning job button asks to reopen Home.
        user = watch.started_by
        self.homes.forget(user)
        if user in self._refreshing:
            self._again.add(user)
            return
        self._refreshing.add(user)
        task = asyncio.get_running_loop().create_task(self._refresh(user))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _refresh(self, user: str) -> None:
        try:
            while True:
                self._again.discard(user)
                try:
                    language = await self._locales.language(user)
                    await self.show(Actor(user, self._channels.get(user), language), fresh=True)
                except Exception:  # the next change or the next open tries again
                    log.warning("home refresh failed", exc_info=True, extra={"user": user})
                if user not in self._again:
                    return
        finally:
            self._refreshing.discard(user)

    async def settle(self) -> None:
        """Wait for queued refreshes (shutdown, tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
