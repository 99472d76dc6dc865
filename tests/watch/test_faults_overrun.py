"""One slow location or one slow post must not hold back the others, nor be polled twice.

The poller waits for a location's reads at most `read_limit`, and for one watch's Slack calls
at most `post_limit` (1 s and 2 s at a 1 s interval); what takes longer goes on in the
background with its leases, and its results are written when it ends. Held requests stand for
the hung read or post; every wait is on a condition, never on a time bound.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from bot.tuning.states import JobState
from bot.watch.policy import PollConfig
from tests.watch.conftest import Rig, thread_replies

SLOW_REGION = "europe-west4"


@pytest.fixture(autouse=True)
def _let_go(rig: Rig) -> Iterator[None]:
    """Release whatever a failed test left held, before the servers shut down."""
    yield
    rig.emulator.release_holds()
    for faults in rig.slack._faults.values():
        for fault in faults:
            fault.release.set()


async def test_a_hung_location_does_not_delay_the_others_nor_get_polled_twice(rig: Rig) -> None:
    rig.config = PollConfig(interval=1.0)
    slow = [rig.add_job(JobState.RUNNING, region=SLOW_REGION) for _ in range(2)]
    fast = rig.add_job(JobState.RUNNING)
    for name in [*slow, fast]:
        rig.watch(name)
    for name in [*slow, fast]:
        rig.emulator.set_state(name, JobState.SUCCEEDED.value)
    held = rig.emulator.hold("list")  # the slow region's listing hangs (two jobs: one `list`)

    first = await asyncio.wait_for(rig.cycle(), timeout=25)  # a guard against a hang only

    assert first.slow_reads == 1
    assert len(thread_replies(rig.slack, fast)) == 1  # announced without waiting
    assert rig.emulator.counts["list"] == 1  # still the held one, not retried
    stuck = [w for w in rig.store.all_watches() if w.region == SLOW_REGION]
    assert all(w.lease_owner == rig.owner and w.announced_at is None for w in stuck)

    second = await rig.cycle()  # the lease is the background read's: nobody claims it

    assert second.claimed == 0
    assert rig.emulator.counts == {"list": 1, "get": 1}

    held.set()
    await rig.memory.settle()

    for name in slow:
        assert len(thread_replies(rig.slack, name)) == 1
    assert all(w.end_reason == "announced" for w in rig.store.all_watches())
    assert all(w.lease_owner is None for w in rig.store.all_watches())
    assert rig.memory.late.announced == 2

    await rig.cycle()
    assert len(thread_replies(rig.slack)) == 3


async def test_a_hung_post_does_not_delay_the_others_nor_get_posted_twice(rig: Rig) -> None:
    rig.config = PollConfig(interval=1.0)
    names = [rig.add_job(JobState.RUNNING), rig.add_job(JobState.RUNNING, region=SLOW_REGION)]
    rig.watch(names[0], "C0FIRST01")
    rig.watch(names[1], "C0SECOND1")
    for name in names:
        rig.emulator.set_state(name, JobState.CANCELLED.value)
    held = rig.slack.hold("chat.postMessage")  # whichever ending goes first hangs

    first = await asyncio.wait_for(rig.cycle(), timeout=25)  # a guard against a hang only

    assert first.slow_steps == 1
    assert first.announced == 1
    hung = [w for w in rig.store.all_watches() if w.announced_at is None]
    assert len(hung) == 1
    assert hung[0].announcing_at is not None
    assert hung[0].lease_owner == rig.owner

    second = await rig.cycle()

    assert second.claimed == 0
    assert len(rig.slack.calls_to("chat.postMessage")) == 2
    assert rig.slack.calls_to("conversations.replies") == []

    held.set()
    await rig.memory.settle()

    assert all(w.end_reason == "announced" for w in rig.store.all_watches())
    assert all(w.lease_owner is None for w in rig.store.all_watches())
    await rig.cycle()
    assert sorted(r["channel"] for r in thread_replies(rig.slack)) == ["C0FIRST01", "C0SECOND1"]


async def test_background_work_keeps_its_lease_across_cycles(rig: Rig) -> None:
    rig.config = PollConfig(interval=1.0)  # a 5 s lease: three cycles later it would lapse
    name = rig.add_job(JobState.RUNNING)
    rig.watch(name)
    held = rig.emulator.hold("get")

    await asyncio.wait_for(rig.cycle(), timeout=25)
    for _ in range(8):
        report = await rig.cycle()
        assert report.claimed == 0

    (watch,) = rig.store.all_watches()
    assert watch.lease_until is not None
    assert watch.lease_until > rig.now
    assert rig.emulator.counts["get"] == 1
    held.set()
    await rig.memory.settle()
    (watch,) = rig.store.all_watches()
    assert watch.lease_owner is None
    assert watch.last_update_time is not None  # the late answer was written


def test_time_limits_default_to_half_an_interval_within_bounds() -> None:
    assert PollConfig(interval=0.5).read_limit == 1.0
    assert PollConfig(interval=0.5).post_limit == 2.0
    assert PollConfig(interval=10).read_limit == 5.0
    assert PollConfig(interval=3600).read_limit == 30.0
    assert PollConfig(interval=3600).post_limit == 15.0
    assert PollConfig(read_limit_seconds=0.1, post_limit_seconds=0.2).post_limit == 0.2
