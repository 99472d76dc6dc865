"""A whole run of `python -m bot` at DEBUG: every line it writes is a JSON event, each command
leaves its who/what/outcome/latency, and no secret appears anywhere in what it wrote."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.emulator import EmulatorServer
from tests.conftest import free_port
from tests.fakes.bot_process import start_bot
from tests.fakes.gcs import FakeGcs
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_signing import command_body, interaction_body, sign
from tests.slack.conftest import CHANNEL, PROJECT, REGION
from tests.slack.test_create_modal import submission

# Distinctive values, so that any appearance in the output is certainly a leak.
BOT_TOKEN = "xoxb-fake-hardening-bot-token-ZZZ"
SIGNING_SECRET = "hardening-signing-secret-5f1c9a7e3b2d4c6e"
ADMIN = "U0ADMIN01"
USER = "U0ALICE01"
LEAK_PATTERNS = [
    re.escape(BOT_TOKEN),
    re.escape(SIGNING_SECRET),
    r"HardeningB0tT0ken",
    r"xoxb-",
    r"xapp-",
    r"ya29\.",
    r"(?i)bearer\s+\S",
    r"v0=[0-9a-f]{64}",  # a request signature
]
COMMAND_FIELDS = ("command", "user", "outcome", "latency_ms")


@pytest.fixture
def over_http() -> bool:
    """The bot runs as a subprocess here: the emulator must listen on a real port."""
    return True


@pytest.fixture
def seconds_per_state() -> float:
    """Jobs move on quickly, so the watcher sees the created one end during the run."""
    return 0.3


@pytest.fixture
def slack() -> Iterator[FakeSlackApi]:
    server = FakeSlackApi(bot_token=BOT_TOKEN).start()
    yield server
    server.stop()


def _wait(predicate: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


class Process:
    """`python -m bot` in HTTP mode, and a way to send it signed Slack requests."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.port = int(env["PORT"])
        self.url = f"http://127.0.0.1:{self.port}"
        self.popen = start_bot(env, cwd)
        self.http = httpx.Client(timeout=10)

    def post(self, body: bytes) -> httpx.Response:
        headers = {
            **sign(SIGNING_SECRET, body),
            "Content-Type": "application/x-www-form-urlencoded",
        }
        return self.http.post(f"{self.url}/slack/events", content=body, headers=headers)

    def stop(self) -> tuple[str, str]:
        self.http.close()
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            return self.popen.communicate()


def test_a_full_run_writes_json_events_and_no_secret(
    slack: FakeSlackApi, emulator: EmulatorServer, gcs: FakeGcs, tmp_path: Path
) -> None:
    env = {
        **{
            k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TUNING_", "GOOGLE"))
        },
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.base_url,
        "GOOGLE_CLOUD_PROJECT": PROJECT,
        "TUNING_REGION": REGION,
        "VERTEX_EMULATOR_HOST": emulator.host_port,
        "STORAGE_EMULATOR_HOST": gcs.base_url,
        "DATABASE_URL": f"sqlite:///{tmp_path}/bot.db",
        "TUNING_ADMINS": ADMIN,
        "POLL_INTERVAL_SECONDS": "0.2",
        "LOG_LEVEL": "DEBUG",
        "PORT": str(free_port()),
    }
    bot = Process(env, tmp_path)
    try:
        _drive(bot, slack, emulator)
    finally:
        stdout, stderr = bot.stop()
    output = stdout + stderr
    assert bot.popen.returncode == 0, stderr[-2000:]
    for pattern in LEAK_PATTERNS:
        match = re.search(pattern, output)
        assert match is None, (
            f"{pattern!r} in the output: …{output[max(0, match.start() - 200) : match.end() + 50]}"
        )
    events = _json_lines(output)
    commands = [e for e in events if e["event"] == "command"]
    for event in commands:
        for name in COMMAND_FIELDS:
            assert name in event, (name, event)
        assert isinstance(event["latency_ms"], float), event
        assert event["user"] in (USER, ADMIN), event
    seen = {(e["command"], e["outcome"]) for e in commands}
    for expected in [
        ("tune.help", "ok"),
        ("tune.list", "ok"),
        ("tune.create", "ok"),
        ("modal.create", "ok"),
        ("tune.cancel", "ok"),
        ("tune.watch", "ok"),
    ]:
        assert expected in seen, (expected, seen)


def _drive(bot: Process, slack: FakeSlackApi, emulator: EmulatorServer) -> None:
    """help, list, open the form, submit it, cancel and watch; then the watcher's ending."""
    trigger = iter(range(1, 100))

    def command(text: str, reply: str, user: str = USER) -> None:
        body = command_body(
            text,
            user_id=user,
            channel_id=CHANNEL,
            trigger_id=f"trigger.{next(trigger)}",
            response_url=slack.response_url(reply),
        )
        assert bot.post(body).status_code == 200

    def replies(name: str) -> list[dict[str, Any]]:
        _wait(lambda: any(n == name for n, _ in slack.response_url_posts), f"no reply {name}")
        return [a for n, a in slack.response_url_posts if n == name]

    command("help", "help")
    replies("help")
    command("list", "list")
    replies("list")
    command("", "open")
    slack.wait_for("views.open")
    payload = {"trigger_id": f"trigger.{next(trigger)}", **submission(view_id="V0LOGS001")}
    answer = bot.post(interaction_body(payload))
    assert answer.json()["response_action"] == "update"
    slack.wait_for("chat.postMessage", 1)
    running = emulator.emulator.add_job(PROJECT, REGION, state="JOB_STATE_RUNNING")
    command(f"cancel {running}", "cancel", user=ADMIN)
    replies("cancel")
    other = emulator.emulator.add_job(PROJECT, REGION, state="JOB_STATE_RUNNING")
    command(f"watch {other}", "watch")
    replies("watch")
    # The created job ends within a few seconds; its ending is a reply in the card's thread.
    _wait(
        lambda: any(c.args.get("thread_ts") for c in slack.calls_to("chat.postMessage")),
        "the watcher did not announce an ending",
        timeout=60.0,  # a loaded machine: the bot is a separate process polling on its own
    )


def _json_lines(output: str) -> list[dict[str, Any]]:
    events = []
    for line in output.splitlines():
        if not line.strip():
            continue
        event = json.loads(line)  # every line the process writes is one JSON object
        assert isinstance(event, dict), line
        assert isinstance(event.get("event"), str), line
        assert {"time", "level", "logger"} <= set(event), line
        events.append(event)
    assert events
    return events


APP_TOKEN = "xapp-1-hardening-app-token-QQQ"


@pytest.mark.parametrize("token", [BOT_TOKEN, "xoxb-refused-hardening-token-YYY"])
def test_the_doctor_prints_no_secret(
    slack: FakeSlackApi, emulator: EmulatorServer, gcs: FakeGcs, tmp_path: Path, token: str
) -> None:
    # `tuning-bot doctor` as an installer runs it, once working and once with a refused token
    # and an unreadable bucket: neither report may quote a token or the signing secret.
    gcs.forbid_bucket("team-data")
    env = {
        **{
            k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TUNING_", "GOOGLE"))
        },
        "SLACK_BOT_TOKEN": token,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.base_url,
        "GOOGLE_CLOUD_PROJECT": PROJECT,
        "VERTEX_EMULATOR_HOST": emulator.host_port,
        "STORAGE_EMULATOR_HOST": gcs.base_url,
        "DATABASE_URL": f"sqlite:///{tmp_path}/bot.db",
        "TUNING_ALLOWED_BUCKETS": "gs://team-data",
        "LOG_LEVEL": "DEBUG",
    }
    manifest = Path(__file__).resolve().parents[2] / "manifest.yaml"
    done = subprocess.run(
        [sys.executable, "-m", "bot", "doctor", "--manifest", str(manifest)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "✗" in done.stdout
    assert "Traceback" not in done.stderr
    # The fixes name the prefixes (`xoxb-…`, `xapp-`) on purpose: a token is a prefix with more.
    prefixes = {"xoxb-", "xapp-"}
    patterns = [p for p in LEAK_PATTERNS if p not in prefixes]
    patterns += [r"xoxb-[A-Za-z0-9]", r"xapp-[A-Za-z0-9]", re.escape(APP_TOKEN), re.escape(token)]
    for pattern in patterns:
        assert not re.search(pattern, done.stdout + done.stderr), pattern
