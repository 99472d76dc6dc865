"""The shared wiring: a Vertex client built from the environment talks to the emulator named by
VERTEX_EMULATOR_HOST, without credentials."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.app.wiring import tuning_client
from bot.config import load_settings
from bot.emulator import EmulatorServer
from tests.fakes.vertex_emulator import running_emulator


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    """An emulator whose jobs stay put (an hour per state)."""
    with running_emulator(seconds_per_state=3600) as running:
        yield running


async def test_the_configured_emulator_is_used_without_credentials(
    server: EmulatorServer,
) -> None:
    settings = load_settings(
        {"VERTEX_EMULATOR_HOST": server.host_port}, require_slack=False, dotenv=None
    )
    name = server.emulator.add_job(settings.google_cloud_project, settings.tuning_region)
    client = tuning_client(settings)
    try:
        jobs = [job async for job in client.list(settings.default_location)]
    finally:
        await client.aclose()

    assert [job.name for job in jobs] == [name]
    assert server.emulator.received[-1][0] == "list"
