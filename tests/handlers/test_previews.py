"""Link previews: jobs read a few at a time, and nothing for a job that may not be shown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.handlers.jobs import PREVIEW_CONCURRENCY, Actor
from bot.tuning.access import AccessPolicy
from bot.tuning.job import TuningJob
from bot.tuning.refs import JobRef
from tests.handlers.test_jobs import PROJECT, REGION, Rig, _rig

ALICE = Actor("U0ALICE01", "C0TUNING1")


class CountingReads:
    """The Vertex client, counting how many reads are in flight at once."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.in_flight = 0
        self.most = 0
        self.reads = 0

    async def get(self, ref: JobRef) -> TuningJob:
        self.in_flight += 1
        self.reads += 1
        self.most = max(self.most, self.in_flight)
        try:
            # Let every other read that may start, start, before this one answers.
            for _ in range(5):
                await asyncio.sleep(0)
            return await self._inner.get(ref)  # type: ignore[no-any-return]
        finally:
            self.in_flight -= 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@pytest.fixture
async def rig(tmp_path: Any) -> AsyncIterator[Rig]:
    built, tuning, store = await _rig(tmp_path)
    yield built
    await tuning.aclose()
    store.close()


def _jobs(rig: Rig, count: int) -> list[JobRef]:
    return [
        JobRef.from_name(rig.emulator.add_job(PROJECT, REGION, display_name=f"job-{n}"))
        for n in range(count)
    ]


async def test_jobs_are_read_concurrently_but_only_a_few_at_a_time(rig: Rig) -> None:
    refs = [JobRef(PROJECT, ref.region, ref.job_id) for ref in _jobs(rig, 8)]
    reads = CountingReads(rig.handlers.client)
    rig.handlers.client = reads

    jobs = await rig.handlers.preview(ALICE, refs)

    assert [job.display_name if job else None for job in jobs] == [f"job-{n}" for n in range(8)]
    assert 1 < reads.most <= PREVIEW_CONCURRENCY


async def test_a_job_google_does_not_show_is_none_in_its_place(rig: Rig) -> None:
    (ref,) = _jobs(rig, 1)
    missing = JobRef(PROJECT, REGION, "999999")
    outside = JobRef("someone-elses", REGION, "1")

    jobs = await rig.handlers.preview(
        ALICE, [missing, JobRef(PROJECT, REGION, ref.job_id), outside]
    )

    assert [job.display_name if job else None for job in jobs] == [None, "job-0", None]


async def test_someone_who_may_not_read_jobs_gets_no_preview_and_google_is_not_asked(
    tmp_path: Any,
) -> None:
    built, tuning, store = await _rig(
        tmp_path, policy=AccessPolicy(allowed_users=frozenset({"U0BOB0001"}))
    )
    try:
        (ref,) = _jobs(built, 1)
        reads = CountingReads(built.handlers.client)
        built.handlers.client = reads
        assert await built.handlers.preview(ALICE, [ref]) == [None]
        assert reads.reads == 0
    finally:
        await tuning.aclose()
        store.close()
