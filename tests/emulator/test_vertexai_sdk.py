"""vertexai.tuning.sft (google-cloud-aiplatform) drives the emulator over its REST transport.

It is the client that sends enums as numbers (`"adapterSize": 2`), calls v1beta1 for tuning
jobs, and reads the job's experiment context on every `refresh()` once it has started. The
package is a test dependency; the imports are guarded only so that a trimmed environment
without it still runs the rest of the suite.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from bot.emulator import Emulator, EmulatorServer
from tests.fakes.vertex_emulator import ManualClock

vertexai = pytest.importorskip("vertexai")
sft: Any = pytest.importorskip("vertexai.tuning.sft")
credentials: Any = pytest.importorskip("google.oauth2.credentials")

PROJECT = "acme-ml"
NUMBER = "123456789012"
REGION = "us-central1"
TOKEN = "static-token"
STEP = 10.0


@pytest.fixture
def clock() -> ManualClock:
    """The emulator's clock."""
    return ManualClock()


@pytest.fixture
def server(clock: ManualClock) -> Iterator[EmulatorServer]:
    """The emulator on a loopback port, with vertexai initialised to call it."""
    emulator = Emulator(STEP, clock=clock, require_token=TOKEN, project_numbers={PROJECT: NUMBER})
    with EmulatorServer(emulator) as running:
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", category=UserWarning)
        vertexai.init(
            project=PROJECT,
            location=REGION,
            api_transport="rest",
            api_endpoint=running.base_url,
            credentials=credentials.Credentials(token=TOKEN),
        )
        yield running


def test_train_refresh_list_and_cancel(server: EmulatorServer, clock: ManualClock) -> None:
    job = sft.train(
        source_model="gemini-3.5-flash",
        train_dataset="gs://team-data/train.jsonl",
        epochs=2,
        adapter_size=4,
        tuned_model_display_name="vertexai",
    )
    assert job.resource_name.startswith(f"projects/{NUMBER}/locations/{REGION}/tuningJobs/")
    assert not job.has_ended
    sent = [body for method, _, body in server.emulator.received if method == "create"]
    assert sent[0]["supervisedTuningSpec"]["hyperParameters"]["adapterSize"] == 2  # a number

    clock.advance(STEP)
    job.refresh()  # running: the SDK now reads the experiment context too
    assert server.emulator.counts["experiment"] >= 1
    assert [j.resource_name for j in sft.SupervisedTuningJob.list()] == [job.resource_name]

    clock.advance(STEP)
    job.refresh()
    assert job.has_ended
    assert job.tuned_model_endpoint_name.startswith(f"projects/{NUMBER}/locations/us/")

    other = sft.train(source_model="gemini-3.5-flash", train_dataset="gs://team-data/train.jsonl")
    other.cancel()
    clock.advance(STEP)
    other.refresh()
    assert other.has_ended
    assert server.emulator.jobs()[0]["state"] == "JOB_STATE_CANCELLED"
