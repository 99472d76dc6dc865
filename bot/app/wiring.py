"""The parts both processes are built from: secrets registered, clients, the store, the watcher.

Kept free of Bolt and Starlette so that a watcher-only process does not load them.
"""

from __future__ import annotations

import asyncio
import math
from typing import TYPE_CHECKING

import httpx
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.handlers.home import HomeHandlers
from bot.logs import register_secret, register_url_password
from bot.slack.charts import SlackCharts
from bot.slack.home import HomeTab
from bot.slack.locale import LocaleCache
from bot.slack.notifier import SlackNotifier
from bot.vertex.auth import GoogleAuth, NoAuth
from bot.vertex.client import TuningClient
from bot.vertex.retry import RetryPolicy
from bot.watch.budget import RequestBudget
from bot.watch.notify import NO_CHARTS, NO_HOMES, ChartPoster, HomeRefresher
from bot.watch.policy import PollConfig
from bot.watch.service import Watcher
from bot.watch.store import SqlWatchStore
from bot.watch.subscription_store import SqlSubscriptionStore

if TYPE_CHECKING:
    from bot.emulator import Emulator

# `--with-emulator`: long enough to watch a card move through its states, short enough to wait.
BUILT_IN_SECONDS_PER_STATE = 10.0


def register_secrets(settings: Settings) -> None:
    """Tell the log filter every secret in `settings`, before anything can log."""
    for secret in (
        settings.slack_bot_token,
        settings.slack_app_token,
        settings.slack_signing_secret,
    ):
        register_secret(secret)
    register_url_password(settings.database_url)


def google_http(
    settings: Settings, timeout: httpx.Timeout
) -> tuple[httpx.AsyncClient, Emulator | None]:
    """The HTTP client for Google's APIs. With the built-in emulator (`--with-emulator`) the
    emulator is made here, and requests to its host go to its ASGI app inside this process:
    no port to choose, nothing listening for others."""
    if not settings.with_emulator or settings.vertex_emulator_host is None:
        return httpx.AsyncClient(timeout=timeout), None
    from bot.emulator import Emulator

    emulator = Emulator(BUILT_IN_SECONDS_PER_STATE)
    transport = httpx.ASGITransport(app=emulator.app)
    mounts = {f"http://{settings.vertex_emulator_host}": transport}
    return httpx.AsyncClient(timeout=timeout, mounts=mounts), emulator


def tuning_client(
    settings: Settings, http: httpx.AsyncClient | None = None, *, retry: RetryPolicy | None = None
) -> TuningClient:
    """A Vertex client for the configured emulator, or for Google with Application Default
    Credentials; it closes `http` on `aclose` only when it made it."""
    if settings.vertex_emulator_host:
        return TuningClient(
            http or httpx.AsyncClient(),
            auth=NoAuth(),
            emulator_host=settings.vertex_emulator_host,
            owns_http=http is None,
            retry=retry,
        )
    return TuningClient(
        http or httpx.AsyncClient(), auth=GoogleAuth(), owns_http=http is None, retry=retry
    )


async def open_store(settings: Settings) -> SqlWatchStore:
    """The watch store at DATABASE_URL; opening runs the migrations, off the event loop."""
    return await asyncio.to_thread(SqlWatchStore.open, settings.database_url)


def poll_config(settings: Settings) -> PollConfig:
    """The poll policy of the configured intervals."""
    return PollConfig(
        interval=settings.poll_interval_seconds,
        metrics_interval=settings.metrics_interval_seconds,
    )


def build_charts(settings: Settings, tuning: TuningClient) -> SlackCharts:
    """Training-curve charts read through `tuning` and uploaded with the bot token."""
    client = AsyncWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)
    return SlackCharts(client, tuning)


def build_publisher(settings: Settings, poll: PollConfig | None = None) -> SlackNotifier:
    """The one publisher of job messages: first cards, their edits and the endings."""
    poll = poll or poll_config(settings)
    # The publisher paces itself on Retry-After per channel, so its client does not retry;
    # its timeout bounds how long an ending post is in flight (an adopter waits that out).
    client = AsyncWebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        retry_handlers=[],
        timeout=math.ceil(poll.post_timeout),
    )
    return SlackNotifier(client)


def build_homes(
    settings: Settings,
    store: SqlWatchStore,
    tuning: TuningClient,
    publisher: SlackNotifier,
    locales: LocaleCache,
) -> HomeTab:
    """The App Home tabs of the default location, published through `publisher`."""
    homes = HomeHandlers(
        client=tuning,
        store=store,
        location=settings.default_location,
        policy=settings.access_policy,
    )
    return HomeTab(homes, locales, publisher)


def build_watcher(
    settings: Settings,
    store: SqlWatchStore,
    tuning: TuningClient,
    publisher: SlackNotifier | None = None,
    homes: HomeRefresher = NO_HOMES,
    charts: ChartPoster = NO_CHARTS,
) -> Watcher:
    """The watcher on the configured intervals and request budget, announcing through
    `publisher` (the process's one publisher; a new one when None), refreshing `homes`,
    showing running jobs' progress and posting `charts` under successful endings."""
    poll = poll_config(settings)
    return Watcher(
        store,
        tuning,
        publisher or build_publisher(settings, poll),
        config=poll,
        budget=RequestBudget(settings.vertex_requests_per_minute),
        homes=homes,
        curves=tuning,
        charts=charts,
        subscriptions=SqlSubscriptionStore(store),
    )
