"""Subscriptions at team scale: Vertex read calls per cycle, and time from a job's creation to
its card in every subscribed channel.

    python benchmarks/subscriptions.py [--channels 50] [--projects 5] [--jobs 1000]
                                        [--interval 2] [--new 5]

The Vertex emulator (loopback HTTP), the Slack Web API stand-in and a SQLite store run in this
process with the poller. `--jobs` running jobs are spread over `--projects` projects (one
region), each watched in one of the channels subscribed to its project; `--channels`
channels subscribe, evenly over the projects. The poller runs steady cycles (their Vertex
requests are counted), then `--new` jobs are created straight through the emulator at moments
between cycles, and the time from each creation to its card in every channel subscribed to its
project is measured.

Goals: at most one listing page per 100 active jobs per location plus at most one page for
discovery, per cycle; every new job's cards within one poll interval + 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import math
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from slack_sdk.web.async_client import AsyncWebClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.emulator import Emulator, EmulatorServer  # noqa: E402
from bot.slack.notifier import SlackNotifier  # noqa: E402
from bot.tuning.refs import Location  # noqa: E402
from bot.tuning.states import JobState  # noqa: E402
from bot.tuning.subscriptions import parse_subscription  # noqa: E402
from bot.vertex.auth import NoAuth  # noqa: E402
from bot.vertex.client import TuningClient  # noqa: E402
from bot.watch.bookkeeping import PollerMemory  # noqa: E402
from bot.watch.budget import RequestBudget  # noqa: E402
from bot.watch.model import NewWatch, WatchKind  # noqa: E402
from bot.watch.policy import PollConfig  # noqa: E402
from bot.watch.poller import Poller, run_poll_cycle  # noqa: E402
from bot.watch.store import SqlWatchStore  # noqa: E402
from bot.watch.subscription_store import SqlSubscriptionStore  # noqa: E402
from tests.fakes.slack_api import FakeSlackApi  # noqa: E402

REGION = "us-central1"
READS = ("list", "get")


def _projects(count: int) -> list[str]:
    return [f"bench-team-{i:02d}" for i in range(count)]


async def _run(args: argparse.Namespace) -> dict[str, float]:
    projects = _projects(args.projects)
    emulator = Emulator(seconds_per_state=10**7)
    slack = FakeSlackApi().start()
    with EmulatorServer(emulator) as vertex, tempfile.TemporaryDirectory() as tmp:
        store = SqlWatchStore.open(f"sqlite:///{tmp}/bench.db")
        subs = SqlSubscriptionStore(store)
        channels = {
            p: [f"C{p[-2:]}{i:06d}" for i in range(args.channels // len(projects))]
            for p in projects
        }
        now = dt.datetime.now(dt.UTC)
        per_project = args.jobs // len(projects)
        for project in projects:
            for i in range(per_project):
                name = emulator.add_job(project, REGION, state="JOB_STATE_RUNNING")
                channel = channels[project][i % len(channels[project])]
                await store.add_watch(
                    NewWatch(
                        name,
                        channel,
                        "U0BENCH01",
                        WatchKind.SUBSCRIBED,
                        JobState.RUNNING,
                        message_ts=f"1700000000.{i:06d}",
                    ),
                    now=now,
                )
        # Subscribed after the jobs started: those are followed where they are, not found anew.
        now = dt.datetime.now(dt.UTC)
        for project, names in channels.items():
            for channel in names:
                spec = parse_subscription([f"{project}/{REGION}"], Location(project, REGION))
                await subs.subscribe(channel, spec, "U0BENCH01", now=now)
        http = httpx.AsyncClient(timeout=30)
        client = TuningClient(http, auth=NoAuth(), emulator_host=vertex.host_port)
        web = AsyncWebClient(token=slack.bot_token, base_url=slack.base_url, retry_handlers=[])
        config = PollConfig(interval=args.interval)
        poller = Poller(
            store,
            client,
            SlackNotifier(web),
            RequestBudget(600),
            "bench",
            config,
            subscriptions=subs,
        )
        memory = PollerMemory()
        # Every watch is due in the first cycle: from then on each is polled once an interval.
        calls: list[int] = []
        cycle_seconds: list[float] = []

        async def cycle() -> None:
            before = sum(emulator.counts[m] for m in READS)
            started = time.perf_counter()
            await run_poll_cycle(poller, memory)
            cycle_seconds.append(time.perf_counter() - started)
            calls.append(sum(emulator.counts[m] for m in READS) - before)

        stop = asyncio.Event()

        async def clock() -> None:
            while not stop.is_set():
                tick = time.monotonic()
                await cycle()
                await asyncio.sleep(max(0.0, args.interval - (time.monotonic() - tick)))

        ticking = asyncio.create_task(clock())
        while len(calls) < 4:  # steady cycles first: the first one polls every watch
            await asyncio.sleep(0.05)
        steady = list(calls[1:])
        latencies: list[float] = []
        rng = random.Random(7)
        for n in range(args.new):
            await asyncio.sleep(rng.uniform(0, args.interval))
            project = projects[n % len(projects)]
            wanted = set(channels[project])
            created = time.monotonic()
            name = emulator.add_job(project, REGION, state="JOB_STATE_RUNNING")
            job_id = name.rsplit("/", 1)[-1]
            while True:
                seen = {
                    c.args.get("channel")
                    for c in slack.calls_to("chat.postMessage")
                    if job_id in str(c.args.get("blocks"))
                }
                if wanted <= seen:
                    latencies.append(time.monotonic() - created)
                    break
                if time.monotonic() - created > 10 * args.interval:
                    latencies.append(math.inf)
                    break
                await asyncio.sleep(0.01)
        stop.set()
        await ticking
        await http.aclose()
        store.close()
    slack.stop()
    return {
        "steady_calls_max": max(steady),
        "steady_calls_median": statistics.median(steady),
        "cycle_seconds_median": statistics.median(cycle_seconds[1:]),
        "first_cycle_seconds": cycle_seconds[0],
        "latency_max": max(latencies),
        "latency_median": statistics.median(latencies),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--channels", type=int, default=50)
    parser.add_argument("--projects", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--new", type=int, default=5, help="jobs created while it runs")
    args = parser.parse_args()
    result = asyncio.run(_run(args))
    pages_goal = args.projects * (math.ceil(args.jobs / args.projects / 100) + 1)
    latency_goal = args.interval + 1.0
    print(
        f"{args.channels} channels subscribed over {args.projects} projects, "
        f"{args.jobs} running jobs watched, poll interval {args.interval:g} s"
    )
    print(
        f"Vertex read calls per steady cycle: median {result['steady_calls_median']:g}, "
        f"max {result['steady_calls_max']:g} (goal: at most {pages_goal}: one page per 100 "
        f"active jobs per location plus one for discovery)"
    )
    print(
        f"cycle time: median {result['cycle_seconds_median']:.2f} s "
        f"(the first, which reads every watch: {result['first_cycle_seconds']:.2f} s)"
    )
    print(
        f"job created -> card in every subscribed channel: median "
        f"{result['latency_median']:.2f} s, max {result['latency_max']:.2f} s "
        f"(goal: at most {latency_goal:g} s)"
    )
    met = result["steady_calls_max"] <= pages_goal and result["latency_max"] <= latency_goal
    print("goals:", "met" if met else "NOT met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
