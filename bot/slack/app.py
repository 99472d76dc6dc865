"""The Bolt app: a Web API client that honours rate limits, repeat filtering, the listeners."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncApp, AsyncBoltRequest
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.listeners import register_listeners
from bot.slack.surface import RecentKeys, Surface

log = logging.getLogger(__name__)


def slack_web_client(token: str, base_url: str, *, timeout: int = 10) -> AsyncWebClient:
    """An async Web API client that waits out 429s (Retry-After) and retries lost connections."""
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
        ],
    )


class DropRepeatedDeliveries(AsyncMiddleware):
    """Answers a repeated trigger id (or event id) with an empty 200 and nothing else.

    A trigger id is unique per user action, so a second one is a replay or a redelivery.
    """

    def __init__(self, seen: RecentKeys) -> None:
        self._seen = seen

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse:
        """Pass new deliveries on; stop repeats here."""
        body = req.body
        key = body.get("trigger_id") or body.get("event_id") if isinstance(body, dict) else None
        if isinstance(key, str) and not self._seen.first_time(key):
            log.info("repeated delivery ignored", extra={"outcome": "repeat"})
            return BoltResponse(status=200, body="")
        return await next()


def build_bolt_app(client: AsyncWebClient, surface: Surface) -> AsyncApp:
    """The AsyncApp with every listener: each acks first and hands slow work to the surface.

    Requests reach it only through `bot.slack.http.SlackEndpoint` (which verifies Slack's
    signature before anything is parsed) or through Socket Mode, so Bolt does not verify again.
    """
    app = AsyncApp(
        client=client,
        request_verification_enabled=False,
        # Listeners call ack() themselves before any slow work, which then runs as a task on
        # the same loop: the HTTP response never waits on Google or on Bolt's ack polling.
        process_before_response=True,
        logger=logging.getLogger("slack_bolt"),
    )

    app.use(DropRepeatedDeliveries(surface.triggers))
    register_listeners(app, surface)
    return app
