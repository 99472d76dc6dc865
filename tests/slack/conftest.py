"""The bot in HTTP mode on a loopback port, with the Slack and Vertex stand-ins behind it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import count
from typing import Any

import httpx
import pytest
import uvicorn

from bot.app.server import Runtime, build_http_app
from bot.config import load_settings
from bot.emulator import Emulator, EmulatorServer
from bot.watch.store import SqlWatchStore
from tests.conftest import free_port
from tests.fakes.gcs import FakeGcs
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_signing import command_body, interaction_body, sign

SECRET = "test-signing-secret-0123456789"
PROJECT = "test-project"
REGION = "us-central1"
ADMIN = "U0ADMIN01"
CHANNEL = "C0TUNING1"


@dataclass
class BotUnderTest:
    """A running bot and the handles a test needs to drive it and look at what it did."""

    url: str
    slack: FakeSlackApi
    emulator: Emulator
    store: SqlWatchStore
    http: httpx.Client
    runtime: Runtime  # the bot's own objects, for tests that tune its timings
    stop: Callable[[], None]  # shut the bot down as SIGTERM does (graceful, lifespan end)
    _triggers: Iterator[int] = field(default_factory=lambda: count(1))

    def post(self, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        """POST to /slack/events with Slack's signature (unless headers are given)."""
        headers = sign(SECRET, body) if headers is None else headers
        headers = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
        return self.http.post(f"{self.url}/slack/events", content=body, headers=headers)

    def command(
        self, text: str, *, user: str = "U0ALICE01", channel: str = CHANNEL, reply: str = "r1"
    ) -> httpx.Response:
        """`/tune <text>` as Slack sends it."""
        body = command_body(
            text,
            user_id=user,
            channel_id=channel,
            trigger_id=f"trigger.{next(self._triggers)}",
            response_url=self.slack.response_url(reply),
        )
        return self.post(body)

    def interact(self, payload: dict[str, Any]) -> httpx.Response:
        """An interactivity payload with a fresh trigger id."""
        payload = {"trigger_id": f"trigger.i{next(self._triggers)}", **payload}
        return self.post(interaction_body(payload))

    def replies(
        self, name: str = "r1", count: int = 1, timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        """Wait for `count` posts to a response_url and return them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [args for n, args in self.slack.response_url_posts if n == name]
            if len(found) >= count:
                return found
            time.sleep(0.01)
        raise AssertionError(f"{len(found)} replies to {name}, expected {count}")

    def job_name(self, job_id: str) -> str:
        """Full resource name of a job in the default location."""
        return f"projects/{PROJECT}/locations/{REGION}/tuningJobs/{job_id}"


def serve(app: Any) -> tuple[uvicorn.Server, threading.Thread, int]:
    """Run an ASGI app with uvicorn in a thread on a free loopback port."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", log_config=None
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("bot did not start")
        time.sleep(0.01)
    return server, thread, port


@pytest.fixture
def env_extra() -> dict[str, str]:
    """Settings a test adds to the defaults (override in a module or test)."""
    return {}


GOOD_EXAMPLE = {
    "contents": [
        {"role": "user", "parts": [{"text": "How do I reset my password?"}]},
        {"role": "model", "parts": [{"text": "Open Settings, then Security, then Reset."}]},
    ]
}


def jsonl(lines: int, example: dict[str, Any] = GOOD_EXAMPLE) -> bytes:
    """A dataset file of `lines` copies of one example."""
    return ("\n".join(json.dumps(example) for _ in range(lines)) + "\n").encode()


@pytest.fixture
def gcs() -> Iterator[FakeGcs]:
    """Cloud Storage with good training and validation files in gs://team-data/."""
    server = FakeGcs().start()
    for name in ("train.jsonl", "val.jsonl", "typed.jsonl"):
        server.put("team-data", name, jsonl(120))
    yield server
    server.stop()


@pytest.fixture
def seconds_per_state() -> float:
    """How long emulated jobs stay in each state; by default they stay queued all test long."""
    return 3600.0


@pytest.fixture
def run_watcher() -> bool:
    """Whether the watcher polls beside the Slack surface (off unless a test is about it)."""
    return False


@pytest.fixture
def emulator(seconds_per_state: float) -> Iterator[EmulatorServer]:
    """The Vertex emulator on a loopback port."""
    server = EmulatorServer(Emulator(seconds_per_state=seconds_per_state)).start()
    yield server
    server.stop()


@pytest.fixture
def bot(
    fake_slack: FakeSlackApi,
    emulator: EmulatorServer,
    gcs: FakeGcs,
    sqlite_url: str,
    env_extra: dict[str, str],
    run_watcher: bool,
) -> Iterator[BotUnderTest]:
    """The bot in HTTP mode against the stand-ins."""
    env = {
        "SLACK_BOT_TOKEN": fake_slack.bot_token,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake_slack.base_url,
        "GOOGLE_CLOUD_PROJECT": PROJECT,
        "TUNING_REGION": REGION,
        "VERTEX_EMULATOR_HOST": emulator.host_port,
        "DATABASE_URL": sqlite_url,
        "STORAGE_EMULATOR_HOST": gcs.base_url,
        "TUNING_ADMINS": ADMIN,
        **env_extra,
    }
    settings = load_settings(env, dotenv=None)
    built: list[Runtime] = []
    server, thread, port = serve(
        build_http_app(settings, run_watcher=run_watcher, on_ready=built.append)
    )
    store = SqlWatchStore.open(sqlite_url)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=30)

    with httpx.Client(timeout=10) as http:
        yield BotUnderTest(
            f"http://127.0.0.1:{port}", fake_slack, emulator.emulator, store, http, built[0], stop
        )
    stop()
    store.close()
