"""`python -m bot.watch`: a worker that runs only the watcher (no Slack listener).

Settings come from the environment as for `tuning-bot`; SIGTERM and SIGINT stop it gracefully.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from bot.config import ConfigError, Settings, load_settings
from bot.logs import configure_logging, register_secret
from bot.watch.service import Watcher

log = logging.getLogger("bot.watch")


async def serve(settings: Settings) -> None:
    """Run the watcher until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    watcher = Watcher.from_settings(settings)
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
        settings = load_settings(require_slack=True)
    except ConfigError as error:
        print(f"tuning-bot watcher: {error}", file=sys.stderr)
        return 2
    for secret in (
        settings.slack_bot_token,
        settings.slack_app_token,
        settings.slack_signing_secret,
    ):
        register_secret(secret)
    configure_logging(settings.log_level)
    asyncio.run(serve(settings))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
