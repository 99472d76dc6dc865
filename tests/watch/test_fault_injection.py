"""Fault injection with real watcher processes: small versions of benchmarks/faults.py.

Each scenario (see tests/fakes/watcher_processes.py) runs `python -m bot.watch` against the
Vertex emulator and the Slack stand-in, and the Slack stand-in's ending posts are the oracle:
exactly one per expected (job, channel). Seeds are random per run and printed, so a failure
shows how to replay it: `FAULT_SEED=<seed> pytest tests/watch/test_fault_injection.py`.
Every wait is on a condition with a generous timeout; nothing asserts on time taken.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.fakes.watcher_processes import (
    ScenarioResult,
    kill9_trial,
    postgres_schema,
    replica_run,
    slow_post_run,
    stall_run,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def seed() -> int:
    """The run's base seed: FAULT_SEED when set (to replay), else random; printed either way."""
    value = int(os.environ.get("FAULT_SEED") or random.SystemRandom().randrange(10**6))
    print(f"FAULT_SEED={value}")
    return value


def _assert_exactly_once(result: ScenarioResult) -> None:
    assert result.lost == [], f"{result.name}: endings never posted ({result.notes})"
    assert result.doubled == [], f"{result.name}: endings posted twice ({result.notes})"
    assert result.notes == [n for n in result.notes if " ended as " not in n], result.notes


def _trials(database: Callable[[Path], str], tmp_path: Path, seed: int) -> list[ScenarioResult]:
    """Three kill -9 trials side by side: in a held post, at a random moment, in a held post.

    They overlap because each spends most of its time waiting out the dead watcher's lease.
    """
    modes = ["in-post", "random", "in-post"]

    def trial(i: int) -> ScenarioResult:
        work = tmp_path / f"trial-{i}"
        work.mkdir()
        return kill9_trial(database(work), work, seed=seed + i, kills=(modes[i],))

    with ThreadPoolExecutor(max_workers=len(modes)) as pool:
        return list(pool.map(trial, range(len(modes))))


def test_kill_9_trials_on_sqlite_lose_and_double_nothing(tmp_path: Path, seed: int) -> None:
    for result in _trials(lambda work: f"sqlite:///{work}/watch.db", tmp_path, seed):
        _assert_exactly_once(result)


def test_kill_9_trials_on_postgresql_lose_and_double_nothing(
    tmp_path: Path, seed: int, postgres_url: str
) -> None:
    # One trial uses the fixture's schema; the others get schemas of their own.
    with postgres_schema() as second, postgres_schema() as third:
        urls = iter([postgres_url, second, third])
        for result in _trials(lambda _work: next(urls), tmp_path, seed):
            _assert_exactly_once(result)


@pytest.mark.parametrize("replicas", [2, 3])
def test_replicas_sharing_postgresql_announce_each_ending_once(
    replicas: int, tmp_path: Path, seed: int, postgres_url: str
) -> None:
    result = replica_run(postgres_url, tmp_path, replicas=replicas, endings=60, seed=seed, span=2.0)
    assert result.expected == 60
    _assert_exactly_once(result)


def test_replica_stalled_past_its_lease_is_taken_over_and_cannot_write_over_it(
    tmp_path: Path, seed: int, postgres_url: str
) -> None:
    result = stall_run(postgres_url, tmp_path, replicas=2, endings=30, seed=seed, span=1.5)
    _assert_exactly_once(result)
    assert any("taken over after" in note for note in result.notes), result.notes


def test_post_slower_than_the_lease_is_not_repeated_by_another_replica(
    tmp_path: Path, postgres_url: str
) -> None:
    _assert_exactly_once(slow_post_run(postgres_url, tmp_path))
