"""How many Vertex requests one poll cycle sends, by number of watched jobs."""

from __future__ import annotations

import pytest

from bot.tuning.refs import JobRef
from bot.tuning.states import JobState
from bot.watch.model import NewWatch, WatchKind
from tests.watch.conftest import PROJECT, REGION, Rig


async def _watch_many(rig: Rig, count: int) -> list[str]:
    names = [rig.emulator.add_job(PROJECT, REGION, state="JOB_STATE_RUNNING") for _ in range(count)]
    for name in names:
        await rig.store.add_watch(
            NewWatch(name, "C0TEAM001", "U0STARTER", WatchKind.WATCHED, JobState.RUNNING, "1.1"),
            now=rig.now,
        )
    return names


@pytest.mark.parametrize(
    ("jobs", "expected"),
    [
        (1, {"get": 1}),
        (10, {"list": 1}),
        (100, {"list": 1}),
        (1000, {"list": 10}),  # the server's page size is 100
    ],
)
async def test_one_cycle_reads_all_watched_jobs_with_few_requests(
    rig: Rig, jobs: int, expected: dict[str, int]
) -> None:
    await _watch_many(rig, jobs)

    report = await rig.cycle()

    assert report.claimed == jobs
    assert {k: v for k, v in report.vertex_calls.items() if v} == expected
    assert report.unread == 0
    assert report.read_errors == 0


async def test_jobs_that_ended_are_found_in_one_page_of_the_unfiltered_listing(rig: Rig) -> None:
    names = await _watch_many(rig, 100)
    for name in names[:5]:
        rig.emulator.set_state(name, "JOB_STATE_SUCCEEDED")

    report = await rig.cycle()

    # The active listing, then the newest page of all jobs, which holds the five endings.
    assert {k: v for k, v in report.vertex_calls.items() if v} == {"list": 2}
    assert report.announced == 5


async def test_a_single_ended_job_costs_one_get_on_top_of_the_listing(rig: Rig) -> None:
    names = await _watch_many(rig, 100)
    rig.emulator.set_state(names[0], "JOB_STATE_SUCCEEDED")

    report = await rig.cycle()

    assert {k: v for k, v in report.vertex_calls.items() if v} == {"list": 1, "get": 1}
    assert report.announced == 1


async def test_unrelated_active_jobs_do_not_make_listing_cost_more_than_gets(rig: Rig) -> None:
    for _ in range(1000):  # someone else's busy project: ten pages of active jobs
        rig.emulator.add_job(PROJECT, REGION, state="JOB_STATE_RUNNING")
    await _watch_many(rig, 4)

    report = await rig.cycle()

    assert report.total_vertex_calls <= 4 + 2


async def test_a_server_that_rejects_the_filter_is_listed_without_it(rig: Rig) -> None:
    names = await _watch_many(rig, 10)
    rig.emulator.inject("list", 400, message="Unsupported filter field: state.")

    first = await rig.cycle()
    second = await rig.cycle()

    assert {k: v for k, v in first.vertex_calls.items() if v} == {"list": 2}
    assert {k: v for k, v in second.vertex_calls.items() if v} == {"list": 1}
    # The location as the watches name it (the emulator names jobs by project number).
    assert rig.memory.filter_rejected == {JobRef.from_name(names[0]).location}
