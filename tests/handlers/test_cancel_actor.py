"""Who cancelled a job: noted on its watches by the cancel use case, shown to the canceller by
the job's name, and on the card."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.handlers.jobs import Actor
from bot.slack.messages.replies import cancel_reply
from bot.slack.messages.status_card import render_status_card
from bot.tuning.job import TuningJob
from bot.tuning.refs import JobRef
from bot.tuning.states import JobState
from bot.watch.store import SqlWatchStore
from tests.handlers.test_jobs import ALICE, PROJECT, REGION, SPEC, Rig, _rig

ADMIN = Actor("U0ADMIN01", "C0TUNING1", "en")
NOW = dt.datetime(2026, 12, 4, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
async def rig(tmp_path: Any) -> AsyncIterator[Rig]:
    built, tuning, store = await _rig(tmp_path)
    yield built
    await tuning.aclose()
    store.close()


async def test_the_canceller_is_noted_on_the_jobs_watch(rig: Rig) -> None:
    created = await rig.handlers.submit(ALICE, "V1", SPEC)

    await rig.handlers.cancel(ADMIN, created.job.ref.job_id)

    (watch,) = await rig.store.watches_for_job(created.job.ref)
    assert (watch.started_by, watch.cancelled_by) == (ALICE.user_id, ADMIN.user_id)
    # The audit says the same as before.
    last = rig.store.audit_entries()[-1]
    assert (last.actor, last.action, last.outcome) == (ADMIN.user_id, "cancel", "ok")


async def test_a_second_cancel_keeps_the_first_canceller(rig: Rig) -> None:
    created = await rig.handlers.submit(ALICE, "V1", SPEC)
    await rig.handlers.cancel(ALICE, created.job.name)

    await rig.handlers.cancel(ADMIN, created.job.name)

    (watch,) = await rig.store.watches_for_job(created.job.ref)
    assert watch.cancelled_by == ALICE.user_id


async def test_cancelling_a_job_nobody_watches_records_nothing(rig: Rig) -> None:
    name = rig.emulator.add_job(PROJECT, REGION, state="JOB_STATE_RUNNING")

    job = await rig.handlers.cancel(ADMIN, name)

    assert job.state in (JobState.CANCELLING, JobState.CANCELLED)
    assert rig.store.all_watches() == []
    assert rig.store.audit_entries()[-1].outcome == "ok"


async def test_an_ended_job_gets_no_canceller(rig: Rig) -> None:
    created = await rig.handlers.submit(ALICE, "V1", SPEC)
    rig.emulator.set_state(created.job.name, "JOB_STATE_SUCCEEDED")

    await rig.handlers.cancel(ADMIN, created.job.name)

    (watch,) = await rig.store.watches_for_job(created.job.ref)
    assert watch.cancelled_by is None


class CannotNoteCanceller(SqlWatchStore):
    """A store that cannot write who cancelled (the database went read-only just then)."""

    async def record_cancelled_by(self, job: JobRef, user_id: str) -> int:
        raise RuntimeError("attempt to write a readonly database")


async def test_a_store_that_fails_to_note_the_canceller_does_not_fail_the_cancel(
    tmp_path: Any,
) -> None:
    built, tuning, store = await _rig(tmp_path, store_class=CannotNoteCanceller)
    try:
        created = await built.handlers.submit(ALICE, "V1", SPEC)

        job = await built.handlers.cancel(ADMIN, created.job.name)

        assert job.state in (JobState.CANCELLING, JobState.CANCELLED)
        assert built.emulator.stats()["counts"]["cancel"] == 1
    finally:
        await tuning.aclose()
        store.close()


def _job(state: JobState, display_name: str | None) -> TuningJob:
    ref = JobRef("123456789012", "us-central1", "4242")
    return TuningJob(ref=ref, state=state, display_name=display_name)


@pytest.mark.parametrize("language", ["en", "ja"])
@pytest.mark.parametrize("state", [JobState.CANCELLING, JobState.CANCELLED, JobState.SUCCEEDED])
def test_the_canceller_is_told_the_jobs_name_not_its_resource_name(
    language: str, state: JobState
) -> None:
    named = cancel_reply(_job(state, "support <bot> & co"), language)
    unnamed = cancel_reply(_job(state, None), language)

    assert "support &lt;bot&gt; &amp; co" in named
    assert "#4242" in unnamed
    for reply in (named, unnamed):
        assert "projects/" not in reply


@pytest.mark.parametrize(
    ("language", "said"),
    [("en", "*Cancelled by*\n<@U0ADMIN01>"), ("ja", "*中止したユーザー*\n<@U0ADMIN01>")],
)
@pytest.mark.parametrize("state", [JobState.CANCELLING, JobState.CANCELLED])
def test_the_card_of_a_cancelled_job_says_who_cancelled_it(
    language: str, said: str, state: JobState
) -> None:
    _, blocks = render_status_card(
        _job(state, "support-bot"),
        started_by="U0ALICE01",
        language=language,
        cancelled_by="U0ADMIN01",
    )

    fields = [field["text"] for block in blocks for field in block.get("fields", [])]
    assert said in fields


@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_card_of_a_job_cancelled_elsewhere_names_nobody(language: str) -> None:
    _, blocks = render_status_card(
        _job(JobState.CANCELLED, "support-bot"), started_by=None, language=language
    )

    assert "<@" not in str(blocks)
