"""Fixtures for the emulator's own tests: an Emulator on a manual clock, called in process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bot.emulator import Emulator
from tests.fakes.vertex_emulator import ManualClock

PROJECT = "acme-ml"
NUMBER = "123456789012"
REGION = "us-central1"
PARENT = f"projects/{PROJECT}/locations/{REGION}"
NUMBERED = f"projects/{NUMBER}/locations/{REGION}"
STEP = 10.0  # seconds per timetable stage
GOOD: dict[str, Any] = {
    "baseModel": "gemini-3.5-flash",
    "supervisedTuningSpec": {"trainingDatasetUri": "gs://team-data/train.jsonl"},
}


def body(**spec: Any) -> dict[str, Any]:
    """A good create body with `spec` merged into its supervisedTuningSpec."""
    return {**GOOD, "supervisedTuningSpec": {**GOOD["supervisedTuningSpec"], **spec}}


@pytest.fixture
def clock() -> ManualClock:
    """The emulator's clock; jobs move only when a test advances it."""
    return ManualClock()


@pytest.fixture
def emulator(clock: ManualClock) -> Emulator:
    """An emulator that knows `acme-ml` by the number 123456789012."""
    return Emulator(STEP, clock=clock, project_numbers={PROJECT: NUMBER})


@pytest.fixture
async def api(emulator: Emulator) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client calling the emulator's ASGI app in process."""
    transport = httpx.ASGITransport(app=emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://vertex.test") as client:
        yield client


def error_of(response: httpx.Response, code: int) -> dict[str, Any]:
    """The `error` of a Google-shaped error answer, after checking its code."""
    assert response.status_code == code, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = dict(response.json()["error"])
    assert error["code"] == code
    return error
