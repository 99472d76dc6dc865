"""Google answers that must not be taken at their word: one 404, a refused read, no state.

* A job is declared gone only after its 404s lasted (3 polls and 5 minutes by default) and
  the unfiltered listing of its location agrees; a job that answers again starts afresh.
* A read Google keeps refusing (403) is said once in the thread with the permission to grant,
  retried a few intervals apart, and its recovery is said once too.
* An answer without `state` keeps the state the card shows.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

from bot.tuning.job import TuningJob
from bot.tuning.refs import JobRef, Location
from bot.tuning.states import JobState
from bot.vertex.client import TuningClient
from bot.watch.bookkeeping import PollerMemory
from bot.watch.policy import PollConfig
from tests.watch.conftest import Rig, thread_replies


def _text(args: dict[str, Any]) -> str:
    return str(args.get("text")) + str(args.get("blocks"))


def _interval(rig: Rig) -> dt.timedelta:
    return dt.timedelta(seconds=rig.config.interval)


def _thread_notes(rig: Rig, needle: str) -> list[dict[str, Any]]:
    return [c.args for c in rig.slack.calls_to("chat.postMessage") if needle in _text(c.args)]


# --- 404 -----------------------------------------------------------------------------------


async def test_one_404_does_not_end_the_watch_and_the_later_success_is_announced(
    rig: Rig,
) -> None:
    name = rig.add_job(JobState.RUNNING)
    rig.watch(name)
    rig.emulator.inject("get", 404)

    await rig.cycle()

    assert thread_replies(rig.slack, name) == []
    (watch,) = rig.store.all_watches()
    assert watch.finished_at is None
    assert watch.missing_count == 1

    rig.emulator.set_state(name, JobState.SUCCEEDED.value)
    await rig.cycle()

    (reply,) = thread_replies(rig.slack, name)
    assert "finished tuning" in _text(reply)
    assert rig.store.all_watches()[0].end_reason == "announced"


async def test_404s_count_only_while_they_last_and_a_good_answer_resets_them(rig: Rig) -> None:
    name = rig.add_job(JobState.RUNNING)
    rig.watch(name)
    rig.emulator.inject("get", 404, times=2)

    await rig.cycle(advance=200)
    await rig.cycle(advance=200)
    assert rig.store.all_watches()[0].missing_count == 2

    await rig.cycle(advance=200)  # the job answers again

    (watch,) = rig.store.all_watches()
    assert (watch.missing_count, watch.missing_since) == (0, None)
    rig.emulator.inject("get", 404, times=2)
    await rig.cycle(advance=200)
    rig.memory = PollerMemory()  # a restart: the count lives in the database
    await rig.cycle(advance=200)

    assert rig.store.all_watches()[0].missing_count == 2
    assert rig.store.all_watches()[0].finished_at is None
    assert thread_replies(rig.slack) == []


async def test_404s_are_not_believed_before_minutes_have_passed(rig: Rig) -> None:
    missing = f"projects/team-tuning/locations/us-central1/tuningJobs/{9 * 10**17}"
    rig.watch(missing)

    for _ in range(5):
        await rig.cycle(advance=60)  # five polls, but only four minutes since the first 404

    assert rig.store.all_watches()[0].missing_count == 5
    assert thread_replies(rig.slack) == []
    assert rig.emulator.counts["list"] == 0

    await rig.cycle(advance=60)

    (reply,) = thread_replies(rig.slack, missing)
    assert "no longer exists" in _text(reply)
    assert rig.store.all_watches()[0].end_reason == "job_gone"


async def test_a_404_that_the_listing_contradicts_is_not_believed(rig: Rig) -> None:
    name = rig.add_job(JobState.RUNNING)
    rig.watch(name)
    rig.emulator.inject("get", 404, times=3)

    for _ in range(3):
        await rig.cycle(advance=150)

    assert rig.emulator.counts["list"] == 1  # the third 404 was checked against the listing
    assert thread_replies(rig.slack) == []
    (watch,) = rig.store.all_watches()
    assert watch.finished_at is None
    assert watch.missing_count == 0  # the listing showed the job: it is there


async def test_the_thresholds_are_settings(rig: Rig) -> None:
    rig.config = PollConfig(interval=60, gone_after_polls=1, gone_after_seconds=0)
    missing = f"projects/team-tuning/locations/us-central1/tuningJobs/{9 * 10**17}"
    rig.watch(missing)

    await rig.cycle()

    assert len(thread_replies(rig.slack, missing)) == 1
    assert rig.store.all_watches()[0].end_reason == "job_gone"


# --- reads Google refuses ------------------------------------------------------------------


async def test_a_job_the_bot_may_no_longer_read_is_said_once_and_its_recovery_too(
    rig: Rig,
) -> None:
    name = rig.add_job(JobState.RUNNING)
    rig.watch(name)
    rig.emulator.inject("get", 403, times=6, google_status="PERMISSION_DENIED")

    for _ in range(3):
        await rig.cycle(advance=300)

    (note,) = _thread_notes(rig, "aiplatform.tuningJobs.get")
    assert "roles/aiplatform.user" in _text(note)
    assert "PERMISSION_DENIED" in _text(note)
    assert note["thread_ts"] == "1700000000.000001"
    assert rig.store.all_watches()[0].read_error_noted

    rig.memory = PollerMemory()  # a restart: "noted" lives in the database
    for _ in range(3):
        await rig.cycle(advance=300)
    assert len(_thread_notes(rig, "aiplatform.tuningJobs.get")) == 1
    (watch,) = rig.store.all_watches()
    # Refused reads are retried a few intervals apart, not after up to half an hour.
    assert watch.error_count == 6
    assert watch.next_poll_at - rig.now <= 4 * _interval(rig) * 1.2

    await rig.cycle(advance=300)  # reading works again
    await rig.cycle(advance=300)

    (recovered,) = _thread_notes(rig, "from Google again")
    assert recovered["thread_ts"] == "1700000000.000001"
    (watch,) = rig.store.all_watches()
    assert not watch.read_error_noted
    assert (watch.error_count, watch.read_error_count) == (0, 0)
    assert rig.slack.calls_to("chat.update") == []  # the card never changed


async def test_the_note_is_in_the_watch_language(rig: Rig) -> None:
    name = rig.add_job(JobState.RUNNING)
    rig.watch(name, language="ja")
    rig.emulator.inject("get", 403, times=3, google_status="PERMISSION_DENIED")

    for _ in range(4):
        await rig.cycle(advance=300)

    (note,) = _thread_notes(rig, "aiplatform.tuningJobs.get")
    assert "付与してください" in _text(note)
    (recovered,) = _thread_notes(rig, "再び")
    assert "読み取れる" in _text(recovered)


async def test_unavailable_keeps_its_long_backoff_and_says_nothing(rig: Rig) -> None:
    name = rig.add_job(JobState.RUNNING)
    rig.watch(name)
    rig.emulator.inject("get", 503, times=8)  # four reads, each retried once

    for _ in range(4):
        await rig.cycle(advance=rig.config.max_backoff)

    (watch,) = rig.store.all_watches()
    assert watch.error_count == 4
    assert watch.read_error_count == 0
    assert watch.next_poll_at - rig.now > 4 * _interval(rig) * 1.2
    assert rig.slack.calls_to("chat.postMessage") == []


# --- an answer without a state -------------------------------------------------------------


class _Stateless:
    """The real client, except that `get` answers lose their `state` while `blank` is set."""

    def __init__(self, client: TuningClient) -> None:
        self.client = client
        self.blank = False

    async def get(self, ref: JobRef) -> TuningJob:
        job = await self.client.get(ref)
        return dataclasses.replace(job, state=JobState.UNSPECIFIED) if self.blank else job

    def list_pages(
        self, location: Location, *, filter: str | None = None, page_size: int | None = None
    ) -> AsyncIterator[Any]:
        return self.client.list_pages(location, filter=filter, page_size=page_size)


async def test_an_answer_without_a_state_keeps_the_last_known_one(rig: Rig) -> None:
    reader = _Stateless(rig.client)
    rig.client = reader  # type: ignore[assignment]
    name = rig.add_job(JobState.RUNNING)
    rig.watch(name)
    await rig.cycle()

    reader.blank = True
    report = await rig.cycle()

    assert rig.slack.calls_to("chat.update") == []
    assert report.cards_updated == 0
    (watch,) = rig.store.all_watches()
    assert watch.last_state is JobState.RUNNING
    assert watch.card_state is JobState.RUNNING

    reader.blank = False
    await rig.cycle()
    assert rig.slack.calls_to("chat.update") == []  # RUNNING all along, as the card says
