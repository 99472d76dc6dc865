"""Draw the README's chart: a job run on the emulator, read through the bot's Vertex client
and drawn by the bot's renderer, in English and Japanese.

    .venv/bin/python docs/make_chart.py          # writes docs/chart-en.png, docs/chart-ja.png
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from bot.charts.render import render_chart
from bot.emulator import Emulator
from bot.tuning.refs import JobRef
from bot.vertex.auth import NoAuth
from bot.vertex.client import TuningClient

HOST = "vertex-emulator.docs:80"
OUT = Path(__file__).resolve().parent
SECONDS = 3600.0  # the emulated job's time in each state


async def main() -> None:
    started = time.time()
    now = [started]
    emulator = Emulator(seconds_per_state=SECONDS, clock=lambda: now[0])
    name = emulator.add_job(
        "docs-project",
        "us-central1",
        display_name="support-bot-v3",
        validation_uri="gs://team-data/support/validation.jsonl",
        state="JOB_STATE_RUNNING",
        steps=1200,
    )
    now[0] += 2 * SECONDS  # through RUNNING to SUCCEEDED
    http = httpx.AsyncClient(mounts={f"http://{HOST}": httpx.ASGITransport(app=emulator.app)})
    client = TuningClient(http, auth=NoAuth(), emulator_host=HOST)
    try:
        job = await client.get(JobRef.from_name(name))
        curves = await client.read_curves(job)
    finally:
        await http.aclose()
    for language in ("en", "ja"):
        path = OUT / f"chart-{language}.png"
        path.write_bytes(render_chart(curves, title=job.display_name or name, language=language))
        print(f"{path.relative_to(OUT.parent)}: {job.state.value}, {curves.last_step} steps")


if __name__ == "__main__":
    asyncio.run(main())
