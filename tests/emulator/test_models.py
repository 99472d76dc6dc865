"""The emulator keeps its own model table and imports nothing else of the bot."""

from __future__ import annotations

import ast
import datetime as dt
import tomllib
from pathlib import Path

import httpx
import pytest

from bot.emulator.models import default_table
from tests.emulator.conftest import GOOD, error_of

PACKAGE = Path(__file__).parents[2] / "bot" / "emulator"


def test_the_package_imports_nothing_of_the_bot_but_itself() -> None:
    for source in PACKAGE.glob("*.py"):
        tree = ast.parse(source.read_text("utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name == "bot" or name.startswith("bot."):
                    assert name.startswith("bot.emulator"), f"{source.name} imports {name}"


def test_models_yaml_is_package_data() -> None:
    pyproject = tomllib.loads((PACKAGE.parents[1] / "pyproject.toml").read_text("utf-8"))
    assert "emulator/*.yaml" in pyproject["tool"]["setuptools"]["package-data"]["bot"]


def test_the_table_holds_the_reference_facts() -> None:
    table = default_table()
    flash = table.get("gemini-3.5-flash")
    assert flash is not None
    assert flash.adapter_sizes == {1, 2, 4, 8, 16}
    assert flash.regions == {"us-central1", "europe-west4"}
    assert table.serving_location("gemini-3.5-flash", "europe-west4") == "eu"
    assert table.serving_location("gemini-2.5-pro", "asia-northeast1") == "asia-northeast1"
    pro = table.get("gemini-2.5-pro")
    assert pro is not None
    assert pro.adapter_sizes == {1, 2, 4, 8}
    assert pro.accepted_on(dt.date(2026, 10, 19))
    assert not pro.accepted_on(dt.date(2026, 10, 20))
    for retired in ("gemini-1.5-flash-002", "gemini-1.0-pro-002", "gemini-2.0-flash-001"):
        rule = table.get(retired)
        assert rule is not None
        assert not rule.accepted_on(dt.date(2020, 1, 1))


@pytest.mark.parametrize(
    ("region", "model", "message"),
    [
        ("europe-west4", "gemini-3.1-flash-lite", None),
        ("asia-northeast1", "gemini-3.5-flash", "not supported in region"),
        ("us-central1", "gemini-2.0-flash-lite-001", "is not supported"),
        ("us-central1", "gemini-9", "is not supported"),
    ],
)
async def test_creates_follow_the_table(
    api: httpx.AsyncClient, region: str, model: str, message: str | None
) -> None:
    response = await api.post(
        f"/v1/projects/acme-ml/locations/{region}/tuningJobs", json={**GOOD, "baseModel": model}
    )
    if message is None:
        assert response.status_code == 200, response.text
    else:
        assert message in error_of(response, 400)["message"]
