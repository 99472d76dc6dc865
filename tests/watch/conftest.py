"""Watcher fixtures: the Vertex emulator on loopback, the Slack stand-in, a real store."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.emulator import Emulator, EmulatorServer
from bot.slack.messages.ending import ENDING_EVENT_TYPE
from bot.slack.notifier import SlackNotifier
from bot.tuning.states import JobState
from bot.vertex.auth import NoAuth
from bot.vertex.client import TuningClient
from bot.vertex.retry import RetryPolicy
from bot.watch.bookkeeping import CycleReport, PollerMemory
from bot.watch.budget import RequestBudget
from bot.watch.model import NewWatch, Watch, WatchKind
from bot.watch.notify import NO_CHARTS, ChartPoster
from bot.watch.policy import PollConfig
from bot.watch.poller import Poller, run_poll_cycle
from bot.watch.ports import SubscriptionPort
from bot.watch.store import SqlWatchStore
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.watch_store import seed_watch

PROJECT = "team-tuning"
REGION = "us-central1"
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


async def _no_sleep(_seconds: float) -> None:
    return None


def thread_replies(slack: FakeSlackApi, job_name: str | None = None) -> list[dict[str, Any]]:
    """Ending posts (thread replies carrying our metadata), optionally for one job."""
    found = []
    for call in slack.calls_to("chat.postMessage"):
        metadata = call.args.get("metadata") or {}
        if metadata.get("event_type") != ENDING_EVENT_TYPE:
            continue
        if job_name is None or metadata["event_payload"]["job"] == job_name:
            found.append(call.args)
    return found


def serve_thread_history(slack: FakeSlackApi) -> None:
    """Answer `conversations.replies` from the posts Slack received, as Slack would."""

    def replies(args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = args.get("channel"), args.get("ts")
        messages = [
            {"ts": f"{i}.1", "metadata": c.args.get("metadata")}
            for i, c in enumerate(slack.calls_to("chat.postMessage"))
            if c.args.get("channel") == channel and c.args.get("thread_ts") == ts
        ]
        return {"ok": True, "messages": [{"ts": ts}, *messages]}

    slack.handlers["conversations.replies"] = replies


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """An emulator whose jobs stay put unless a test moves them (one state per hour)."""
    emu = Emulator(seconds_per_state=3600)
    yield emu
    emu.release_holds()


@pytest.fixture
def emulator_server(emulator: Emulator) -> Iterator[EmulatorServer]:
    """The emulator on a loopback port."""
    server = EmulatorServer(emulator).start()
    yield server
    server.stop()


@dataclass
class Rig:
    """Everything one poll cycle needs, with a clock the test advances."""

    store: SqlWatchStore
    client: TuningClient
    notifier: SlackNotifier
    emulator: Emulator
    slack: FakeSlackApi
    budget: RequestBudget
    config: PollConfig = field(default_factory=lambda: PollConfig(interval=60))
    memory: PollerMemory = field(default_factory=PollerMemory)
    now: dt.datetime = T0
    owner: str = "replica-a"
    reports: list[CycleReport] = field(default_factory=list)
    # Read running jobs' curves for their cards (through `client`), and post ending charts.
    curves: bool = False
    charts: ChartPoster = NO_CHARTS
    subscriptions: SubscriptionPort | None = None  # discovery and channel settings

    def add_job(self, state: JobState = JobState.RUNNING, **kwargs: Any) -> str:
        """A job in the emulator (as if started elsewhere); returns its resource name."""
        region = kwargs.pop("region", REGION)
        return self.emulator.add_job(PROJECT, region, state=state.value, **kwargs)

    def watch(
        self,
        job_name: str,
        channel: str = "C0TEAM001",
        *,
        state: JobState = JobState.RUNNING,
        message_ts: str | None = "1700000000.000001",
        started_by: str = "U0STARTER",
        language: str = "en",
    ) -> Watch:
        """A stored watch, due now; its card (if any) shows the job as the emulator has it now,
        data statistics included once there are some."""
        shown = next((j for j in self.emulator.jobs() if j["name"] == job_name), {})
        new = NewWatch(
            job_name=job_name,
            channel_id=channel,
            started_by=started_by,
            kind=WatchKind.CREATED,
            state=state,
            message_ts=message_ts,
            language=language,
            card_stats="tuningDataStats" in shown,
        )
        return seed_watch(self.store, new, now=self.now)

    async def cycle(self, advance: float | None = None) -> CycleReport:
        """Advance the clock (one interval by default) and run one cycle."""
        self.now += dt.timedelta(seconds=self.config.interval if advance is None else advance)
        before = dict(self.emulator.counts)
        poller = Poller(
            self.store,
            self.client,
            self.notifier,
            self.budget,
            self.owner,
            self.config,
            curves=self.client if self.curves else None,
            charts=self.charts,
            subscriptions=self.subscriptions,
        )
        report = await run_poll_cycle(poller, self.memory, now=self.now)
        report.vertex_calls.clear()
        for method, count in self.emulator.counts.items():
            report.vertex_calls[method] = count - before.get(method, 0)
        self.reports.append(report)
        return report


@pytest.fixture
async def rig(
    emulator: Emulator, emulator_server: EmulatorServer, fake_slack: FakeSlackApi, sqlite_url: str
) -> AsyncIterator[Rig]:
    """A poller against the emulator, the Slack stand-in and a SQLite file."""
    store = SqlWatchStore.open(sqlite_url)
    http = httpx.AsyncClient(timeout=10)
    client = TuningClient(
        http,
        auth=NoAuth(),
        emulator_host=emulator_server.host_port,
        retry=RetryPolicy(max_attempts=2, sleep=_no_sleep),
    )
    slack = AsyncWebClient(
        token=fake_slack.bot_token, base_url=fake_slack.base_url, retry_handlers=[]
    )
    rig = Rig(store, client, SlackNotifier(slack), emulator, fake_slack, RequestBudget(600))
    rig.now = dt.datetime.now(dt.UTC)  # the emulator's jobs are created on the real clock
    # Slack's Retry-After is honoured on the rig's clock, so tests never sleep.
    rig.notifier = SlackNotifier(slack, clock=lambda: rig.now.timestamp())
    yield rig
    await http.aclose()
    store.close()


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """An empty database of each backend; the PostgreSQL one skips, with the reason, without
    a server."""
    if request.param == "sqlite":
        return sqlite_url
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(store_url: str) -> Iterator[SqlWatchStore]:
    """A store opened on a new database of each backend."""
    opened = SqlWatchStore.open(store_url)
    yield opened
    opened.close()
