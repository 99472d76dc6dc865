"""google-genai, unchanged but for the endpoint and a static token, drives the emulator.

This is the check that the emulator "answers as Vertex answers": Google's own client parses
every answer, on the v1beta1 surface it calls by default.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from google import genai
from google.genai import errors, types
from google.oauth2 import credentials

from bot.emulator import CANCELLED, CANCELLING, Emulator, EmulatorServer
from tests.fakes.vertex_emulator import ManualClock

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
    """The emulator on a loopback port, checking the bearer token."""
    emulator = Emulator(STEP, clock=clock, require_token=TOKEN, project_numbers={PROJECT: NUMBER})
    with EmulatorServer(emulator) as running:
        yield running


@pytest.fixture
def client(server: EmulatorServer) -> genai.Client:
    """A google-genai Vertex client pointed at the emulator."""
    warnings.filterwarnings("ignore", message=".*experimental.*")
    return genai.Client(
        vertexai=True,
        project=PROJECT,
        location=REGION,
        credentials=credentials.Credentials(token=TOKEN),
        http_options=types.HttpOptions(base_url=server.base_url),
    )


def _tune(client: genai.Client, base_model: str = "gemini-3.5-flash") -> types.TuningJob:
    return client.tunings.tune(
        base_model=base_model,
        training_dataset=types.TuningDataset(gcs_uri="gs://team-data/train.jsonl"),
        config=types.CreateTuningJobConfig(
            epoch_count=3, adapter_size="ADAPTER_SIZE_FOUR", tuned_model_display_name="genai"
        ),
    )


def test_tune_get_list_and_finish(
    client: genai.Client, server: EmulatorServer, clock: ManualClock
) -> None:
    job = _tune(client)
    assert job.name is not None
    assert job.name.startswith(f"projects/{NUMBER}/locations/{REGION}/tuningJobs/")
    assert job.state == types.JobState.JOB_STATE_PENDING

    listed = [j.name for j in client.tunings.list(config=types.ListTuningJobsConfig(page_size=5))]
    assert listed == [job.name]

    clock.advance(2 * STEP)
    done = client.tunings.get(name=job.name)
    assert done.state == types.JobState.JOB_STATE_SUCCEEDED
    assert done.has_ended
    assert done.tuned_model is not None
    assert done.tuned_model.endpoint is not None
    assert done.tuned_model.endpoint.startswith(f"projects/{NUMBER}/locations/us/endpoints/")
    checkpoints = done.tuned_model.checkpoints or []
    assert [c.epoch for c in checkpoints] == [1, 2, 3]
    assert checkpoints[-1].endpoint == done.tuned_model.endpoint
    assert done.experiment is not None
    # google-genai calls v1beta1, and the emulator saw the token on every request.
    assert server.emulator.counts["create"] == 1


def test_cancel(client: genai.Client, clock: ManualClock) -> None:
    job = _tune(client)
    assert job.name is not None
    clock.advance(STEP)
    client.tunings.cancel(name=job.name)
    assert client.tunings.get(name=job.name).state.value == CANCELLING
    clock.advance(STEP)
    cancelled = client.tunings.get(name=job.name)
    assert cancelled.state.value == CANCELLED
    assert cancelled.error is not None
    assert cancelled.error.code == 1


def test_continuous_tuning_of_a_tuned_model(client: genai.Client, clock: ManualClock) -> None:
    first = _tune(client)
    assert first.name is not None
    clock.advance(2 * STEP)
    tuned = client.tunings.get(name=first.name).tuned_model
    assert tuned is not None
    assert tuned.model is not None
    again = _tune(client, base_model=tuned.model)
    assert again.pre_tuned_model is not None
    assert again.pre_tuned_model.tuned_model_name == tuned.model
    assert again.pre_tuned_model.base_model == "gemini-3.5-flash"


def test_a_wrong_token_is_refused(server: EmulatorServer) -> None:
    client = genai.Client(
        vertexai=True,
        project=PROJECT,
        location=REGION,
        credentials=credentials.Credentials(token="wrong"),
        http_options=types.HttpOptions(base_url=server.base_url),
    )
    with pytest.raises(errors.ClientError) as caught:
        client.tunings.get(name=f"projects/{PROJECT}/locations/{REGION}/tuningJobs/1")
    assert caught.value.code == 401
