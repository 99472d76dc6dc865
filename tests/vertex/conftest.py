"""Fixtures for the Vertex client and emulator tests: a running emulator and clients for it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from bot.emulator import EmulatorServer
from bot.tuning.spec import TuningJobSpec
from bot.vertex.client import TuningClient
from tests.fakes.vertex_emulator import RecordedSleeps, client_for, fast_retry, running_emulator


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    """An emulator whose jobs stay put unless a test moves them (an hour per state)."""
    with running_emulator(seconds_per_state=3600) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """A plain httpx client, closed after the test."""
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def sleeps() -> RecordedSleeps:
    """The delays the client's retry policy asked to sleep."""
    return RecordedSleeps()


@pytest.fixture
def client(server: EmulatorServer, http: httpx.AsyncClient, sleeps: RecordedSleeps) -> TuningClient:
    """A TuningClient against the emulator, retrying without waiting."""
    return client_for(server, http, retry=fast_retry(sleeps=sleeps), timeout=2.0)


@pytest.fixture
def spec() -> TuningJobSpec:
    """A spec Google accepts in us-central1."""
    return TuningJobSpec(
        base_model="gemini-3.5-flash",
        training_dataset_uri="gs://team-data/train.jsonl",
        epochs=3,
        adapter_size=4,
        display_name="support-bot",
    )
