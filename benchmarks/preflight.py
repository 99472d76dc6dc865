"""Dataset pre-flight throughput and memory, for local files and through Cloud Storage.

    python benchmarks/preflight.py                 # 10 MB, 100 MB and 1 GB files
    python benchmarks/preflight.py --sizes 10,100  # fewer

Each file is generated into a temporary directory (deleted afterwards) from varied Gemini
examples (1 to 3 turns, some Japanese text; about 2.9 KB each, or about 150 bytes with
`--short`). Every measurement runs in a fresh process so its
peak RSS (VmHWM) is its own; an idle process that has imported the same modules gives the
baseline. Cloud Storage reads go through the loopback JSON API stand-in from the tests, served
from the parent process, so the child's memory is the client's only.

Goals: at least 100 MB/s, and peak RSS within 60 MB of the idle process whatever the size.
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
GOAL_MB_PER_S = 100.0
GOAL_RSS_OVER_IDLE_MB = 60.0
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
    # About 150 bytes: the worst case, where per-example work outweighs parsing.
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


def child(mode: str, source: str) -> None:
    """Run one measurement and print it as JSON (called in a fresh process)."""
    import httpx

    from bot.datasets import Budget, DatasetOpener, run_preflight
    from bot.tuning.catalogue import default_catalogue

    model = default_catalogue().get(MODEL)
    assert model is not None
    if mode == "idle":
        print(json.dumps({"peak_rss_mb": _peak_rss_mb()}))
        return

    async def check() -> dict[str, Any]:
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
        return {
            "seconds": seconds,
            "bytes": report.bytes_read,
            "examples": report.example_count,
            "errors": report.error_count,
            "tokens": report.estimated_tokens,
        }

    result = asyncio.run(check())
    result["peak_rss_mb"] = _peak_rss_mb()
    print(json.dumps(result))


# --- parent -------------------------------------------------------------------------------


def _measure(mode: str, source: str, env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, source],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=ROOT,
    )
    return dict(json.loads(done.stdout))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000", help="file sizes in MB (10^6 bytes)")
    parser.add_argument(
        "--short", action="store_true", help="~150-byte examples instead of ~2.9 KB ones"
    )
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
    print(
        f"{'size':>8} {'source':>6} {'MB/s':>8} {'examples':>10} {'peak RSS':>10} {'over idle':>10}"
    )
    fake = FakeGcs().start()
    failures = 0
    try:
        with tempfile.TemporaryDirectory(prefix="preflight-bench-") as tmp:
            for size_mb in (int(s) for s in args.sizes.split(",")):
                path = Path(tmp) / f"train-{size_mb}mb.jsonl"
                generate(path, size_mb * 1_000_000, short=args.short)
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
                    result = _measure("check", source, run_env)
                    rate = result["bytes"] / result["seconds"] / 1e6
                    over = result["peak_rss_mb"] - idle
                    ok = rate >= GOAL_MB_PER_S and over <= GOAL_RSS_OVER_IDLE_MB
                    failures += not ok
                    print(
                        f"{size_mb:>6}MB {label:>6} {rate:>8.1f} {result['examples']:>10,} "
                        f"{result['peak_rss_mb']:>8.1f}MB {over:>8.1f}MB"
                        + ("" if ok else "  (goal missed)")
                    )
                path.unlink()
    finally:
        fake.stop()
    print(f"goals: >= {GOAL_MB_PER_S:g} MB/s, peak RSS <= idle + {GOAL_RSS_OVER_IDLE_MB:g} MB")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
