"""Training-curve chart render time, cold and warm, and the event loop's lag while rendering.

    python benchmarks/chart_render.py                  # 30 renders of 10,000 points a series
    python benchmarks/chart_render.py --renders 100 --points 20000

The curves are a long run's: training loss and accuracy at every step, validation loss and
accuracy every 50 steps, three checkpoints, a Japanese display name. The first render in this
process is reported alone as cold (it registers and loads the bundled font, and fills
matplotlib's caches); the next N, called directly, give median, p95 and max.

Then the same N renders go through `render_chart_async` one after another while a ticker
coroutine sleeps `--tick` ms at a time on the loop; a tick's lag is how much later than asked
it woke. The worst lag is printed beside the same ticker's on an idle loop and on a loop that
calls `render_chart` itself, which is what the chart thread saves the loop from.

Goal: median warm render under GOAL_MS on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.tuning.curves import Metric, Point, Series, TrainingCurves, curves_of

GOAL_MS = 300.0
EVAL_EVERY = 50
TITLE = "サポートボット v3（日本語の問い合わせ）"


def _curves(points: int) -> TrainingCurves:
    """A run of `points` steps whose losses fall and accuracies rise, with noise and a spike."""

    def loss(step: int) -> float:
        spike = 1.5 if step == points * 2 // 5 else 0.0
        return 1.9 * math.exp(-step / (points / 5)) + 0.4 + 0.05 * math.sin(step * 12.99) + spike

    def accuracy(step: int) -> float:
        return 0.9 - 0.5 * math.exp(-step / (points / 6)) + 0.01 * math.sin(step * 78.23)

    every = range(1, points + 1)
    evaluated = range(EVAL_EVERY, points + 1, EVAL_EVERY)
    series = {
        Metric.TRAIN_LOSS: Series.of(Point(s, loss(s)) for s in every),
        Metric.TRAIN_ACCURACY: Series.of(Point(s, accuracy(s)) for s in every),
        Metric.EVAL_LOSS: Series.of(Point(s, loss(s) + 0.1) for s in evaluated),
        Metric.EVAL_ACCURACY: Series.of(Point(s, accuracy(s) - 0.02) for s in evaluated),
    }
    thirds = (points // 3, 2 * points // 3, points)
    return curves_of(series, planned_steps=points, checkpoint_steps=thirds)


def _ms(seconds: float) -> float:
    return seconds * 1000


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(len(ordered) * 0.95) - 1)]


async def _lags(work: Callable[[], Awaitable[None]], tick_s: float) -> list[float]:
    """The ticker's lags in ms while `work` runs, sorted."""
    lags: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        while not done.is_set():
            asked = time.perf_counter()
            await asyncio.sleep(tick_s)
            lags.append(time.perf_counter() - asked - tick_s)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(tick_s)  # the ticker is sleeping before the work starts
    try:
        await work()
    finally:
        done.set()
        await task
    return sorted(_ms(lag) for lag in lags)


class _FullCollections:
    """Times CPython's full (generation 2) garbage collections while it is installed: each
    holds the GIL for the whole traversal of the heap, whichever thread set it off."""

    def __init__(self) -> None:
        self.pauses: list[float] = []
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses.append(_ms(time.perf_counter() - self._started))

    def __enter__(self) -> _FullCollections:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *_: object) -> None:
        gc.callbacks.remove(self)


def _peak_mb() -> float:
    """This process's peak resident set (`VmHWM`), in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> int:
    """Render, time and print; exit 1 when the median misses the goal."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--renders", type=int, default=30, help="warm renders to time")
    parser.add_argument("--points", type=int, default=10_000, help="points per training series")
    parser.add_argument("--tick", type=float, default=10.0, help="ticker sleep, ms")
    parser.add_argument(
        "--freeze",
        action="store_true",
        help="gc.freeze() after the imports, as a process could at start-up, so that full "
        "collections no longer walk matplotlib's and the bot's start-up objects",
    )
    args = parser.parse_args()

    import matplotlib

    started = time.perf_counter()
    from bot.charts import render

    import_ms = _ms(time.perf_counter() - started)
    curves = _curves(args.points)
    if args.freeze:
        gc.freeze()

    def once() -> float:
        started = time.perf_counter()
        png = render.render_chart(curves, title=TITLE, language="ja")
        elapsed = _ms(time.perf_counter() - started)
        sizes.append(len(png))
        return elapsed

    sizes: list[int] = []
    cold = once()
    warm = [once() for _ in range(args.renders)]
    median = statistics.median(warm)

    tick_s = args.tick / 1000

    async def idle() -> None:
        await asyncio.sleep(median / 1000 * args.renders)

    async def in_thread() -> None:
        for _ in range(args.renders):
            await render.render_chart_async(curves, title=TITLE, language="ja")

    async def on_loop() -> None:
        for _ in range(min(args.renders, 5)):
            render.render_chart(curves, title=TITLE, language="ja")
            await asyncio.sleep(0)

    idle_lags = asyncio.run(_lags(idle, tick_s))
    thread_started = time.perf_counter()
    with _FullCollections() as collections:
        thread_lags = asyncio.run(_lags(in_thread, tick_s))
    thread_each = _ms(time.perf_counter() - thread_started) / args.renders
    loop_lags = asyncio.run(_lags(on_loop, tick_s))

    print(
        f"machine: {os.cpu_count()} CPUs ({_cpu_model()}), Python {platform.python_version()}, "
        f"matplotlib {matplotlib.__version__}, GIL switch interval "
        f"{_ms(sys.getswitchinterval()):.0f} ms"
    )
    print(
        f"chart: {args.points:,} points per training series, validation every {EVAL_EVERY} "
        f"steps, 3 checkpoints, {render.DRAWN_POINTS:,} points drawn at most; "
        f"PNG {statistics.median(sizes) / 1024:.0f} KB"
    )
    print(f"import bot.charts.render (matplotlib)   {import_ms:7.1f} ms")
    print(f"cold render (font load, first draw)     {cold:7.1f} ms")
    print(
        f"warm render, {args.renders} times: median {median:6.1f} ms   "
        f"p95 {_p95(warm):6.1f} ms   max {max(warm):6.1f} ms"
    )
    print(f"event-loop lag, {args.tick:.0f} ms ticker{' (gc frozen)' if args.freeze else ''}:")
    print(f"  idle loop                        worst {idle_lags[-1]:6.1f} ms")
    print(
        f"  renders in the chart thread      worst {thread_lags[-1]:6.1f} ms   "
        f"p99 {thread_lags[int(len(thread_lags) * 0.99)]:5.1f} ms   "
        f"median {statistics.median(thread_lags):4.1f} ms   "
        f"{sum(lag > 20 for lag in thread_lags)} of {len(thread_lags)} ticks over 20 ms   "
        f"({thread_each:.0f} ms a render)"
    )
    pauses = collections.pauses
    print(
        f"  full garbage collections meanwhile: {len(pauses)}"
        + (f", longest {max(pauses):.1f} ms" if pauses else "")
    )
    print(f"  renders on the loop itself       worst {loop_lags[-1]:6.1f} ms")
    # Dead figures wait for a full collection, so the peak holds a few renders' garbage.
    print(f"peak resident set of this process: {_peak_mb():.0f} MB")
    met = median < GOAL_MS
    print(f"goal: median warm render < {GOAL_MS:.0f} ms: {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
