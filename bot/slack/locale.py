"""Each user's language from `users.info` (`include_locale`), cached so commands stay fast."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.i18n import DEFAULT_LANGUAGE, language_for

log = logging.getLogger(__name__)


class LocaleCache:
    """User id → catalogue language, refreshed after `ttl_seconds`; English when unknown."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        ttl_seconds: float = 3600.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl = ttl_seconds
        self._max = max_entries
        self._clock = clock
        self._entries: dict[str, tuple[float, str]] = {}

    def cached(self, user_id: str) -> str | None:
        """The language if it is cached and fresh, without calling Slack."""
        entry = self._entries.get(user_id)
        if entry is not None and self._clock() - entry[0] < self._ttl:
            return entry[1]
        return None

    async def language(self, user_id: str) -> str:
        """The user's language; one `users.info` call per user per TTL."""
        found = self.cached(user_id)
        if found is not None:
            return found
        try:
            answer = await self._client.users_info(user=user_id, include_locale=True)
            user = answer.get("user") or {}
            language = language_for(user.get("locale") if isinstance(user, dict) else None)
        except (SlackApiError, aiohttp.ClientError, OSError, TimeoutError) as exc:
            # Unknown language is not an error for the user: answer in English, retry later.
            log.warning("users.info failed", extra={"user": user_id, "error": type(exc).__name__})
            return DEFAULT_LANGUAGE
        if len(self._entries) >= self._max:
            self._entries.clear()
        self._entries[user_id] = (self._clock(), language)
        return language
