"""Dataset pre-flight throughput against a bare per-line JSON parse, and memory, per source.

    python benchmarks/preflight.py                    # 10 MB, 100 MB and 1 GB files
    python benchmarks/preflight.py --sizes 10,100     # fewer
    python benchmarks/preflight.py --repeat 3         # best of three for each figure
    python benchmarks/preflight.py --only short       # one kind of example

One run measures both kinds of example: varied Gemini examples of about 2.9 KB (1 to 3 turns,
a system instruction, some Japanese text), and about 170-byte ones (one question, one answer),
where per-example work weighs most against parsing. Each file is generated into a temporary
directory (deleted afterwards) and read from the local disk and through the loopback Cloud
Storage JSON API stand-in from the tests, served from the parent process.

For every file and source the same child process setup runs twice: the pre-flight, and the
bare loop it is held against, which does nothing but `orjson.loads` each line (local: `for
line in file`; Cloud Storage: the lines of `httpx.AsyncClient.stream(...).aiter_bytes()`).
`ratio` is pre-flight MB/s over bare-loop MB/s. Every measurement runs in a fresh process so
its peak RSS (VmHWM) is its own; an idle process that has imported the same modules gives the
baseline.

Goals: ratio >= 1.0 on every row; peak RSS within 60 MB of the idle process, and flat: its
spread across file sizes within 10 MB for each kind of example and source.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GOAL_RATIO = 1.0
GOAL_RSS_OVER_IDLE_MB = 60.0
GOAL_RSS_SPREAD_MB = 10.0
MODEL = "gemini-2.5-flash"
_WORDS = [
    "the",
    "model",
    "answers",
    "questions",
    "about",
    "invoices",
    "shipping",
    "returns",
    "refunds",
    "delivery",
    "dates",
    "account",
    "settings",
    "passwords",
    "and",
    "billing",
    "politely",
    "with",
    "short",
    "clear",
    "sentences",
]
KINDS = ("long", "short")


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(words))


def _example(rng: random.Random, number: int) -> dict[str, Any]:
    contents = []
    for _ in range(rng.choice((1, 1, 2, 3))):
        contents.append({"role": "user", "parts": [{"text": _text(rng, rng.randint(10, 120))}]})
        contents.append({"role": "model", "parts": [{"text": _text(rng, rng.randint(20, 250))}]})
    if number % 7 == 0:
        contents[0]["parts"][0]["text"] += " 日本語の問い合わせにも丁寧に回答してください。"
    return {
        "systemInstruction": {"parts": [{"text": "You are a helpful support agent."}]},
        "contents": contents,
    }


def _short_example(rng: random.Random, number: int) -> dict[str, Any]:
    # The worst case, where per-example work outweighs parsing.
    return {
        "contents": [
            {"role": "user", "parts": [{"text": _text(rng, 6)}]},
            {"role": "model", "parts": [{"text": _text(rng, 3)}]},
        ]
    }


def generate(path: Path, size_bytes: int, short: bool = False) -> int:
    """Write a JSONL file of at least `size_bytes`; return its size."""
    rng = random.Random(7)
    make = _short_example if short else _example
    block = b"".join(
        json.dumps(make(rng, n), ensure_ascii=False).encode() + b"\n" for n in range(4000)
    )
    written = 0
    with path.open("wb") as out:
        while written < size_bytes:
            out.write(block)
            written += len(block)
    return written


# --- child process ------------------------------------------------------------------------


def _peak_rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


async def _preflight(source: str) -> dict[str, Any]:
    import httpx

    from bot.datasets import Budget, DatasetOpener, run_preflight
    from bot.tuning.catalogue import default_catalogue

    model = default_catalogue().get(MODEL)
    assert model is not None
    async with httpx.AsyncClient(timeout=httpx.Timeout(60.0)) as http:
        opener = DatasetOpener(
            http, None, os.environ.get("STORAGE_EMULATOR_HOST"), allow_local_files=True
        )
        started = time.perf_counter()
        report = await run_preflight(
            source,
            model=model,
            validation=False,
            opener=opener,
            epochs=3,
            budget=Budget(max_bytes=4 << 30, max_seconds=None),
        )
        seconds = time.perf_counter() - started
    assert report.ok, [f.problem.key for f in report.errors]
    return {"seconds": seconds, "bytes": report.bytes_read, "examples": report.example_count}


async def _bare(source: str) -> dict[str, Any]:
    import httpx
    import orjson

    # The same imports as the pre-flight's child, so that both start from the same heap.
    import bot.datasets  # noqa: F401

    loads = orjson.loads
    lines = size = 0
    # As for the pre-flight, the client exists before the clock starts.
    async with httpx.AsyncClient(timeout=httpx.Timeout(60.0)) as http:
        started = time.perf_counter()
        if source.startswith("gs://"):
            bucket, _, name = source.removeprefix("gs://").partition("/")
            url = f"{os.environ['STORAGE_EMULATOR_HOST']}/storage/v1/b/{bucket}/o/{name}"
            async with http.stream("GET", url, params={"alt": "media"}) as response:
                tail = b""
                async for piece in response.aiter_bytes():
                    size += len(piece)
                    split = (tail + piece).split(b"\n")
                    tail = split.pop()
                    for line in split:
                        loads(line)
                    lines += len(split)
                if tail:
                    loads(tail)
                    lines += 1
        else:
            with open(source, "rb") as handle:
                for line in handle:
                    loads(line)
                    lines += 1
            size = os.path.getsize(source)
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "bytes": size, "examples": lines}


def child(mode: str, source: str) -> None:
    """Run one measurement and print it as JSON (called in a fresh process)."""
    if mode == "idle":
        import httpx  # noqa: F401
        import orjson  # noqa: F401

        from bot.datasets import run_preflight  # noqa: F401
        from bot.tuning.catalogue import default_catalogue

        default_catalogue()
        print(json.dumps({"peak_rss_mb": _peak_rss_mb()}))
        return
    result = asyncio.run(_preflight(source) if mode == "check" else _bare(source))
    result["peak_rss_mb"] = _peak_rss_mb()
    print(json.dumps(result))


# --- parent -------------------------------------------------------------------------------


def _measure(mode: str, source: str, env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, source],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise RuntimeError(f"child {mode} {source} failed:\n{done.stderr}")
    return dict(json.loads(done.stdout))


def _best(mode: str, source: str, env: dict[str, str], repeat: int) -> tuple[float, dict[str, Any]]:
    """MB/s of the fastest of `repeat` runs, and the run with the highest peak RSS."""
    runs = [_measure(mode, source, env) for _ in range(repeat)]
    rate = max(run["bytes"] / run["seconds"] / 1e6 for run in runs)
    return rate, max(runs, key=lambda run: run["peak_rss_mb"])


def _row(
    kind: str, size_mb: int, label: str, source: str, env: dict[str, str], idle: float, repeat: int
) -> dict[str, Any]:
    """Measure and print one row: the pre-flight and the bare loop on the same source."""
    rate, result = _best("check", source, env, repeat)
    bare, _ = _best("bare", source, env, repeat)
    ratio = rate / bare
    over = result["peak_rss_mb"] - idle
    ok = ratio >= GOAL_RATIO and over <= GOAL_RSS_OVER_IDLE_MB
    print(
        f"{kind:>8} {size_mb:>5}MB {label:>6} {rate:>6.1f} MB/s {bare:>5.1f} MB/s {ratio:>6.2f}"
        f" {result['examples']:>11,} {result['peak_rss_mb']:>7.1f}MB {over:>8.1f}MB"
        + ("" if ok else "  (goal missed)"),
        flush=True,
    )
    return {"over": over, "ok": ok}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000", help="file sizes in MB (10^6 bytes)")
    parser.add_argument("--only", choices=KINDS, help="measure one kind of example only")
    parser.add_argument("--repeat", type=int, default=1, help="best of N runs per figure")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "SOURCE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0

    sys.path.insert(0, str(ROOT))
    from tests.fakes.gcs import FakeGcs

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("STORAGE_EMULATOR_HOST", None)
    idle = _measure("idle", "-", env)["peak_rss_mb"]
    print(f"idle process peak RSS: {idle:.1f} MB")
    header = (
        f"{'examples':>8} {'size':>7} {'source':>6} {'pre-flight':>11} {'bare loop':>10}"
        f" {'ratio':>6} {'examples':>11} {'peak RSS':>9} {'over idle':>10}"
    )
    print(header)
    fake = FakeGcs().start()
    failures = 0
    over_idle: dict[tuple[str, str], list[float]] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="preflight-bench-") as tmp:
            for kind in [args.only] if args.only else KINDS:
                for size_mb in (int(s) for s in args.sizes.split(",")):
                    path = Path(tmp) / f"train-{kind}-{size_mb}mb.jsonl"
                    generate(path, size_mb * 1_000_000, short=kind == "short")
                    fake.put_file("bench-data", path.name, path)
                    runs = [
                        ("local", str(path), env),
                        (
                            "gcs",
                            f"gs://bench-data/{path.name}",
                            {**env, "STORAGE_EMULATOR_HOST": fake.base_url},
                        ),
                    ]
                    for label, source, run_env in runs:
                        row = _row(kind, size_mb, label, source, run_env, idle, args.repeat)
                        over_idle.setdefault((kind, label), []).append(row["over"])
                        failures += not row["ok"]
                    path.unlink()
    finally:
        fake.stop()
    for (kind, label), values in over_idle.items():
        spread = max(values) - min(values)
        flat = spread <= GOAL_RSS_SPREAD_MB
        failures += not flat
        print(
            f"peak RSS over idle, {kind} {label}: {min(values):.1f} to {max(values):.1f} MB"
            f" across sizes ({'flat' if flat else 'NOT flat'})"
        )
    print(
        f"goals: ratio >= {GOAL_RATIO:g}, peak RSS <= idle + {GOAL_RSS_OVER_IDLE_MB:g} MB,"
        f" spread across sizes <= {GOAL_RSS_SPREAD_MB:g} MB"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
