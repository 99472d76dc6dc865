"""Ack latency of `/tune help` in HTTP mode, against a bare Bolt app that only acks.

A second baseline is a bare Bolt app whose ack carries the same help answer, so that the size
of the answer is not counted against the bot.

Each app runs alone in its own process (uvicorn on loopback); this process holds the Slack Web
API stand-in and the Vertex emulator, and sends N signed slash commands, C at a time, and
reports p50 / p99 of the time to the HTTP response, which is Slack's 3-second ack, the
bot's ratios to both baselines, and whether the goal (bot p50 and p99 at most GOAL_RATIO × the
bare app with the help answer) is met.

    python benchmarks/ack_latency.py --requests 2000 --concurrency 50
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fakes.slack_signing import command_body, sign

SECRET = "benchmark-signing-secret-0123456789"
USERS = [f"U0BENCH{i:03d}" for i in range(50)]
# Steady state is what is measured: connections open, caches filled, first-call paths taken.
WARMUP_REQUESTS = 1000
# The bot's own work before its ack (signature, payload checks, repeat filter, language lookup)
# may cost this much over a bare Bolt app sending the same answer, at p50 and at p99.
GOAL_RATIO = 1.2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _bare_bolt_app(slack_url: str, *, with_help: bool) -> object:
    from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    bolt = AsyncApp(
        client=AsyncWebClient(token="xoxb-test-token", base_url=slack_url),
        signing_secret=SECRET,
        process_before_response=True,
    )

    from bot.slack.messages.help import help_message

    text, blocks = help_message("en")

    async def only_ack(ack: object) -> None:
        # with_help: the same answer tuning-bot puts in its ack, so the bodies weigh the same.
        if with_help:
            await ack(text=text, blocks=blocks, response_type="ephemeral")  # type: ignore[operator]
        else:
            await ack()  # type: ignore[operator]

    bolt.command("/tune")(only_ack)
    handler = AsyncSlackRequestHandler(bolt)

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    return Starlette(routes=[Route("/slack/events", events, methods=["POST"])])


def _serve(kind: str, port: int, slack_url: str, vertex_host: str) -> None:
    import logging

    import uvicorn

    from bot.app.server import build_http_app
    from bot.config import load_settings

    logging.disable(logging.WARNING)
    if kind.startswith("bare"):
        app = _bare_bolt_app(slack_url, with_help=kind == "bare+help")
    else:
        database = Path(tempfile.mkdtemp()) / "bench.db"
        settings = load_settings(
            {
                "SLACK_BOT_TOKEN": "xoxb-test-token",
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": slack_url,
                "VERTEX_EMULATOR_HOST": vertex_host,
                "DATABASE_URL": f"sqlite:///{database}",
            },
            dotenv=None,
        )
        app = build_http_app(settings)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="error", access_log=False)


async def _load(
    url: str, requests: int, concurrency: int, response_url: str, warmup: int
) -> list[float]:
    """Warm up, then send `requests` commands with `concurrency` in flight; latencies in s."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(i: int) -> float:
            body = command_body(
                "help",
                user_id=USERS[i % len(USERS)],
                trigger_id=f"bench.{time.time_ns()}.{i}",
                response_url=response_url,
            )
            headers = {**sign(SECRET, body), "Content-Type": "application/x-www-form-urlencoded"}
            started = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"HTTP {response.status}")
            return time.perf_counter() - started

        async def run(count: int) -> list[float]:
            queue = list(range(count))
            latencies: list[float] = []

            async def worker() -> None:
                while queue:
                    latencies.append(await one(queue.pop()))

            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return latencies

        await run(warmup)
        return await run(requests)


def _wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def measure(kind: str, requests: int, concurrency: int) -> tuple[float, float]:
    """p50 and p99 in milliseconds for one app kind ("bot" or "bare")."""
    from bot.emulator import Emulator, EmulatorServer
    from tests.fakes.slack_api import FakeSlackApi

    # The stand-ins live in this process so that the measured process runs only the app.
    slack = FakeSlackApi().start()
    emulator = EmulatorServer(Emulator()).start()
    port = _free_port()
    process = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(kind, port, slack.base_url, emulator.host_port)
    )
    process.start()
    try:
        _wait_for_port(port)
        url = f"http://127.0.0.1:{port}/slack/events"
        # Warm-up: connections, Bolt's auth.test, and each user's locale in the bot's cache.
        reply = slack.response_url()
        latencies = sorted(
            asyncio.run(_load(url, requests, concurrency, reply, warmup=WARMUP_REQUESTS))
        )
    finally:
        process.terminate()
        process.join(10)
        slack.stop()
        emulator.stop()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    return p50, p99


def main() -> None:
    """Measure both apps in alternating rounds and print the medians of the rounds.

    Alternating rounds keep a noisy neighbour on a small machine from favouring one app.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, list[tuple[float, float]]] = {"bot": [], "bare": [], "bare+help": []}
    for _ in range(args.rounds):
        for kind in results:
            results[kind].append(measure(kind, args.requests, args.concurrency))
    medians = {
        kind: tuple(statistics.median(r[i] for r in rounds) for i in (0, 1))
        for kind, rounds in results.items()
    }
    print(
        f"/tune help, {args.requests} requests, {args.concurrency} concurrent, "
        f"median of {args.rounds} rounds"
    )
    names = {
        "bot": "tuning-bot",
        "bare": "bare Bolt (empty ack)",
        "bare+help": "bare Bolt (help in ack)",
    }
    bot = medians["bot"]
    for kind, (p50, p99) in medians.items():
        ratio = (
            ""
            if kind == "bot"
            else f"   bot/this p50 {bot[0] / p50:4.2f}×  p99 {bot[1] / p99:4.2f}×"
        )
        print(f"{names[kind]:24} p50 {p50:6.1f} ms   p99 {p99:6.1f} ms{ratio}")
    same = medians["bare+help"]
    met = bot[0] <= GOAL_RATIO * same[0] and bot[1] <= GOAL_RATIO * same[1]
    print(
        f"goal: tuning-bot p50 and p99 <= {GOAL_RATIO}x bare Bolt (help in ack): "
        f"p50 {bot[0] / same[0]:4.2f}x, p99 {bot[1] / same[1]:4.2f}x, {'met' if met else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
