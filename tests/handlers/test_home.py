"""The `home` use case in process: the real Vertex client on the emulator, a real SQLite store,
and a clock the test moves (the cache's few seconds, without waiting for them)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from bot.emulator import Emulator
from bot.handlers.home import ENDED_SHOWN, HOME_CACHE_SECONDS, HomeHandlers
from bot.handlers.jobs import Actor
from bot.tuning.access import AccessPolicy
from bot.tuning.refs import JobRef, Location
from bot.tuning.states import JobState
from bot.vertex.auth import NoAuth
from bot.vertex.client import TuningClient
from bot.watch.model import NewWatch, WatchKind
from bot.watch.store import SqlWatchStore

PROJECT, REGION = "test-project", "us-central1"
HOST = "vertex-emulator.test:80"
ALICE = Actor("U0ALICE01", "D0ALICE01", "en")


@dataclass
class Rig:
    homes: HomeHandlers
    emulator: Emulator
    store: SqlWatchStore
    clock: list[float]


@pytest.fixture
async def rig(tmp_path: Any) -> AsyncIterator[Rig]:
    emulator = Emulator(seconds_per_state=3600)
    http = httpx.AsyncClient(mounts={f"http://{HOST}": httpx.ASGITransport(app=emulator.app)})
    tuning = TuningClient(http, auth=NoAuth(), emulator_host=HOST)
    store = SqlWatchStore.open(f"sqlite:///{tmp_path}/watch.db")
    clock = [1000.0]
    homes = HomeHandlers(
        client=tuning,
        store=store,
        location=Location(PROJECT, REGION),
        policy=AccessPolicy(allowed_users=frozenset({"U0ALICE01"})),
        clock=lambda: clock[0],
    )
    yield Rig(homes, emulator, store, clock)
    await tuning.aclose()
    store.close()


async def _watch(rig: Rig, name: str, state: JobState, **kw: Any) -> None:
    await rig.store.add_watch(
        NewWatch(
            job_name=name,
            channel_id="C0TUNING1",
            started_by="U0ALICE01",
            kind=kw.pop("kind", WatchKind.CREATED),
            state=state,
            **kw,
        )
    )


async def test_concurrent_opens_share_one_read_and_the_cache_lasts_seconds(rig: Rig) -> None:
    rig.emulator.add_job(PROJECT, REGION, display_name="busy", state="JOB_STATE_RUNNING")

    homes = await asyncio.gather(*(rig.homes.home(ALICE) for _ in range(8)))

    assert rig.emulator.counts["list"] == 1
    assert all(h is homes[0] for h in homes)
    assert [j.display_name for j in homes[0].team] == ["busy"]
    rig.clock[0] += HOME_CACHE_SECONDS - 0.1
    await rig.homes.home(ALICE)
    assert rig.emulator.counts["list"] == 1
    rig.clock[0] += 0.2
    await rig.homes.home(ALICE)
    assert rig.emulator.counts["list"] == 2


async def test_ended_jobs_are_read_once_and_shown_newest_ten(rig: Rig) -> None:
    names = [
        rig.emulator.add_job(PROJECT, REGION, display_name=f"old-{i}", state="JOB_STATE_FAILED")
        for i in range(ENDED_SHOWN + 2)
    ]
    for name in names:
        await _watch(rig, name, JobState.FAILED)

    first = await rig.homes.home(ALICE)
    gets = rig.emulator.counts["get"]
    rig.clock[0] += HOME_CACHE_SECONDS * 2
    again = await rig.homes.home(ALICE)

    assert len(first.ended) == ENDED_SHOWN
    assert all(e.job is not None and e.job.base_model for e in first.ended)
    assert rig.emulator.counts["get"] == gets  # an ended job never changes
    assert [e.name for e in again.ended] == [e.name for e in first.ended]
    assert not any(e.can_cancel for e in first.ended)


async def test_only_the_starter_may_cancel_and_a_watcher_may_not(rig: Rig) -> None:
    mine = rig.emulator.add_job(PROJECT, REGION, display_name="mine", state="JOB_STATE_RUNNING")
    watched = rig.emulator.add_job(PROJECT, REGION, display_name="seen", state="JOB_STATE_RUNNING")
    await _watch(rig, mine, JobState.RUNNING)
    await _watch(rig, watched, JobState.RUNNING, kind=WatchKind.WATCHED)

    home = await rig.homes.home(ALICE)

    assert {e.display_name: e.can_cancel for e in home.active} == {"mine": True, "seen": False}


async def test_what_the_watcher_read_since_the_listing_wins(rig: Rig) -> None:
    name = rig.emulator.add_job(PROJECT, REGION, display_name="ends", state="JOB_STATE_RUNNING")
    await _watch(rig, name, JobState.RUNNING)
    assert [e.state for e in (await rig.homes.home(ALICE)).active] == [JobState.RUNNING]

    rig.emulator.set_state(name, "JOB_STATE_SUCCEEDED")
    rig.clock[0] += 1
    rig.homes.job_seen(await rig.homes.client.get(JobRef.from_name(name)))
    home = await rig.homes.home(ALICE, fresh=True)

    assert home.active == ()
    assert [e.state for e in home.ended] == [JobState.SUCCEEDED]
    assert home.team == ()  # the listing of seconds ago is not shown as still running
    assert rig.emulator.counts["list"] == 1


async def test_a_user_not_allowed_gets_the_reason_audited_and_nothing_read(rig: Rig) -> None:
    home = await rig.homes.home(Actor("U0MALLORY", "D0MALLORY", "en"))

    assert home.refusal is not None
    assert home.refusal.key == "auth.user_not_allowed"
    assert rig.emulator.counts["list"] == 0
    entry = rig.store.audit_entries()[-1]
    assert (entry.actor, entry.action, entry.outcome) == ("U0MALLORY", "read", "refused")
    assert entry.detail == "auth.user_not_allowed"
