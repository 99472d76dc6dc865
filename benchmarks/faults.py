"""Fault injection against real watcher processes: lost and doubled endings (0 / 0 expected).

    python benchmarks/faults.py [--trials 20] [--replicas 2,3] [--endings 400] [--seed S]
                                [--stall-trials 5] [--parallel 2] [--only kill,replicas,...]

Every scenario runs `python -m bot.watch` processes against the Vertex emulator and the Slack
stand-in (tests/fakes) and judges them by what Slack received: each expected ending must have
exactly one `chat.postMessage` carrying the ending metadata per (job, channel).

* kill   — `--trials` kill -9 trials on SQLite and as many on PostgreSQL: 12 jobs (15 watches)
           end at staggered moments, the watcher is SIGKILLed once — on even trials while an
           ending post is held inside Slack, on odd ones at a seeded random moment — and
           restarted until every ending is out.
* replicas — for each count in `--replicas`, that many watchers share one PostgreSQL database
           and announce `--endings` staggered endings.
* stall  — for each replica count, the replica whose first ending post is held is stopped
           (SIGSTOP) past its lease; another must take over, the continued one must not write
           over it.
* burst  — `--stall-trials` runs per replica count: a replica stopped past its lease at a
           seeded random moment of a burst of endings ("mid-burst"), or at the first ending post
           it sends after that moment ("at a post": in the middle of its batch), then continued.
* slow   — two replicas, one ending post that Slack processes only after one lease.

Seeds are printed with each run (trial i of a scenario uses `--seed` + i), so a failure can be
replayed. Exit status 1 when anything was lost or doubled, 2 when a run failed outright.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.watcher_processes import (  # noqa: E402 - needs the path above
    ScenarioResult,
    burst_stall_run,
    kill9_trial,
    kill_all_watchers,
    postgres_reachable,
    postgres_schema,
    replica_run,
    slow_post_run,
    stall_run,
)

SCENARIOS = ("kill", "replicas", "stall", "burst", "slow")
_print_lock = threading.Lock()


def _log(text: str) -> None:
    with _print_lock:
        print(text, flush=True)


@dataclass
class Row:
    """One line of the table: a scenario summed over its trials."""

    scenario: str
    trials: int = 0
    expected: int = 0
    lost: int = 0
    doubled: int = 0
    seconds: float = 0.0  # wall time of the whole scenario (trials may overlap)
    errors: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def add(self, label: str, result: ScenarioResult) -> None:
        """Count one trial's result and keep what is needed to replay a bad one."""
        self.trials += 1
        self.expected += result.expected
        self.lost += len(result.lost)
        self.doubled += len(result.doubled)
        if not result.ok:
            self.failures.append(
                f"{label}: lost {len(result.lost)} doubled {len(result.doubled)} "
                f"{result.lost + result.doubled} {result.notes}"
            )


@contextlib.contextmanager
def _database(backend: str, work: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{work}/watch.db"
    else:
        with postgres_schema() as url:
            yield url


Trial = Callable[[str, Path], ScenarioResult]


def _run(row: Row, backend: str, trials: list[tuple[str, Trial]], parallel: int, root: Path) -> Row:
    """Run the trials (up to `parallel` at once), each with a fresh database and log folder."""

    def one(index: int, label: str, trial: Trial) -> None:
        work = root / f"{row.scenario.replace(' ', '_')}-{index}"
        work.mkdir(parents=True)
        try:
            with _database(backend, work) as url:
                result = trial(url, work)
        except Exception as exc:  # a run that could not finish says so, it is not a pass
            row.errors.append(f"{label}: {exc.__class__.__name__}: {exc} (logs in {work})")
            _log(f"  {row.scenario} {label}: ERROR {exc}")
            return
        row.add(label, result)
        verdict = "ok" if result.ok else "FAILED"
        _log(
            f"  {row.scenario} {label}: {verdict} expected {result.expected} "
            f"lost {len(result.lost)} doubled {len(result.doubled)} "
            f"{result.seconds:.1f} s {'; '.join(result.notes)}"
        )

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        for future in [pool.submit(one, i, *t) for i, t in enumerate(trials)]:
            future.result()
    row.seconds = time.monotonic() - started
    return row


def main() -> int:
    """Run the chosen scenarios, print the table, exit non-zero on any lost or doubled ending."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=20, help="kill -9 trials per backend")
    parser.add_argument("--replicas", default="2,3", help="replica counts, comma-separated")
    parser.add_argument("--endings", type=int, default=400, help="endings per replica run")
    parser.add_argument("--stall-trials", type=int, default=5, help="burst stalls per count")
    parser.add_argument("--seed", type=int, default=None, help="base seed (default: random)")
    parser.add_argument("--parallel", type=int, default=2, help="kill trials run at once")
    parser.add_argument("--only", default=",".join(SCENARIOS), help="scenarios to run")
    args = parser.parse_args()
    # Trials run in worker threads, so an interrupt would leave their watchers running.
    signal.signal(signal.SIGTERM, _interrupted)
    signal.signal(signal.SIGINT, _interrupted)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**6)
    counts = [int(c) for c in args.replicas.split(",") if c.strip()]
    chosen = {s.strip() for s in args.only.split(",")}
    if unknown := chosen - set(SCENARIOS):
        parser.error(f"unknown scenarios {sorted(unknown)}; choose from {', '.join(SCENARIOS)}")
    postgres = postgres_reachable()
    _log(f"seed {seed}; watcher poll interval 0.2 s, lease 5 s")
    if postgres is not None:
        _log(f"PostgreSQL scenarios left out: {postgres}")

    rows: list[Row] = []
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="faults-") as tmp:
        root = Path(tmp)
        if "kill" in chosen:
            for backend in ("sqlite", "postgresql"):
                if backend == "postgresql" and postgres is not None:
                    continue
                kills = [
                    (
                        f"seed={seed + i}",
                        _kill(seed + i, ("in-post",) if i % 2 == 0 else ("random",)),
                    )
                    for i in range(args.trials)
                ]
                rows.append(_run(Row(f"kill -9 ({backend})"), backend, kills, args.parallel, root))
        if postgres is None:
            for n in counts if "replicas" in chosen else []:
                run = _replicas(n, args.endings, seed)
                rows.append(_run(Row(f"{n} replicas"), "pg", [(f"seed={seed}", run)], 1, root))
            for n in counts if "stall" in chosen else []:
                run = _stall(n, seed)
                rows.append(
                    _run(
                        Row(f"stall, post held, {n} replicas"),
                        "pg",
                        [(f"seed={seed}", run)],
                        1,
                        root,
                    )
                )
            for n in counts if "burst" in chosen else []:
                for at_post, where in ((False, "mid-burst"), (True, "at a post")):
                    runs = [
                        (f"seed={seed + i}", _burst(n, seed + i, at_post))
                        for i in range(args.stall_trials)
                    ]
                    rows.append(_run(Row(f"stall {where}, {n} replicas"), "pg", runs, 1, root))
            if "slow" in chosen:
                rows.append(
                    _run(Row("post slower than lease, 2 replicas"), "pg", [("-", _slow())], 1, root)
                )
    total = time.monotonic() - began
    return _report(rows, total)


def _interrupted(signum: int, _frame: object) -> None:
    kill_all_watchers()
    print(f"interrupted by signal {signum}; watchers killed", file=sys.stderr, flush=True)
    os._exit(128 + signum)  # worker threads may be blocked in waits: do not join them


def _kill(seed: int, kills: tuple[str, ...]) -> Trial:
    return lambda url, work: kill9_trial(url, work, seed=seed, kills=kills, log=_log)


def _replicas(replicas: int, endings: int, seed: int) -> Trial:
    return lambda url, work: replica_run(
        url, work, replicas=replicas, endings=endings, seed=seed, log=_log
    )


def _stall(replicas: int, seed: int) -> Trial:
    return lambda url, work: stall_run(
        url, work, replicas=replicas, endings=100, seed=seed, log=_log
    )


def _burst(replicas: int, seed: int, at_post: bool) -> Trial:
    return lambda url, work: burst_stall_run(
        url, work, replicas=replicas, endings=100, seed=seed, at_post=at_post, log=_log
    )


def _slow() -> Trial:
    return lambda url, work: slow_post_run(url, work, log=_log)


def _report(rows: list[Row], total: float) -> int:
    header = (
        f"| {'scenario':<34} | {'trials':>6} | {'endings expected':>16} | {'lost':>4} "
        f"| {'doubled':>7} | {'time':>7} |"
    )
    lines = [header, "|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|"]
    for r in rows:
        lines.append(
            f"| {r.scenario:<34} | {r.trials:>6} | {r.expected:>16} | {r.lost:>4} "
            f"| {r.doubled:>7} | {r.seconds:>6.1f}s |"
        )
    print("\n" + "\n".join(lines))
    print(f"total {total:.0f} s")
    bad = False
    for r in rows:
        for line in r.failures:
            print(f"LOST/DOUBLED {r.scenario} {line}")
            bad = True
        for line in r.errors:
            print(f"ERROR {r.scenario} {line}")
    if any(r.errors for r in rows):
        return 2
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
