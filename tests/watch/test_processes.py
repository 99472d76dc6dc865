"""Real watcher processes (`python -m bot.watch`): killed with SIGKILL mid-cycle, restarted, and
two replicas sharing PostgreSQL. The stand-ins' request logs are the oracle for "exactly once"."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.emulator import Emulator, EmulatorServer
from bot.tuning.states import JobState
from bot.watch.model import NewWatch, WatchKind
from bot.watch.store import SqlWatchStore
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.watch_store import seed_watch
from tests.fakes.watcher_processes import (
    Processes,
    add_heartbeat,
    wait_for_more_cycles,
    wait_until,
    watcher_env,
)
from tests.watch.conftest import PROJECT, REGION, serve_thread_history, thread_replies

INTERVAL = "0.2"


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Callable[[str, FakeSlackApi, EmulatorServer], Processes]]:
    made: list[Processes] = []

    def make(database_url: str, slack: FakeSlackApi, vertex: EmulatorServer) -> Processes:
        env = {
            "PATH": os.environ.get("PATH", ""),
            # The code under test, not whatever copy is installed: a schema this tree added
            # would otherwise be refused as too new by the children.
            "PYTHONPATH": watcher_env(database_url, slack, vertex)["PYTHONPATH"],
            # The worker only posts: no signing secret and no app-level token.
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_API_URL": slack.base_url,
            "VERTEX_EMULATOR_HOST": vertex.host_port,
            "DATABASE_URL": database_url,
            "POLL_INTERVAL_SECONDS": INTERVAL,
            "VERTEX_REQUESTS_PER_MINUTE": "600",
        }
        procs = Processes(tmp_path, env)
        made.append(procs)
        return procs

    yield make
    for procs in made:
        procs.stop_all()


def _watch_jobs(store: SqlWatchStore, emulator: Emulator, count: int) -> list[str]:
    names = []
    for i in range(count):
        name = emulator.add_job(PROJECT, REGION, state="JOB_STATE_RUNNING", display_name=f"m{i}")
        seed_watch(
            store,
            NewWatch(
                name,
                "C0TEAM001",
                "U0STARTER",
                WatchKind.CREATED,
                JobState.RUNNING,
                message_ts=f"1700000000.{i:06d}",
            ),
        )
        names.append(name)
    return names


def _all_announced(store: SqlWatchStore, names: list[str]) -> bool:
    wanted = set(names)
    return all(w.announced_at is not None for w in store.all_watches() if w.job_name in wanted)


def test_worker_runs_with_only_a_bot_token_of_slacks_settings(
    processes: Callable[[str, FakeSlackApi, EmulatorServer], Processes],
    fake_slack: FakeSlackApi,
    sqlite_url: str,
) -> None:
    emulator = Emulator(seconds_per_state=3600)
    with EmulatorServer(emulator) as vertex:
        store = SqlWatchStore.open(sqlite_url)
        names = _watch_jobs(store, emulator, 1)
        procs = processes(sqlite_url, fake_slack, vertex)
        assert "SLACK_SIGNING_SECRET" not in procs.env
        assert "SLACK_APP_TOKEN" not in procs.env
        emulator.set_state(names[0], "JOB_STATE_SUCCEEDED")

        worker = procs.start()
        wait_until(lambda: _all_announced(store, names), 30, "the ending announced")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=15) == 0
        assert len(thread_replies(fake_slack, names[0])) == 1
        store.close()


@pytest.mark.parametrize(("token", "problem"), [(None, "missing"), ("xapp-1-A0-123-abc", "xoxb-")])
def test_worker_without_a_bot_token_names_the_variable_in_one_line(
    token: str | None, problem: str, tmp_path: Path, sqlite_url: str
) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "SLACK_SIGNING_SECRET": "test-signing-secret-0123456789",
        "VERTEX_EMULATOR_HOST": "127.0.0.1:9",
        "DATABASE_URL": sqlite_url,
    }
    if token is not None:
        env["SLACK_BOT_TOKEN"] = token
    done = subprocess.run(
        [sys.executable, "-m", "bot.watch"],
        env=env,
        cwd=tmp_path,  # no stray .env file
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert "SLACK_BOT_TOKEN" in lines[0]
    assert problem in lines[0]
    if token is not None:
        assert token not in done.stderr


def test_worker_with_a_malformed_database_url_names_the_variable_in_one_line(
    tmp_path: Path,
) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "VERTEX_EMULATOR_HOST": "127.0.0.1:9",
        "DATABASE_URL": "postgresql+psycopg://bot:secret-pw@db.internal:port/tuning",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot.watch"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("tuning-bot watcher: DATABASE_URL:")
    assert "secret-pw" not in done.stderr


@pytest.mark.parametrize("held", ["slack:chat.postMessage", "vertex:get"])
def test_kill_9_mid_cycle_and_restart_loses_and_repeats_nothing(
    held: str,
    processes: Callable[[str, FakeSlackApi, EmulatorServer], Processes],
    fake_slack: FakeSlackApi,
    sqlite_url: str,
) -> None:
    emulator = Emulator(seconds_per_state=3600)
    with EmulatorServer(emulator) as vertex:
        serve_thread_history(fake_slack)
        store = SqlWatchStore.open(sqlite_url)
        names = _watch_jobs(store, emulator, 3)
        add_heartbeat(store, emulator)
        procs = processes(sqlite_url, fake_slack, vertex)
        side, method = held.split(":")
        release = fake_slack.hold(method) if side == "slack" else emulator.hold(method)
        for name in names:
            emulator.set_state(name, "JOB_STATE_SUCCEEDED")

        first = procs.start()
        if side == "slack":
            fake_slack.wait_for(method, 1, timeout=20)
        else:
            wait_until(lambda: emulator.counts[method] >= 1, 20, f"a held {method}")
        time.sleep(0.1)  # the request is in flight and held
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        release.set()

        second = procs.start()
        wait_until(
            lambda: _all_announced(store, names), 30, "every ending announced after the restart"
        )
        wait_for_more_cycles(emulator)  # later cycles happened: nothing may be posted again
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=15) == 0

        for name in names:
            assert len(thread_replies(fake_slack, name)) == 1, name
        if method == "chat.postMessage":
            # The restarted watcher found the interrupted post in the thread instead of resending.
            assert fake_slack.calls_to("conversations.replies")
        ended = [w for w in store.all_watches() if w.job_name in set(names)]
        assert [w.end_reason for w in ended] == ["announced"] * len(names)
        store.close()


def test_two_replicas_on_postgresql_announce_200_endings_exactly_once(
    processes: Callable[[str, FakeSlackApi, EmulatorServer], Processes],
    fake_slack: FakeSlackApi,
    postgres_url: str,
) -> None:
    emulator = Emulator(seconds_per_state=3600)
    with EmulatorServer(emulator) as vertex:
        serve_thread_history(fake_slack)
        store = SqlWatchStore.open(postgres_url)
        names = _watch_jobs(store, emulator, 200)
        add_heartbeat(store, emulator)
        procs = processes(postgres_url, fake_slack, vertex)
        replicas = [procs.start(), procs.start()]
        time.sleep(1.0)  # both replicas polling the running jobs
        for i, name in enumerate(names):
            emulator.set_state(name, "JOB_STATE_SUCCEEDED" if i % 3 else "JOB_STATE_FAILED")
            if i % 50 == 0:
                time.sleep(0.2)  # endings arrive over several cycles

        wait_until(lambda: _all_announced(store, names), 45, "200 endings announced")
        wait_for_more_cycles(emulator)  # later cycles happened: nothing may be posted again
        for proc in replicas:
            proc.send_signal(signal.SIGTERM)
        assert [proc.wait(timeout=15) for proc in replicas] == [0, 0]

        counts = {name: len(thread_replies(fake_slack, name)) for name in names}
        assert sorted(set(counts.values())) == [1]
        assert len(thread_replies(fake_slack)) == 200
        wanted = set(names)
        owners = Counter(w.announcing_by for w in store.all_watches() if w.job_name in wanted)
        print("announcements per replica:", sorted(owners.values()))
        store.close()
