"""`tuning-bot --with-emulator`: the bot with the Vertex emulator inside its own process, for
trying every feature with a Slack workspace and no Google Cloud project."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.app.doctor import main as doctor
from tests.conftest import free_port
from tests.fakes.bot_process import start_bot
from tests.fakes.gcs import FakeGcs
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_signing import command_body, interaction_body, sign
from tests.slack.conftest import CHANNEL, SECRET
from tests.slack.test_create_modal import submission


def _wait(predicate: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def _environment(fake_slack: FakeSlackApi, gcs: FakeGcs, tmp_path: Path) -> dict[str, str]:
    """No Google project, no emulator host, no Google credentials: only Slack and a dataset."""
    kept = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "TUNING_", "GOOGLE", "VERTEX_", "STORAGE_"))
    }
    return {
        **kept,
        "SLACK_BOT_TOKEN": fake_slack.bot_token,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake_slack.base_url,
        "STORAGE_EMULATOR_HOST": gcs.base_url,
        "DATABASE_URL": f"sqlite:///{tmp_path}/bot.db",
        "PORT": str(free_port()),
    }


class Bot:
    """The bot process and signed `/tune` commands to it."""

    def __init__(self, process: subprocess.Popen[str], port: int, slack: FakeSlackApi) -> None:
        self.process = process
        self.url = f"http://127.0.0.1:{port}"
        self.slack = slack
        self._triggers = iter(range(1, 1000))

    def post(self, body: bytes) -> httpx.Response:
        headers = {**sign(SECRET, body), "Content-Type": "application/x-www-form-urlencoded"}
        return httpx.post(f"{self.url}/slack/events", content=body, headers=headers, timeout=10)

    def command(self, text: str, reply: str) -> dict[str, Any]:
        body = command_body(
            text,
            channel_id=CHANNEL,
            trigger_id=f"trigger.{next(self._triggers)}",
            response_url=self.slack.response_url(reply),
        )
        assert self.post(body).status_code == 200
        _wait(lambda: any(n == reply for n, _ in self.slack.response_url_posts), f"no {reply}")
        return next(a for n, a in self.slack.response_url_posts if n == reply)

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        _, stderr = self.process.communicate(timeout=20)
        return stderr


@pytest.fixture(params=["option", "variable"])
def bot(
    request: pytest.FixtureRequest, fake_slack: FakeSlackApi, gcs: FakeGcs, tmp_path: Path
) -> Iterator[Bot]:
    """`tuning-bot --with-emulator`, or `tuning-bot` with TUNING_WITH_EMULATOR=1."""
    env = _environment(fake_slack, gcs, tmp_path)
    args: list[str] = []
    if request.param == "option":
        args = ["--with-emulator"]
    else:
        env["TUNING_WITH_EMULATOR"] = "1"
    process = start_bot(env, tmp_path, args=args)
    running = Bot(process, int(env["PORT"]), fake_slack)
    yield running
    stderr = running.stop()
    assert running.process.returncode == 0, stderr
    assert "Traceback" not in stderr


def _text(reply: dict[str, Any]) -> str:
    return str(reply.get("text", "")) + json.dumps(reply.get("blocks", []))


def test_the_bot_serves_with_the_built_in_emulator(bot: Bot) -> None:
    assert httpx.get(f"{bot.url}/readyz", timeout=10).status_code == 200
    empty = bot.command("list all", "empty")
    assert "No tuning jobs in this project and region yet" in _text(empty)
    # A job created from the form lives in the emulator and shows in the list.
    payload = {"trigger_id": "trigger.form", **submission(view_id="V0TRYIT01")}
    answer = bot.post(interaction_body(payload))
    assert answer.status_code == 200
    card = bot.slack.wait_for("chat.postMessage", 1)[0]
    assert card.args["channel"] == CHANNEL
    listed = bot.command("list all", "listed")
    assert "No tuning jobs" not in _text(listed)
    assert "`gemini-3.5-flash`" in _text(listed)


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("how", ["option", "variable"])
def test_it_is_refused_when_a_google_project_is_set(
    how: str, fake_slack: FakeSlackApi, gcs: FakeGcs, tmp_path: Path
) -> None:
    env = {**_environment(fake_slack, gcs, tmp_path), "GOOGLE_CLOUD_PROJECT": "acme-ml"}
    args = ["--with-emulator"] if how == "option" else []
    if how == "variable":
        env["TUNING_WITH_EMULATOR"] = "1"
    result = _run(args, env, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("tuning-bot: TUNING_WITH_EMULATOR: refused: GOOGLE_CLOUD_PROJECT")
    assert fake_slack.calls == []  # nothing started


def test_it_is_off_unless_asked_for(fake_slack: FakeSlackApi, gcs: FakeGcs, tmp_path: Path) -> None:
    # Without a project and without the option, the bot still asks for a project.
    result = _run([], _environment(fake_slack, gcs, tmp_path), tmp_path)
    assert result.returncode == 2
    assert "GOOGLE_CLOUD_PROJECT: missing" in result.stderr


def test_the_doctor_says_the_built_in_emulator_is_on(
    fake_slack: FakeSlackApi, gcs: FakeGcs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {**_environment(fake_slack, gcs, tmp_path), "TUNING_WITH_EMULATOR": "1"}
    status = doctor(["--lang", "en"], env, dotenv=None)
    out = capsys.readouterr().out
    assert status == 0, out
    assert "! The built-in Vertex AI emulator is on" in out
    assert "✓ Vertex AI tuning: the built-in emulator answers (project emulator-project" in out
    assert "✓ Google credentials: not needed, the built-in emulator answers" in out


def test_the_doctor_refuses_it_beside_a_google_project(
    fake_slack: FakeSlackApi, gcs: FakeGcs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {**_environment(fake_slack, gcs, tmp_path), "GOOGLE_CLOUD_PROJECT": "acme-ml"}
    status = doctor(["--with-emulator"], env, dotenv=None)
    out = capsys.readouterr().out
    assert status == 1
    assert "✗ Settings: TUNING_WITH_EMULATOR: refused" in out
