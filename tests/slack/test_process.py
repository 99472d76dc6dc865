"""`tuning-bot` as a process in HTTP mode: it serves, answers health checks, stops on SIGTERM."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx
import pytest

from bot.emulator import EmulatorServer
from tests.conftest import free_port
from tests.fakes.bot_process import start_bot
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_signing import command_body, sign
from tests.slack.conftest import SECRET


@pytest.fixture
def over_http() -> bool:
    """The bot runs as its own process here: the emulator must listen on a real port."""
    return True


def test_the_bot_serves_slack_and_stops_cleanly(
    fake_slack: FakeSlackApi, emulator: EmulatorServer, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TUNING_"))},
        "SLACK_BOT_TOKEN": fake_slack.bot_token,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake_slack.base_url,
        "VERTEX_EMULATOR_HOST": emulator.host_port,
        "DATABASE_URL": f"sqlite:///{tmp_path}/bot.db",
        "PORT": str(port),
    }
    process = start_bot(env, tmp_path)
    try:
        url = f"http://127.0.0.1:{port}"
        body = command_body("help", response_url=fake_slack.response_url())
        headers = {**sign(SECRET, body), "Content-Type": "application/x-www-form-urlencoded"}
        assert httpx.post(f"{url}/slack/events", content=body, headers=headers).status_code == 200
        assert httpx.get(f"{url}/readyz").status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=20)
    assert process.returncode == 0, stderr
    assert fake_slack.bot_token not in stderr
    assert SECRET not in stderr
    assert "Traceback" not in stderr
