"""`tuning-bot` as a process in Socket Mode: it opens the socket with the app-level token, acks
envelopes over it, answers users, and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.emulator import EmulatorServer
from tests.conftest import free_port
from tests.fakes.bot_process import start_bot
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.socket_mode import FakeSocketMode


@pytest.fixture
def over_http() -> bool:
    """The bot runs as its own process here: the emulator must listen on a real port."""
    return True


USER = "U0ALICE01"
CHANNEL = "C0TUNING1"


@dataclass
class SocketBot:
    """The bot process and the stand-ins it talks to."""

    process: subprocess.Popen[str]
    url: str
    slack: FakeSlackApi
    socket: FakeSocketMode

    def command(self, text: str, *, trigger: str, reply: str) -> str:
        """`/tune <text>` as Slack delivers it over the socket; returns the envelope id."""
        return self.socket.send_envelope(
            "slash_commands",
            {
                "token": "legacy-verification-token",
                "team_id": "T0000TEST",
                "team_domain": "example",
                "channel_id": CHANNEL,
                "channel_name": "tuning",
                "user_id": USER,
                "user_name": "alice",
                "command": "/tune",
                "text": text,
                "api_app_id": "A0TUNINGBOT",
                "is_enterprise_install": "false",
                "response_url": self.slack.response_url(reply),
                "trigger_id": trigger,
            },
        )

    def replies(self, name: str, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Posts to one response_url, waiting (bounded) for the first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [args for n, args in self.slack.response_url_posts if n == name]
            if found:
                return found
            time.sleep(0.01)
        raise AssertionError(f"nothing posted to response_url {name}")

    def stop(self) -> tuple[int, str]:
        """SIGTERM, then the exit status and stderr (bounded wait)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            _, stderr = self.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, stderr = self.process.communicate(timeout=10)
            raise AssertionError(f"the bot did not stop on SIGTERM\n{stderr}") from None
        return self.process.returncode, stderr


@pytest.fixture
def socket_bot(
    fake_slack: FakeSlackApi, emulator: EmulatorServer, tmp_path: Path
) -> Iterator[SocketBot]:
    """`python -m bot` with SLACK_APP_TOKEN set and no signing secret, up and serving /healthz."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TUNING_"))},
        "SLACK_BOT_TOKEN": fake_slack.bot_token,
        "SLACK_APP_TOKEN": fake_slack.app_token,
        "SLACK_API_URL": fake_slack.base_url,
        "VERTEX_EMULATOR_HOST": emulator.host_port,
        "DATABASE_URL": f"sqlite:///{tmp_path}/bot.db",
        "PORT": str(port),
        "POLL_INTERVAL_SECONDS": "0.5",
    }
    process = start_bot(env, tmp_path)
    bot = SocketBot(process, f"http://127.0.0.1:{port}", fake_slack, fake_slack.socket_mode)
    try:
        yield bot
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=10)


def test_the_bot_connects_with_the_app_token_and_serves_health(socket_bot: SocketBot) -> None:
    socket_bot.socket.wait_connected()
    opens = socket_bot.slack.wait_for("apps.connections.open")
    assert [call.token for call in opens] == [socket_bot.slack.app_token]
    assert len(socket_bot.socket.open_connections()) == 1
    assert httpx.get(f"{socket_bot.url}/healthz").status_code == 200
    assert httpx.get(f"{socket_bot.url}/readyz").status_code == 200
    # Without a signing secret there is no HTTP door for Slack requests.
    assert httpx.post(f"{socket_bot.url}/slack/events", content=b"x").status_code in (404, 405)


@pytest.fixture
def revoked_app_token(fake_slack: FakeSlackApi) -> None:
    """Slack refuses the app-level token, as it does once the token is revoked."""
    fake_slack.fail("apps.connections.open", "invalid_auth", times=10_000)


def test_a_refused_app_token_makes_the_bot_not_ready(
    revoked_app_token: None, socket_bot: SocketBot
) -> None:
    socket_bot.slack.wait_for("apps.connections.open")
    assert httpx.get(f"{socket_bot.url}/healthz").status_code == 200  # the process is alive
    ready = httpx.get(f"{socket_bot.url}/readyz")
    assert ready.status_code == 503
    assert "socket" in ready.text


def test_help_is_acked_over_the_socket_and_reaches_the_user(socket_bot: SocketBot) -> None:
    socket_bot.socket.wait_connected()
    envelope = socket_bot.command("help", trigger="trigger.1", reply="first")
    assert socket_bot.socket.wait_ack(envelope)["envelope_id"] == envelope
    [reply] = socket_bot.replies("first")
    assert reply["response_type"] == "ephemeral"
    assert "/tune" in reply["text"]

    # Once the user's language is known, help travels in the ack itself.
    again = socket_bot.command("help", trigger="trigger.2", reply="second")
    ack = socket_bot.socket.wait_ack(again)
    assert ack["payload"]["response_type"] == "ephemeral"
    assert ack["payload"]["text"] == reply["text"]
    assert ack["payload"]["blocks"] == reply["blocks"]


def test_bare_tune_opens_the_create_modal(socket_bot: SocketBot) -> None:
    socket_bot.socket.wait_connected()
    envelope = socket_bot.command("", trigger="trigger.modal", reply="modal")
    socket_bot.socket.wait_ack(envelope)
    [opened] = socket_bot.slack.wait_for("views.open")
    assert opened.args["trigger_id"] == "trigger.modal"
    assert opened.args["view"]["callback_id"] == "tuning_job_create"
    assert opened.token == socket_bot.slack.bot_token


def test_the_bot_reconnects_when_slack_asks(socket_bot: SocketBot) -> None:
    socket_bot.socket.wait_connected()
    socket_bot.socket.ask_to_reconnect()
    socket_bot.socket.wait_connected(count=2)
    assert len(socket_bot.slack.wait_for("apps.connections.open", count=2)) == 2
    envelope = socket_bot.command("help", trigger="trigger.r", reply="after")
    assert socket_bot.socket.wait_ack(envelope)["envelope_id"] == envelope
    assert socket_bot.replies("after")


def test_sigterm_closes_the_socket_and_exits_cleanly(socket_bot: SocketBot) -> None:
    socket_bot.socket.wait_connected()
    returncode, stderr = socket_bot.stop()
    assert returncode == 0, stderr
    socket_bot.socket.wait_closed_by_app()
    assert "Traceback" not in stderr
    assert socket_bot.slack.bot_token not in stderr
    assert socket_bot.slack.app_token not in stderr
