"""A real watcher process (`python -m bot.watch`) with METRICS_INTERVAL_SECONDS set low: the
card's progress advances while the emulated job trains, and the success ending is followed in
its thread by the chart, uploaded as Slack's external upload flow expects."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.emulator import Emulator, EmulatorServer
from bot.tuning.states import JobState
from bot.watch.model import NewWatch, WatchKind
from bot.watch.store import SqlWatchStore
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.watch_store import seed_watch
from tests.fakes.watcher_processes import Processes, wait_until, watcher_env
from tests.watch.conftest import PROJECT, REGION, thread_replies

pytestmark = pytest.mark.slow

CARD = "1700000000.000042"
STEP = re.compile(r"step (\d+) of (\d+)")


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[list[Processes]]:
    made: list[Processes] = []
    yield made
    for procs in made:
        procs.stop_all()


def _steps_shown(slack: FakeSlackApi) -> list[int]:
    shown = []
    for call in slack.calls_to("chat.update"):
        found = STEP.search(json.dumps(call.args.get("blocks") or [], ensure_ascii=False))
        if found:
            shown.append(int(found[1]))
    return shown


def _completed(slack: FakeSlackApi) -> list[dict[str, Any]]:
    return [c.args for c in slack.calls_to("files.completeUploadExternal")]


def test_progress_advances_and_the_ending_brings_the_chart(
    processes: list[Processes], fake_slack: FakeSlackApi, sqlite_url: str, tmp_path: Path
) -> None:
    emulator = Emulator(seconds_per_state=8)
    with EmulatorServer(emulator) as vertex:
        store = SqlWatchStore.open(sqlite_url)
        name = emulator.add_job(
            PROJECT,
            REGION,
            display_name="support-bot",
            state=JobState.RUNNING.value,
            validation_uri="gs://b/validation.jsonl",
            steps=400,
        )
        seed_watch(
            store,
            NewWatch(name, "C0TEAM001", "U0STARTER", WatchKind.CREATED, JobState.RUNNING, CARD),
        )
        env = {
            **watcher_env(sqlite_url, fake_slack, vertex),
            "POLL_INTERVAL_SECONDS": "0.3",
            "METRICS_INTERVAL_SECONDS": "1",
        }
        procs = Processes(tmp_path, env)
        processes.append(procs)
        procs.start()
        # Several distinct, growing step counts while the job trains.
        wait_until(lambda: len(set(_steps_shown(fake_slack))) >= 3, 30, "progress advancing")
        shown = _steps_shown(fake_slack)
        assert shown == sorted(shown)
        wait_until(lambda: bool(_completed(fake_slack)), 40, "the chart under the ending")
        assert len(thread_replies(fake_slack, name)) == 1
        (done,) = _completed(fake_slack)
        assert done["channel_id"] == "C0TEAM001"
        assert done["thread_ts"] == CARD
        files = done["files"]
        listed = json.loads(files) if isinstance(files, str) else files
        assert fake_slack.uploads[listed[0]["id"]].startswith(b"\x89PNG\r\n\x1a\n")
        # The curves were read at the metrics pace, not on every state poll.
        polls = emulator.counts["get"]
        assert 0 < emulator.counts["tensorboard_batch_read"] < polls
        store.close()
