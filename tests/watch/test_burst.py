"""Many watched jobs ending at once: announced in the next cycle with a handful of requests.

A mass cancel or a quota event ends hundreds of jobs in the same second. The active listing no
longer shows them; the poller finds them in the unfiltered listing a page at a time instead of
sending one `get` per job. Everything runs against the emulator over loopback HTTP, the Slack
stand-in and a SQLite store; the emulator's request counts are the oracle.
"""

from __future__ import annotations

import json
from collections import Counter

from bot.tuning.refs import JobRef
from bot.tuning.states import JobState
from bot.watch.budget import RequestBudget
from tests.watch.conftest import PROJECT, REGION, Rig, thread_replies

BURST = 200


def _watch_running(rig: Rig, count: int) -> list[str]:
    """`count` running jobs, each watched with a card that shows RUNNING."""
    names = [rig.add_job(JobState.RUNNING) for _ in range(count)]
    for name in names:
        rig.watch(name)
    return names


def _add_unwatched(rig: Rig, count: int, state: str = "JOB_STATE_SUCCEEDED") -> None:
    """Other people's jobs in the same project and region."""
    for _ in range(count):
        rig.emulator.add_job(PROJECT, REGION, state=state)


def _end_all(rig: Rig, names: list[str], state: str = "JOB_STATE_CANCELLED") -> None:
    for name in names:
        rig.emulator.set_state(name, state)


def _replies_per_job(rig: Rig) -> Counter[str]:
    return Counter(r["metadata"]["event_payload"]["job"] for r in thread_replies(rig.slack))


def _calls(report_calls: Counter[str]) -> dict[str, int]:
    return {method: n for method, n in report_calls.items() if n}


async def test_two_hundred_simultaneous_endings_are_announced_in_one_cycle(rig: Rig) -> None:
    names = _watch_running(rig, BURST)
    steady = await rig.cycle()
    assert steady.announced == 0
    _end_all(rig, names)

    report = await rig.cycle()

    assert report.announced == BURST
    assert _replies_per_job(rig) == Counter(dict.fromkeys(names, 1))
    assert report.vertex_calls["get"] == 0
    assert report.total_vertex_calls <= 5
    assert report.unread == 0
    assert report.read_errors == 0
    # Nothing is left to announce or to read.
    after = await rig.cycle()
    assert after.claimed == 0
    assert after.total_vertex_calls == 0
    assert len(thread_replies(rig.slack)) == BURST


async def test_endings_found_in_the_listing_name_the_tuned_model_as_get_would(rig: Rig) -> None:
    names = _watch_running(rig, 20)
    _end_all(rig, names, "JOB_STATE_SUCCEEDED")

    report = await rig.cycle()

    assert report.vertex_calls["get"] == 0
    assert report.announced == 20
    jobs = {JobRef.from_name(j["name"]).job_id: j for j in rig.emulator.jobs()}
    for reply in thread_replies(rig.slack):
        name = reply["metadata"]["event_payload"]["job"]
        tuned = jobs[JobRef.from_name(name).job_id]["tunedModel"]
        body = json.dumps(reply)
        assert tuned["model"] in body
        assert tuned["endpoint"] in body
        assert reply["reply_broadcast"] is True


async def test_old_stragglers_behind_many_newer_jobs_are_read_with_get(rig: Rig) -> None:
    stragglers = _watch_running(rig, 2)
    _add_unwatched(rig, 1000)  # ten pages of other people's jobs, all newer than the two
    recent = _watch_running(rig, 50)
    _end_all(rig, [*stragglers, *recent])

    report = await rig.cycle()

    assert report.announced == 52
    assert _replies_per_job(rig) == Counter(dict.fromkeys([*stragglers, *recent], 1))
    assert report.vertex_calls["get"] == 2  # the two stragglers, not the 50 recent jobs
    # The scan gave up after a few dry pages instead of paging through the ten in between.
    assert report.vertex_calls["list"] <= 4


async def test_a_lone_old_ending_among_thousands_of_newer_jobs_costs_no_scan(rig: Rig) -> None:
    old = _watch_running(rig, 1)
    _add_unwatched(rig, 3000)
    running = _watch_running(rig, 3)
    _end_all(rig, old)

    report = await rig.cycle()

    assert report.announced == 1
    assert thread_replies(rig.slack, old[0])
    # One page of the active listing shows the three running jobs; the one missing job is
    # read with `get` rather than by scanning thirty pages of history.
    assert _calls(report.vertex_calls) == {"list": 1, "get": 1}
    assert report.unread == 0
    assert all(w.announced_at is None for w in rig.store.all_watches() if w.job_name in running)


async def test_a_burst_is_found_when_google_ignores_the_filter(rig: Rig) -> None:
    rig.emulator.honour_filter = False
    _add_unwatched(rig, 300)  # older history, which the ignored filter lets through
    names = _watch_running(rig, BURST)
    steady = await rig.cycle()
    assert steady.unread == 0
    assert steady.announced == 0
    _end_all(rig, names)

    report = await rig.cycle()

    assert report.announced == BURST
    assert _replies_per_job(rig) == Counter(dict.fromkeys(names, 1))
    assert report.vertex_calls["get"] == 0
    # The first listing already was the unfiltered one: it is not paged through twice.
    assert report.total_vertex_calls <= 2


async def test_a_burst_on_a_server_that_rejects_the_filter(rig: Rig) -> None:
    rig.emulator.inject("list", 400, message="Unsupported filter field: state.")
    names = _watch_running(rig, BURST)
    _end_all(rig, names)

    report = await rig.cycle()

    assert report.announced == BURST
    assert _replies_per_job(rig) == Counter(dict.fromkeys(names, 1))
    assert report.vertex_calls["get"] == 0
    assert report.total_vertex_calls <= 1 + 2  # the refused request, then two pages


async def test_spent_budget_keeps_the_rest_of_a_burst_due_and_announces_it_later(
    rig: Rig,
) -> None:
    clock = [0.0]
    rig.budget = RequestBudget(3, clock=lambda: clock[0])
    names = _watch_running(rig, BURST)
    location = JobRef.from_name(names[0]).location
    assert rig.budget.try_take(location)  # spent elsewhere: two requests are left this minute
    _end_all(rig, names)

    first = await rig.cycle()

    # The active listing and one page of the scan: the newest hundred endings.
    assert _calls(first.vertex_calls) == {"list": 2}
    assert first.announced == 100
    assert first.unread == 100
    unannounced = [w for w in rig.store.all_watches() if w.announced_at is None]
    assert len(unannounced) == 100
    assert all(w.next_poll_at <= rig.now for w in unannounced)
    assert all(w.lease_owner is None for w in unannounced)

    clock[0] += 60.0  # the budget refills
    second = await rig.cycle()

    assert second.announced == 100
    assert second.vertex_calls["get"] == 0
    assert second.total_vertex_calls <= 3
    assert _replies_per_job(rig) == Counter(dict.fromkeys(names, 1))


async def test_a_failed_scan_backs_off_every_job_it_did_not_find(rig: Rig) -> None:
    names = _watch_running(rig, BURST)
    _end_all(rig, names)
    rig.emulator.inject("list", 200)  # the active listing answers
    rig.emulator.inject("list", 503, times=2)  # the scan fails, retry included

    report = await rig.cycle()

    assert report.announced == 0
    assert report.read_errors == BURST
    assert report.vertex_calls["get"] == 0
    assert thread_replies(rig.slack) == []
    assert {w.error_count for w in rig.store.all_watches()} == {1}

    later = await rig.cycle(advance=rig.config.max_backoff)

    assert later.announced == BURST
    assert _replies_per_job(rig) == Counter(dict.fromkeys(names, 1))
