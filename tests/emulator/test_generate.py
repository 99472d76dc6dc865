"""generateContent of tuned endpoints, their checkpoints and publisher base models."""

from __future__ import annotations

import warnings
from typing import Any

import httpx
import pytest
from google import genai
from google.genai import types
from google.oauth2 import credentials

from bot.emulator import SUCCEEDED, Emulator, EmulatorServer
from tests.emulator.conftest import NUMBER, PROJECT, REGION, error_of
from tests.vertex.discovery import validate

ASK: dict[str, Any] = {"contents": [{"role": "user", "parts": [{"text": "hello there"}]}]}
RESPONSE = "GoogleCloudAiplatformV1GenerateContentResponse"


def _succeeded(emulator: Emulator, **options: Any) -> dict[str, Any]:
    name = emulator.add_job(PROJECT, REGION, state=SUCCEEDED, **options)
    return dict(emulator.get(name)["tunedModel"])


async def test_tuned_endpoint_answers_in_googles_shape(
    emulator: Emulator, api: httpx.AsyncClient
) -> None:
    tuned = _succeeded(emulator)
    answer = await api.post(f"/v1/{tuned['endpoint']}:generateContent", json=ASK)
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert validate(data, RESPONSE) == []
    assert data["candidates"][0]["finishReason"] == "STOP"
    assert "hello there" in data["candidates"][0]["content"]["parts"][0]["text"]
    usage = data["usageMetadata"]
    assert usage["totalTokenCount"] == usage["promptTokenCount"] + usage["candidatesTokenCount"]


async def test_base_and_tuned_answers_differ(emulator: Emulator, api: httpx.AsyncClient) -> None:
    tuned = _succeeded(emulator)
    base_path = f"/v1/projects/{PROJECT}/locations/{REGION}/publishers/google/models/"
    base = await api.post(f"{base_path}gemini-2.5-flash:generateContent", json=ASK)
    mine = await api.post(f"/v1/{tuned['endpoint']}:generateContent", json=ASK)
    assert base.status_code == 200
    assert validate(base.json(), RESPONSE) == []
    text = base.json()["candidates"][0]["content"]["parts"][0]["text"]
    assert text != mine.json()["candidates"][0]["content"]["parts"][0]["text"]


async def test_checkpoint_endpoints_answer(emulator: Emulator, api: httpx.AsyncClient) -> None:
    tuned = _succeeded(emulator)
    first = tuned["checkpoints"][0]["endpoint"]
    assert first != tuned["endpoint"]
    assert (await api.post(f"/v1/{first}:generateContent", json=ASK)).status_code == 200


async def test_unknown_endpoint_and_model_are_404(api: httpx.AsyncClient) -> None:
    where = f"projects/{NUMBER}/locations/{REGION}"
    error_of(await api.post(f"/v1/{where}/endpoints/42:generateContent", json=ASK), 404)
    missing = f"/v1/{where}/publishers/google/models/nope:generateContent"
    error_of(await api.post(missing, json=ASK), 404)


async def test_request_without_contents_is_refused(
    emulator: Emulator, api: httpx.AsyncClient
) -> None:
    tuned = _succeeded(emulator)
    answer = await api.post(f"/v1/{tuned['endpoint']}:generateContent", json={})
    assert error_of(answer, 400)["status"] == "INVALID_ARGUMENT"


async def test_max_output_tokens_cuts_the_answer(
    emulator: Emulator, api: httpx.AsyncClient
) -> None:
    tuned = _succeeded(emulator)
    ask = {**ASK, "generationConfig": {"maxOutputTokens": 2, "temperature": 0.2}}
    data = (await api.post(f"/v1/{tuned['endpoint']}:generateContent", json=ask)).json()
    assert data["candidates"][0]["finishReason"] == "MAX_TOKENS"
    assert data["usageMetadata"]["candidatesTokenCount"] == 2


@pytest.mark.parametrize("status", [404, 400, 429, 403])
async def test_faults_on_one_side_only(
    emulator: Emulator, api: httpx.AsyncClient, status: int
) -> None:
    tuned = _succeeded(emulator)
    emulator.inject("generate_tuned", status)
    error_of(await api.post(f"/v1/{tuned['endpoint']}:generateContent", json=ASK), status)
    base_path = f"/v1/projects/{PROJECT}/locations/{REGION}/publishers/google/models/"
    base = await api.post(f"{base_path}gemini-2.5-flash:generateContent", json=ASK)
    assert base.status_code == 200


async def test_safety_blocks(emulator: Emulator, api: httpx.AsyncClient) -> None:
    tuned = _succeeded(emulator)
    url = f"/v1/{tuned['endpoint']}:generateContent"
    emulator.inject("generate_tuned", 200, block_reason="SAFETY")
    emulator.inject("generate_tuned", 200, finish_reason="SAFETY")
    blocked = (await api.post(url, json=ASK)).json()
    assert validate(blocked, RESPONSE) == []
    assert blocked["promptFeedback"]["blockReason"] == "SAFETY"
    assert "candidates" not in blocked
    stopped = (await api.post(url, json=ASK)).json()
    assert validate(stopped, RESPONSE) == []
    assert stopped["candidates"][0]["finishReason"] == "SAFETY"
    assert "content" not in stopped["candidates"][0]


def test_google_genai_reads_both_answers(emulator: Emulator) -> None:
    tuned = _succeeded(emulator)
    warnings.filterwarnings("ignore", message=".*experimental.*")
    with EmulatorServer(emulator) as server:
        client = genai.Client(
            vertexai=True,
            project=PROJECT,
            location=REGION,
            credentials=credentials.Credentials(token="t"),
            http_options=types.HttpOptions(base_url=server.base_url),
        )
        mine = client.models.generate_content(model=tuned["endpoint"], contents="hello there")
        base = client.models.generate_content(model="gemini-2.5-flash", contents="hello there")
    assert mine.text
    assert "tuned" in mine.text
    assert base.text
    assert "base" in base.text
    assert mine.usage_metadata is not None
    assert mine.usage_metadata.total_token_count
    assert base.candidates
    assert base.candidates[0].finish_reason == types.FinishReason.STOP
