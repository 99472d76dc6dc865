"""The `Watcher` object: its clock fires cycles, and stopping it never fakes an announcement."""

from __future__ import annotations

import asyncio

from bot.tuning.states import JobState
from bot.watch.policy import PollConfig
from bot.watch.service import Watcher
from tests.watch.conftest import Rig, serve_thread_history, thread_replies


def _watcher(rig: Rig, owner: str, interval: float = 60) -> Watcher:
    return Watcher(
        rig.store,
        rig.client,
        rig.notifier,
        config=PollConfig(interval=interval),
        budget=rig.budget,
        owner=owner,
    )


async def test_stop_during_a_held_post_leaves_the_ending_unannounced_then_it_is_found(
    rig: Rig,
) -> None:
    serve_thread_history(rig.slack)
    name = rig.add_job(JobState.RUNNING)
    rig.watch(name, message_ts="1700000000.000001")
    rig.emulator.set_state(name, JobState.SUCCEEDED.value)
    release = rig.slack.hold("chat.postMessage")
    first = _watcher(rig, "replica-a")

    cycle = asyncio.create_task(first.run_once())
    await asyncio.to_thread(rig.slack.wait_for, "chat.postMessage", 1, 10)
    await first.stop(grace=0.2)
    await asyncio.wait_for(cycle, 5)
    release.set()

    (stored,) = rig.store.all_watches()
    assert stored.announced_at is None  # Slack never confirmed it to this process
    assert stored.announcing_at is not None
    assert stored.lease_owner is None  # handed back at once, not left to expire

    second = _watcher(rig, "replica-b")
    await second.run_once()
    (stored,) = rig.store.all_watches()
    assert stored.announced_at is not None
    assert len(thread_replies(rig.slack, name)) == 1  # found in the thread, not sent again


async def test_the_clock_fires_cycles_until_stopped(rig: Rig) -> None:
    name = rig.add_job(JobState.RUNNING)
    rig.watch(name)
    watcher = _watcher(rig, "replica-a", interval=0.2)

    watcher.start()
    rig.emulator.set_state(name, JobState.CANCELLED.value)
    await asyncio.to_thread(rig.slack.wait_for, "chat.postMessage", 1, 10)
    await watcher.stop()
    calls = rig.emulator.counts["get"]
    await asyncio.sleep(0.5)

    assert rig.emulator.counts["get"] == calls  # nothing runs after stop()
    assert len(thread_replies(rig.slack, name)) == 1


async def test_metrics_show_watched_jobs_by_state_after_a_cycle(rig: Rig) -> None:
    from bot.metrics import REGISTRY

    running = rig.add_job(JobState.RUNNING)
    queued = rig.add_job(JobState.QUEUED)
    rig.watch(running, state=JobState.RUNNING)
    rig.watch(queued, state=JobState.QUEUED)
    rig.watch(queued, "C0OTHER01", state=JobState.QUEUED)

    await _watcher(rig, "replica-a").run_once()

    def gauge(state: str) -> float | None:
        return REGISTRY.get_sample_value("tuning_bot_watched_jobs", {"state": state})

    assert gauge(JobState.RUNNING.value) == 1
    assert gauge(JobState.QUEUED.value) == 2


async def test_stop_lets_a_post_handed_to_the_background_finish_within_the_grace(
    rig: Rig,
) -> None:
    serve_thread_history(rig.slack)
    name = rig.add_job(JobState.RUNNING)
    rig.watch(name, message_ts="1700000000.000001")
    rig.emulator.set_state(name, JobState.SUCCEEDED.value)
    release = rig.slack.hold("chat.postMessage")
    # A post limit shorter than the hold: the cycle hands the post to the background.
    watcher = Watcher(
        rig.store,
        rig.client,
        rig.notifier,
        config=PollConfig(interval=60, post_limit_seconds=0.2),
        budget=rig.budget,
        owner="replica-a",
    )
    await watcher.run_once()
    assert rig.store.all_watches()[0].announced_at is None  # still held at Slack

    loop = asyncio.get_running_loop()
    loop.call_later(0.3, release.set)
    await watcher.stop(grace=10)

    (stored,) = rig.store.all_watches()
    assert stored.announced_at is not None
    assert len(thread_replies(rig.slack, name)) == 1
