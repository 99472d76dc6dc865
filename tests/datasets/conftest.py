"""Fixtures for the dataset pre-flight: the Cloud Storage stand-in and dataset files."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from bot.datasets import DatasetOpener
from bot.tuning.catalogue import ModelInfo, default_catalogue
from tests.fakes.gcs import FakeGcs


def gemini_example(question: str = "What is 2 + 2?", answer: str = "4") -> dict[str, Any]:
    """A valid Gemini-format example."""
    return {
        "systemInstruction": {"role": "system", "parts": [{"text": "Answer briefly."}]},
        "contents": [
            {"role": "user", "parts": [{"text": question}]},
            {"role": "model", "parts": [{"text": answer}]},
        ],
    }


def legacy_example() -> dict[str, Any]:
    """A valid example in the gemini-1.0-pro-002 `messages` format."""
    return {
        "messages": [
            {"role": "system", "content": "Answer briefly."},
            {"role": "user", "content": "What is 2 + 2?"},
            {"role": "model", "content": "4"},
        ]
    }


def jsonl(*examples: Any) -> bytes:
    """Examples as JSONL bytes, one per line, newline-terminated."""
    return b"".join(json.dumps(e, ensure_ascii=False).encode() + b"\n" for e in examples)


def model(model_id: str) -> ModelInfo:
    """A model from the shipped catalogue."""
    found = default_catalogue().get(model_id)
    assert found is not None
    return found


class StaticToken:
    """A headers provider such as the bot's Google auth, with a fixed token."""

    def __init__(self, token: str = "ya29.test-token") -> None:
        self.token = token

    async def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def fake_gcs() -> Iterator[FakeGcs]:
    """A running Cloud Storage JSON API stand-in."""
    server = FakeGcs().start()
    yield server
    server.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """The shared HTTP client, as the bot makes one."""
    async with httpx.AsyncClient(timeout=httpx.Timeout(10.0)) as client:
        yield client


@pytest.fixture
def opener(fake_gcs: FakeGcs, http: httpx.AsyncClient) -> DatasetOpener:
    """An opener reading from the stand-in with a bearer token."""
    return DatasetOpener(http, StaticToken(), fake_gcs.base_url)
