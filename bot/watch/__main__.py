"""`python -m bot.watch`: a worker that runs only the watcher (no Slack listener).

Settings come from the environment as for `tuning-bot`, but only SLACK_BOT_TOKEN is required of
Slack's (the worker posts; it never receives requests). SIGTERM and SIGINT stop it gracefully.
"""

from __future__ import annotations

import asyncio
import logging
import math
import signal
import sys

from slack_sdk.web.async_client import AsyncWebClient

from bot.config import ConfigError, Settings, load_settings
from bot.logs import configure_logging, register_secret, register_url_password
from bot.slack.notifier import SlackNotifier
from bot.vertex.client import TuningClient
from bot.watch.budget import RequestBudget
from bot.watch.poller import PollConfig
from bot.watch.service import Watcher
from bot.watch.store import SqlWatchStore

log = logging.getLogger("bot.watch")


def require_bot_token(settings: Settings) -> None:
    """Raise ConfigError unless SLACK_BOT_TOKEN holds a bot token (the worker's only Slack need)."""
    token = settings.slack_bot_token
    if not token:
        raise ConfigError(
            "SLACK_BOT_TOKEN", "missing: set it to the app's Bot User OAuth Token (xoxb-…)"
        )
    if not token.startswith("xoxb-"):
        raise ConfigError("SLACK_BOT_TOKEN", "must be a bot token starting with xoxb-")


async def build_watcher(settings: Settings) -> Watcher:
    """A watcher wired to the configured database, Vertex API (or emulator) and Slack."""
    # Opening runs the schema migrations: keep that off the event loop.
    store = await asyncio.to_thread(SqlWatchStore.open, settings.database_url)
    try:
        reader = TuningClient.from_settings(settings)
        poll = PollConfig(interval=settings.poll_interval_seconds)
        # The notifier paces itself on Retry-After per channel, so its client does not retry;
        # its timeout bounds how long an ending post is in flight (an adopter waits that out).
        slack = AsyncWebClient(
            token=settings.slack_bot_token,
            base_url=settings.slack_api_url,
            retry_handlers=[],
            timeout=math.ceil(poll.post_timeout),
        )
        return Watcher(
            store,
            reader,
            SlackNotifier(slack),
            config=poll,
            budget=RequestBudget(settings.vertex_requests_per_minute),
        )
    except BaseException:
        await asyncio.to_thread(store.close)
        raise


async def serve(settings: Settings) -> None:
    """Run the watcher until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    watcher = await build_watcher(settings)
    watcher.start()
    log.info("watcher started", extra={"owner": watcher.owner})
    try:
        await stop.wait()
    finally:
        await watcher.stop()
        await watcher.aclose()
        log.info("watcher stopped", extra={"owner": watcher.owner})


def main() -> int:
    """Entry point; exit status 2 on a configuration error."""
    try:
        settings = load_settings(require_slack=False)
        require_bot_token(settings)
    except ConfigError as error:
        print(f"tuning-bot watcher: {error}", file=sys.stderr)
        return 2
    for secret in (
        settings.slack_bot_token,
        settings.slack_app_token,
        settings.slack_signing_secret,
    ):
        register_secret(secret)
    register_url_password(settings.database_url)
    configure_logging(settings.log_level)
    asyncio.run(serve(settings))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
