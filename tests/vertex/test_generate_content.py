"""TuningClient.generate_content against the emulator: answers, hosts and errors."""

from __future__ import annotations

import httpx
import pytest

from bot.emulator import SUCCEEDED, EmulatorServer
from bot.tuning.trying import Prompt, base_model_path
from bot.vertex.auth import NoAuth
from bot.vertex.client import TuningClient, regional_base_url
from bot.vertex.errors import NotFound, PermissionDenied, QuotaExceeded
from tests.fakes.vertex_emulator import fast_retry
from tests.vertex.discovery import validate

PROJECT = "emulator-project"
REGION = "us-central1"


def _endpoint(server: EmulatorServer) -> str:
    name = server.emulator.add_job(PROJECT, REGION, state=SUCCEEDED)
    return str(server.emulator.get(name)["tunedModel"]["endpoint"])


async def test_tuned_answer_with_settings(server: EmulatorServer, client: TuningClient) -> None:
    prompt = Prompt("say hi", system_instruction="be brief", temperature=0.3, max_output_tokens=50)
    answer = await client.generate_content(_endpoint(server), prompt)
    assert "say hi" in answer.text
    assert "tuned" in answer.text
    assert answer.finish_reason == "STOP"
    assert not answer.stopped_early
    assert answer.total_tokens == (answer.prompt_tokens or 0) + (answer.answer_tokens or 0)
    sent = server.emulator.received[-1][2]
    assert validate(sent, "GoogleCloudAiplatformV1GenerateContentRequest", request=True) == []
    assert sent["generationConfig"] == {"temperature": 0.3, "maxOutputTokens": 50}


async def test_base_model_answer(server: EmulatorServer, client: TuningClient) -> None:
    target = base_model_path(PROJECT, REGION, "gemini-2.5-flash")
    answer = await client.generate_content(target, Prompt("say hi"))
    assert "base" in answer.text


async def test_safety_block_is_an_answer(server: EmulatorServer, client: TuningClient) -> None:
    endpoint = _endpoint(server)
    server.emulator.inject("generate_tuned", 200, block_reason="PROHIBITED_CONTENT")
    answer = await client.generate_content(endpoint, Prompt("x"))
    assert answer.block_reason == "PROHIBITED_CONTENT"
    assert answer.text == ""
    assert answer.stopped_early


@pytest.mark.parametrize(
    ("status", "error"), [(404, NotFound), (403, PermissionDenied), (429, QuotaExceeded)]
)
async def test_errors_are_googles_types(
    server: EmulatorServer, client: TuningClient, status: int, error: type[Exception]
) -> None:
    endpoint = _endpoint(server)
    server.emulator.inject("generate_tuned", status, times=10)
    with pytest.raises(error):
        await client.generate_content(endpoint, Prompt("x"))


@pytest.mark.parametrize(
    ("target", "host"),
    [
        ("projects/p/locations/us/endpoints/1", "aiplatform.us.rep.googleapis.com"),
        ("projects/p/locations/eu/endpoints/1", "aiplatform.eu.rep.googleapis.com"),
        ("projects/p/locations/europe-west4/endpoints/1", "europe-west4-aiplatform.googleapis.com"),
        (base_model_path("p", "global", "gemini-3.5-flash"), "aiplatform.googleapis.com"),
    ],
)
async def test_host_per_location(target: str, host: str) -> None:
    seen: list[httpx.URL] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, json={"candidates": []})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        client = TuningClient(http, auth=NoAuth(), retry=fast_retry())
        await client.generate_content(target, Prompt("x"))
    assert seen[0].host == host
    assert seen[0].path == f"/v1/{target}:generateContent"
    assert regional_base_url("us").endswith(".rep.googleapis.com")
