"""Google credentials for the tuning client: Application Default Credentials, refreshed off-loop."""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

import google.auth.exceptions

from bot.vertex.errors import CredentialsUnavailable

SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)


class Auth(Protocol):
    """Supplies request headers; `invalidate` forces a fresh token after a 401."""

    async def headers(self) -> dict[str, str]:
        """Headers to add to every request."""
        ...

    async def invalidate(self, rejected: str | None = None) -> None:
        """Forget the current token so the next `headers()` refreshes it."""
        ...


class NoAuth:
    """No credentials: for the local emulator."""

    async def headers(self) -> dict[str, str]:
        """No headers."""
        return {}

    async def invalidate(self, rejected: str | None = None) -> None:
        """Nothing to forget."""


class GoogleAuth:
    """Bearer tokens from google-auth credentials (ADC by default, scope cloud-platform).

    google-auth refreshes synchronously, so refreshes run in a worker thread, one at a time.
    """

    def __init__(self, credentials: Any | None = None, *, request: Any | None = None) -> None:
        self._credentials = credentials
        self._request = request
        self._lock = asyncio.Lock()
        self._force = False

    def _load(self) -> Any:
        if self._credentials is None:
            import google.auth

            self._credentials, _ = google.auth.default(scopes=list(SCOPES))
        return self._credentials

    def _refresh(self) -> None:
        credentials = self._load()
        if self._request is None:
            from google.auth.transport.requests import Request

            self._request = Request()
        credentials.refresh(self._request)

    async def headers(self) -> dict[str, str]:
        """`Authorization: Bearer …`, refreshing first when the token is missing or stale."""
        async with self._lock:
            try:
                # Finding ADC may read files or ask the metadata server: keep it off the loop.
                credentials: Any = self._credentials or await asyncio.to_thread(self._load)
                if self._force or not credentials.valid:
                    await asyncio.to_thread(self._refresh)
                    self._force = False
            except google.auth.exceptions.GoogleAuthError as exc:
                # Only the class name: google-auth's messages may quote file paths or answers.
                raise CredentialsUnavailable(0, type(exc).__name__) from exc
            return {"Authorization": f"Bearer {credentials.token}"}

    async def invalidate(self, rejected: str | None = None) -> None:
        """Force a refresh on the next call (after a 401).

        `rejected` is the Authorization header that was refused: when concurrent requests all
        get 401 for the same token, only the first one causes a refresh.
        """
        async with self._lock:
            current = getattr(self._credentials, "token", None)
            if rejected is None or rejected == f"Bearer {current}":
                self._force = True

    def __repr__(self) -> str:
        return "GoogleAuth()"  # never show a token
