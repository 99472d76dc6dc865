"""Try it: time from the form's submission reaching the use case to both answers being ready.

The emulator (on loopback, in a thread of this process) answers every `generateContent` after
a fixed delay, tuned and base alike; the bot's own use case (`TryHandlers.try_model`, built as
production builds it, on the real Vertex client and a SQLite store) reads the job, asks both
models and writes the audit row. Both models are asked at once, so the goal is one delay plus
at most GOAL_OVERHEAD, at the median and at p95; asked one after the other it would be two.

    python benchmarks/try_it.py --runs 50 --delay 0.3
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PROJECT, REGION = "bench-project", "us-central1"
GOAL_OVERHEAD = 0.100  # seconds over one answer's delay
WARMUP_RUNS = 3  # connections open, the project number learned


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def _measure(host: str, database: str, job: str, runs: int) -> list[float]:
    from bot.handlers.jobs import Actor, JobHandlers
    from bot.handlers.trying import TryHandlers, TryRequest
    from bot.tuning.access import AccessPolicy
    from bot.tuning.catalogue import default_catalogue
    from bot.tuning.refs import Location
    from bot.tuning.trying import Prompt
    from bot.vertex.auth import NoAuth
    from bot.vertex.client import TuningClient
    from bot.watch.store import SqlWatchStore

    async def no_submit(*_: object) -> object:
        raise AssertionError("the benchmark creates no job")

    store = SqlWatchStore.open(database)
    timings: list[float] = []
    async with httpx.AsyncClient() as http:
        client = TuningClient(http, auth=NoAuth(), emulator_host=host)
        jobs = JobHandlers(
            client=client,
            submit=no_submit,  # type: ignore[arg-type]
            store=store,
            location=Location(PROJECT, REGION),
            policy=AccessPolicy(),
            catalogue=default_catalogue(),
        )
        trying = TryHandlers(jobs, client)
        actor = Actor("U0BENCH01", "C0BENCH01")
        request = TryRequest(job, Prompt("Summarise our refund policy in one line."))
        for run in range(WARMUP_RUNS + runs):
            started = time.perf_counter()
            tried = await trying.try_model(actor, request)
            elapsed = time.perf_counter() - started
            assert tried.tuned.answer is not None
            assert tried.base is not None
            assert tried.base.answer is not None
            if run >= WARMUP_RUNS:
                timings.append(elapsed)
    store.close()
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--delay", type=float, default=0.3, help="seconds each answer takes")
    args = parser.parse_args()

    from bot.emulator import SUCCEEDED, Emulator, EmulatorServer

    emulator = Emulator(3600)
    job = emulator.add_job(PROJECT, REGION, state=SUCCEEDED)
    total = WARMUP_RUNS + args.runs
    for method in ("generate_tuned", "generate_base"):
        emulator.inject(method, 200, delay=args.delay, times=total)
    with tempfile.TemporaryDirectory() as tmp, EmulatorServer(emulator) as server:
        timings = asyncio.run(
            _measure(server.host_port, f"sqlite:///{tmp}/bench.db", job, args.runs)
        )
    median, p95 = statistics.median(timings), _p95(timings)
    goal = args.delay + GOAL_OVERHEAD
    print(f"Try it: {args.runs} runs, each answer delayed {args.delay * 1000:.0f} ms")
    print(f"  median {median * 1000:.1f} ms   p95 {p95 * 1000:.1f} ms")
    print(
        f"  overhead over one delay: median {(median - args.delay) * 1000:.1f} ms, "
        f"p95 {(p95 - args.delay) * 1000:.1f} ms"
    )
    met = median <= goal and p95 <= goal
    print(
        f"  goal: one delay + {GOAL_OVERHEAD * 1000:.0f} ms = {goal * 1000:.0f} ms: "
        f"{'met' if met else 'NOT met'}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
