"""Bearer tokens: a 401 forces exactly one token refresh, done through google-auth for real."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from google.oauth2.credentials import Credentials

from bot.tuning.refs import JobRef
from bot.vertex.auth import GoogleAuth, NoAuth
from bot.vertex.client import TuningClient
from bot.vertex.errors import Unauthenticated
from tests.fakes.vertex_emulator import LOCATION, fast_retry, running_emulator

FRESH = "ya29.fresh-token-from-the-token-endpoint"
STALE = "ya29.stale-token-google-no-longer-accepts"


def _credentials(base_url: str) -> Credentials:
    # Refreshing goes to the emulator's OAuth token endpoint over loopback HTTP.
    return Credentials(
        token=STALE,
        refresh_token="refresh-me",
        token_uri=f"{base_url}/_emulator/token",
        client_id="client-id",
        client_secret="client-secret",
    )


async def test_401_refreshes_the_token_once_then_succeeds(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with running_emulator(3600, require_token=FRESH) as server:
        name = server.emulator.add_job(LOCATION.project, LOCATION.region)
        async with httpx.AsyncClient() as http:
            client = TuningClient(
                http,
                auth=GoogleAuth(_credentials(server.base_url)),
                base_url_for=lambda region: server.base_url,
                retry=fast_retry(),
            )
            job = await client.get(JobRef.from_name(name))
            again = await client.get(JobRef.from_name(name))

    assert job.name == name == again.name
    assert server.emulator.counts["get"] == 3  # refused once, then two accepted
    assert server.emulator.counts["token"] == 1
    assert FRESH not in caplog.text
    assert STALE not in caplog.text


async def test_401_after_a_refresh_is_an_error_not_a_loop() -> None:
    with running_emulator(3600, require_token=FRESH) as server:
        async with httpx.AsyncClient() as http:
            client = TuningClient(
                http,
                auth=NoAuth(),
                base_url_for=lambda region: server.base_url,
                retry=fast_retry(),
            )
            with pytest.raises(Unauthenticated) as caught:
                await client.get(JobRef(LOCATION.project, LOCATION.region, "1"))

    assert caught.value.http_status == 401
    assert server.emulator.counts["get"] == 2


async def test_concurrent_401s_refresh_once() -> None:
    with running_emulator(3600, require_token=FRESH) as server:
        name = server.emulator.add_job(LOCATION.project, LOCATION.region)
        auth = GoogleAuth(_credentials(server.base_url))
        async with httpx.AsyncClient() as http:
            client = TuningClient(
                http, auth=auth, base_url_for=lambda region: server.base_url, retry=fast_retry()
            )
            jobs = await asyncio.gather(*(client.get(JobRef.from_name(name)) for _ in range(5)))

    assert {job.name for job in jobs} == {name}
    assert server.emulator.counts["token"] == 1


def test_repr_never_shows_the_token() -> None:
    auth = GoogleAuth(Credentials(token=FRESH))
    assert FRESH not in repr(auth)


async def test_headers_carry_the_bearer_token() -> None:
    auth = GoogleAuth(Credentials(token=FRESH))
    assert await auth.headers() == {"Authorization": f"Bearer {FRESH}"}
    assert await NoAuth().headers() == {}


async def test_credentials_that_cannot_refresh_fail_clearly_and_send_nothing() -> None:
    from bot.i18n import render
    from bot.vertex.errors import CredentialsUnavailable, problem_for

    with running_emulator(3600) as server:
        name = server.emulator.add_job(LOCATION.project, LOCATION.region)
        # No token and no way to get one: what a broken service-account setup looks like.
        broken = Credentials(token=None)
        async with httpx.AsyncClient() as http:
            client = TuningClient(
                http,
                auth=GoogleAuth(broken),
                base_url_for=lambda _region: server.base_url,
                retry=fast_retry(3),
            )
            with pytest.raises(CredentialsUnavailable) as caught:
                await client.get(JobRef.from_name(name))
        assert server.emulator.counts["get"] == 0
    text = render("en", problem_for(caught.value, project=LOCATION.project))
    assert "no working Google credentials (RefreshError)" in text
    assert "Application Default Credentials" in text
