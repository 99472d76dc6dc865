"""Poll-cycle cost against the Vertex emulator: requests per cycle, cycle time, memory, latency.

    python benchmarks/poller.py [--sizes 10,100,1000,10000] [--interval 2] [--burst 200]
                                [--curves [--budget 600]]

For each number of watched, running jobs this starts the emulator and the Slack stand-in in this
process and the poller in a child process (so its memory is measured alone), lets it run a few
steady cycles, then ends some jobs and times how long their announcements take to reach Slack.
The baseline is what polling each job with its own `get` (the SDK's polling loop) would cost:
one request per job per cycle.

The burst (a mass cancel, a quota event) watches `--burst` running jobs and cancels every one of
them in the same instant, then reports the time from that instant to the last announcement and
the Vertex read calls of the cycles it took. Goals: within one poll interval + 2 s, at most five
read calls.

With `--curves` the poller also reads running jobs' training curves for their cards' progress,
as the bot does, within a request budget of `--budget` per minute (Google's 600 by default in
this mode; without `--curves` the budget is lifted so that the cost of state reads shows alone).
The question it answers: do curve reads delay the announcements of endings?

Memory is the poller process's own peak resident set, `VmHWM` in /proc/self/status, over every
cycle it ran. Not `ru_maxrss`: Linux carries that across fork and exec, so the child would report
this parent's resident set (the emulator holding 10,000 jobs) as its own. Goal: at most
100 MB with 10,000 watched jobs.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import http.server
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROJECT = "bench-project"
REGION = "us-central1"
MEMORY_GOAL_JOBS = 10_000
MEMORY_GOAL_MB = 100.0


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    """This process's peak resident set (`VmHWM`), in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


async def _child(args: argparse.Namespace) -> None:
    """The poller process: one cycle per interval, one JSON line per cycle."""
    import httpx
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.slack.notifier import SlackNotifier
    from bot.vertex.auth import NoAuth
    from bot.vertex.client import TuningClient
    from bot.watch.bookkeeping import PollerMemory
    from bot.watch.budget import RequestBudget
    from bot.watch.policy import PollConfig
    from bot.watch.poller import Poller, run_poll_cycle
    from bot.watch.store import SqlWatchStore

    store = SqlWatchStore.open(args.database)
    async with httpx.AsyncClient(timeout=30) as http:
        client = TuningClient(http, auth=NoAuth(), emulator_host=args.emulator)
        slack = AsyncWebClient(token="xoxb-test-token", base_url=args.slack, retry_handlers=[])
        notifier = SlackNotifier(slack)
        # The budget is the production guard; without curves it is lifted so the cost itself
        # shows, with them it is what shares the location's requests between the two.
        budget = RequestBudget(args.budget if args.curves else 10**6)
        config = PollConfig(interval=args.interval)
        memory = PollerMemory()
        poller = Poller(
            store,
            client,
            notifier,
            budget,
            owner="bench",
            config=config,
            curves=client if args.curves else None,
        )
        next_start = time.monotonic()
        while True:
            await asyncio.sleep(max(0.0, next_start - time.monotonic()))
            next_start += args.interval
            started = time.perf_counter()
            report = await run_poll_cycle(poller, memory)
            line = {
                "claimed": report.claimed,
                "calls": dict(report.vertex_calls),
                "announced": report.announced,
                "seconds": time.perf_counter() - started,
                "rss_mb": _rss_mb(),
                "peak_mb": _peak_mb(),
            }
            print(json.dumps(line), flush=True)


def _run(
    size: int, interval: float, ending: int, end_state: str, curves: tuple[str, ...] = ()
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[float]]:
    """Watch `size` running jobs, let three cycles pass, end `ending` of them in the same
    instant; returns (steady cycles, cycles after the end until all were announced plus one,
    seconds from the end to each announcement)."""
    from bot.emulator import Emulator, EmulatorServer
    from bot.watch.store import SqlWatchStore
    from bot.watch.tables import watches
    from tests.fakes.slack_api import FakeSlackApi

    # The stdlib server's listen backlog of 5 makes a burst of concurrent posts wait for a
    # 1-second SYN retry: a property of the stand-in, not of Slack, so it is raised here.
    http.server.ThreadingHTTPServer.request_queue_size = 128
    emulator = Emulator(seconds_per_state=10**6)
    slack = FakeSlackApi().start()
    with tempfile.TemporaryDirectory() as tmp, EmulatorServer(emulator) as server:
        url = f"sqlite:///{tmp}/bench.db"
        store = SqlWatchStore.open(url)
        now = dt.datetime.now(dt.UTC)
        names = [
            emulator.add_job(PROJECT, REGION, state="JOB_STATE_RUNNING", display_name=f"m{i}")
            for i in range(size)
        ]
        with store.engine.begin() as conn:
            conn.execute(
                insert(watches),
                [
                    {
                        "job_name": name,
                        "project": PROJECT,
                        "region": REGION,
                        "channel_id": f"C0BENCH{i % 50:02d}",
                        "message_ts": f"1700000000.{i:06d}",
                        "started_by": "U0BENCH01",
                        "kind": "created",
                        "language": "en",
                        "last_state": "JOB_STATE_RUNNING",
                        "card_state": "JOB_STATE_RUNNING",
                        "next_poll_at": now,
                        "error_count": 0,
                        "paused_noted": False,
                        "created_at": now,
                    }
                    for i, name in enumerate(names)
                ],
            )
        store.close()
        child = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--child",
                "--database",
                url,
                "--emulator",
                server.host_port,
                "--slack",
                slack.base_url,
                "--interval",
                str(interval),
                *curves,
            ],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert child.stdout is not None
        steady: list[dict[str, Any]] = []
        after: list[dict[str, Any]] = []
        try:
            for _ in range(3):
                steady.append(json.loads(child.stdout.readline()))
            ended = names[:: max(1, size // ending)][:ending]
            # The third steady line was printed as its cycle finished: the next cycle starts
            # about one interval later, so every cycle read from here on ran after the end.
            ended_at = time.monotonic()
            for name in ended:
                emulator.set_state(name, end_state)
            posts = slack.wait_for("chat.postMessage", len(ended), timeout=interval * 4 + 60)
            latencies = [call.at - ended_at for call in posts[: len(ended)]]
            while sum(c["announced"] for c in after) < len(ended):
                after.append(json.loads(child.stdout.readline()))
            after.append(json.loads(child.stdout.readline()))  # the cycle after: back to steady
        finally:
            child.terminate()
            child.wait(timeout=30)
            slack.stop()
    return steady, after, latencies


def _bench(size: int, interval: float, ending: int, curves: tuple[str, ...] = ()) -> dict[str, Any]:
    steady, after, latencies = _run(size, interval, ending, "JOB_STATE_SUCCEEDED", curves)
    cycles = [*steady, *after]
    calls = statistics.median(
        sum(n for method, n in c["calls"].items() if method != "curves") for c in steady[1:3]
    )
    curve_requests = sum(c["calls"].get("curves", 0) for c in cycles)
    return {
        "jobs": size,
        "calls_per_cycle": calls,
        "curve_requests": curve_requests,
        "baseline_gets": size,
        "reduction": size / calls if calls else float("inf"),
        "cycle_seconds": statistics.median(c["seconds"] for c in steady[1:3]),
        "cycle_seconds_with_endings": max(c["seconds"] for c in after),
        "peak_rss_mb": max(c["peak_mb"] for c in cycles),
        "ended": len(latencies),
        "latency_max_s": max(latencies),
        "latency_median_s": statistics.median(latencies),
    }


def _burst(size: int, interval: float) -> dict[str, Any]:
    """Every one of `size` watched jobs is cancelled in the same instant (a mass cancel)."""
    _steady, after, latencies = _run(size, interval, size, "JOB_STATE_CANCELLED")
    announcing = after[:-1]  # the cycles until the last ending was announced
    reads = Counter[str]()
    for cycle in announcing:
        reads.update(cycle["calls"])
    return {
        "jobs": size,
        "cycles": len(announcing),
        "reads": dict(reads),
        "read_calls": sum(reads.values()),
        "baseline_gets": size,
        "cycle_seconds": max(c["seconds"] for c in announcing),
        "latency_max_s": max(latencies),
        "latency_median_s": statistics.median(latencies),
        "goal_s": interval + 2.0,
    }


def main() -> int:
    """Run the benchmark (or, with --child, the poller side of it)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10,100,1000,10000")
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--ending", type=int, default=10, help="jobs ended per size")
    parser.add_argument(
        "--burst", type=int, default=200, help="watched jobs all cancelled at once (0: skip)"
    )
    parser.add_argument(
        "--curves", action="store_true", help="also read running jobs' curves, within --budget"
    )
    parser.add_argument("--budget", type=int, default=600, help="requests per minute with --curves")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    parser.add_argument("--emulator", help=argparse.SUPPRESS)
    parser.add_argument("--slack", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(_child(args))
        return 0
    header = (
        f"{'jobs':>6} {'calls/cycle':>11} {'baseline':>8} {'fewer':>7} {'cycle s':>8} "
        f"{'w/ends s':>8} {'peak MB':>8} {'end→post max s':>15} {'median s':>8}"
    )
    curves = ("--curves", "--budget", str(args.budget)) if args.curves else ()
    mode = f"; curves read within {args.budget} requests per minute" if args.curves else ""
    print(f"poll interval {args.interval:g} s; {args.ending} jobs end per size{mode}\n{header}")
    for size in (int(s) for s in args.sizes.split(",")):
        r = _bench(size, args.interval, min(args.ending, size), curves)
        goal = ""
        if size == MEMORY_GOAL_JOBS:
            met = "ok" if r["peak_rss_mb"] <= MEMORY_GOAL_MB else "MISSED"
            goal = f"  peak goal ≤{MEMORY_GOAL_MB:g} MB: {met}"
        print(
            f"{r['jobs']:>6} {r['calls_per_cycle']:>11g} {r['baseline_gets']:>8} "
            f"{r['reduction']:>6.0f}× {r['cycle_seconds']:>8.2f} "
            f"{r['cycle_seconds_with_endings']:>8.2f} {r['peak_rss_mb']:>8.1f} "
            f"{r['latency_max_s']:>15.2f} {r['latency_median_s']:>8.2f}{goal}"
            + (f"  ({r['curve_requests']} curve requests)" if args.curves else ""),
            flush=True,
        )
    if args.burst:
        b = _burst(args.burst, args.interval)
        verdict = "ok" if b["latency_max_s"] <= b["goal_s"] and b["read_calls"] <= 5 else "MISSED"
        print(
            f"\nburst: {b['jobs']} watched jobs cancelled in the same second\n"
            f"{'jobs':>6} {'read calls':>10} {'baseline':>8} {'cycles':>6} {'cycle s':>8} "
            f"{'end→last post s':>15} {'median s':>8} {'goal':>10}\n"
            f"{b['jobs']:>6} {b['read_calls']:>10} {b['baseline_gets']:>8} {b['cycles']:>6} "
            f"{b['cycle_seconds']:>8.2f} {b['latency_max_s']:>15.2f} "
            f"{b['latency_median_s']:>8.2f} {'≤' + format(b['goal_s'], 'g') + ' s, ≤5':>10} "
            f"{verdict}  ({', '.join(f'{k} {v}' for k, v in sorted(b['reads'].items()))})",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
