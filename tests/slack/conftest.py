"""The bot in HTTP mode on a loopback port, with the Slack and Vertex stand-ins behind it."""

from __future__ import annotations

import asyncio
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
    local: InProcessBot | None = None  # set when the app runs in process
    _triggers: Iterator[int] = field(default_factory=lambda: count(1))

    def post(self, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        """POST to /slack/events with Slack's signature (unless headers are given)."""
        headers = sign(SECRET, body) if headers is None else headers
        headers = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
        if self.local is not None:
            return self.local.post("/slack/events", body, headers)
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


IN_PROCESS_EMULATOR = "vertex-emulator.test:80"


@pytest.fixture
def emulator(seconds_per_state: float, over_http: bool) -> Iterator[EmulatorServer]:
    """The Vertex emulator: on a loopback port when the bot is served over HTTP, else reached
    in process through `httpx.ASGITransport` under a name nothing else answers."""
    if over_http:
        server = EmulatorServer(Emulator(seconds_per_state=seconds_per_state)).start()
    else:
        host, port = IN_PROCESS_EMULATOR.split(":")
        server = EmulatorServer(Emulator(seconds_per_state=seconds_per_state), host, int(port))
    yield server
    server.stop()


@pytest.fixture
def over_http() -> bool:
    """Serve the bot with uvicorn on a loopback port (the top layer: HTTP shape, health routes,
    graceful shutdown). By default the same ASGI app runs in process, its requests handed over
    through `httpx.ASGITransport` on one event loop, which is all a listener test needs."""
    return False


class InProcessBot:
    """The bot's ASGI app on an event loop in a thread, its lifespan entered as a server would."""

    def __init__(self, app: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._app = app
        self._lifespan: Any = None
        self.client: httpx.AsyncClient | None = None

    def run(self, work: Any, timeout: float = 30.0) -> Any:
        """Run a coroutine on the bot's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout)

    def start(self) -> InProcessBot:
        """Enter the lifespan (the runtime is built) and open a client on the app."""

        async def enter() -> None:
            self._lifespan = self._app.router.lifespan_context(self._app)
            await self._lifespan.__aenter__()
            self.client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=self._app), base_url="http://bot.test"
            )

        self.run(enter())
        return self

    def post(self, path: str, content: bytes, headers: dict[str, str]) -> httpx.Response:
        """POST as Slack would, through the ASGI app."""
        assert self.client is not None
        return self.run(self.client.post(path, content=content, headers=headers))  # type: ignore[no-any-return]

    def stop(self) -> None:
        """Leave the lifespan as a graceful shutdown does, then stop the loop."""
        if self._lifespan is None:
            return
        lifespan, self._lifespan = self._lifespan, None

        async def leave() -> None:
            assert self.client is not None
            await self.client.aclose()
            await lifespan.__aexit__(None, None, None)

        try:
            self.run(leave())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)


@pytest.fixture
def bot(
    fake_slack: FakeSlackApi,
    emulator: EmulatorServer,
    gcs: FakeGcs,
    sqlite_url: str,
    env_extra: dict[str, str],
    run_watcher: bool,
    over_http: bool,
) -> Iterator[BotUnderTest]:
    """The bot in HTTP mode against the stand-ins (in process unless `over_http`)."""
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
    http_to_google: httpx.AsyncClient | None = None
    if not over_http:
        # The bot's one HTTP client: Vertex calls go to the emulator's ASGI app, the rest
        # (Cloud Storage) to its loopback stand-in as usual.
        http_to_google = httpx.AsyncClient(
            timeout=httpx.Timeout(30.0, connect=10.0),
            mounts={f"http://{emulator.host_port}": httpx.ASGITransport(app=emulator.emulator.app)},
        )
    app = build_http_app(
        settings, http=http_to_google, run_watcher=run_watcher, on_ready=built.append
    )
    store = SqlWatchStore.open(sqlite_url)
    with httpx.Client(timeout=10) as http:
        if over_http:
            server, thread, port = serve(app)

            def stop() -> None:
                server.should_exit = True
                thread.join(timeout=30)

            url, local = f"http://127.0.0.1:{port}", None
        else:
            local = InProcessBot(app).start()
            url, stop = "http://bot.test", local.stop
        yield BotUnderTest(url, fake_slack, emulator.emulator, store, http, built[0], stop, local)
    stop()
    store.close()
