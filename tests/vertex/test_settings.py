"""A client built from the environment talks to the emulator named by VERTEX_EMULATOR_HOST."""

from __future__ import annotations

from bot.config import load_settings
from bot.emulator import EmulatorServer
from bot.vertex.client import TuningClient


async def test_from_settings_uses_the_emulator_without_credentials(
    server: EmulatorServer,
) -> None:
    settings = load_settings(
        {"VERTEX_EMULATOR_HOST": server.host_port}, require_slack=False, dotenv=None
    )
    name = server.emulator.add_job(settings.google_cloud_project, settings.tuning_region)
    client = TuningClient.from_settings(settings)
    try:
        jobs = [job async for job in client.list(settings.default_location)]
    finally:
        await client.aclose()

    assert [job.name for job in jobs] == [name]
    assert server.emulator.received[-1][0] == "list"
