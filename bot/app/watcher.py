"""The watcher-only process (`tuning-bot watcher`): polls and announces, hears nothing from Slack.

Settings come from the environment as for `tuning-bot`, but only SLACK_BOT_TOKEN is required of
Slack's (the process posts; it never receives requests). SIGTERM and SIGINT stop it gracefully.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Mapping, Sequence

from slack_sdk.web.async_client import AsyncWebClient

from bot.app.wiring import (
    build_charts,
    build_homes,
    build_publisher,
    build_watcher,
    open_store,
    register_secrets,
    tuning_client,
)
from bot.config import ConfigError, Settings, load_settings
from bot.logs import configure_logging
from bot.slack.locale import LocaleCache
from bot.watch.service import Watcher

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


async def open_watcher(settings: Settings) -> Watcher:
    """A watcher wired to the configured database, Vertex API (or emulator) and Slack."""
    store = await open_store(settings)
    try:
        tuning = tuning_client(settings)
        publisher = build_publisher(settings)
        # Users' Home tabs follow their jobs from here too (languages from users.info).
        locales = LocaleCache(
            AsyncWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)
        )
        homes = build_homes(settings, store, tuning, publisher, locales)
        charts = build_charts(settings, tuning)
        return build_watcher(settings, store, tuning, publisher, homes=homes, charts=charts)
    except BaseException:
        await asyncio.to_thread(store.close)
        raise


async def serve(settings: Settings) -> None:
    """Run the watcher until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    watcher = await open_watcher(settings)
    watcher.start()
    log.info("watcher started", extra={"owner": watcher.owner})
    try:
        await stop.wait()
    finally:
        await watcher.stop()
        await watcher.aclose()
        log.info("watcher stopped", extra={"owner": watcher.owner})


def main(argv: Sequence[str] = (), environ: Mapping[str, str] | None = None) -> int:
    """Entry point; exit status 2 on a configuration error or an unexpected argument."""
    if argv:
        print(f"tuning-bot watcher: unexpected arguments {' '.join(argv)!r}", file=sys.stderr)
        return 2
    try:
        settings = load_settings(environ, require_slack=False)
        require_bot_token(settings)
        if settings.with_emulator:
            # The built-in emulator lives inside `tuning-bot`; another process cannot reach it.
            raise ConfigError(
                "TUNING_WITH_EMULATOR",
                "the built-in emulator runs inside `tuning-bot` only; unset it here, or run "
                "`tuning-bot emulator` and point VERTEX_EMULATOR_HOST at it",
            )
    except ConfigError as error:
        print(f"tuning-bot watcher: {error}", file=sys.stderr)
        return 2
    register_secrets(settings)
    configure_logging(settings.log_level)
    asyncio.run(serve(settings))
    return 0
