"""Slack answers that do not say whether a post happened: the ending is never posted twice.

Only Slack's own `{"ok": false, "error": ...}` (below HTTP 500) and HTTP 429 prove a post did
not happen. A 5xx, or a body that is not Slack's JSON, may come after the message was stored:
the watch keeps "announcing" and the thread is read before the ending is tried again.
"""

from __future__ import annotations

import datetime as dt

import pytest

from bot.tuning.refs import JobRef
from bot.tuning.states import JobState
from bot.watch.notify import LeaseLapsed, NotifyError, RateLimited
from tests.watch.conftest import Rig, serve_thread_history, thread_replies

# (HTTP status, body, content type) of answers that leave the outcome unknown.
LOST_ANSWERS = {
    "503-html": (503, b"<html><body>503 Service Unavailable</body></html>", "text/html"),
    "500-slack-json": (500, b'{"ok": false, "error": "internal_error"}', "application/json"),
    "502-empty": (502, b"", "text/html"),
    "200-html": (200, b"<html>gateway</html>", "text/html"),
    "200-broken-json": (200, b'{"ok": tr', "application/json"),
    "200-internal-error": (200, b'{"ok": false, "error": "internal_error"}', "application/json"),
}


@pytest.mark.parametrize("answer", sorted(LOST_ANSWERS))
async def test_an_ending_whose_answer_was_lost_is_checked_in_the_thread_not_reposted(
    rig: Rig, answer: str
) -> None:
    status, body, content_type = LOST_ANSWERS[answer]
    serve_thread_history(rig.slack)
    name = rig.add_job(JobState.RUNNING)
    rig.watch(name)
    rig.emulator.set_state(name, JobState.SUCCEEDED.value)
    rig.slack.lose_answer("chat.postMessage", status=status, body=body, content_type=content_type)

    await rig.cycle()

    (watch,) = rig.store.all_watches()
    assert len(thread_replies(rig.slack, name)) == 1  # Slack has it
    assert watch.announced_at is None
    assert watch.announcing_at is not None  # kept: the post may have happened
    assert watch.lease_owner is None

    await rig.cycle()
    await rig.cycle()

    assert rig.slack.calls_to("conversations.replies")  # looked before posting again
    assert len(thread_replies(rig.slack, name)) == 1
    (watch,) = rig.store.all_watches()
    assert watch.end_reason == "announced"


async def test_a_refused_post_is_tried_again_without_reading_the_thread(rig: Rig) -> None:
    serve_thread_history(rig.slack)
    name = rig.add_job(JobState.RUNNING)
    rig.watch(name)
    rig.emulator.set_state(name, JobState.CANCELLED.value)
    rig.slack.fail("chat.postMessage", "msg_blocks_too_long")

    await rig.cycle()
    (watch,) = rig.store.all_watches()
    assert watch.announcing_at is None  # Slack said no: nothing was posted

    await rig.cycle()

    assert rig.slack.calls_to("conversations.replies") == []
    assert rig.store.all_watches()[0].end_reason == "announced"
    assert len(thread_replies(rig.slack, name)) == 2  # the refused call and the real post


async def test_a_thread_that_cannot_be_read_just_now_is_read_later_not_posted_blind(
    rig: Rig,
) -> None:
    serve_thread_history(rig.slack)
    name = rig.add_job(JobState.RUNNING)
    watch = rig.watch(name)
    rig.emulator.set_state(name, JobState.SUCCEEDED.value)
    # A replica marked the row "announcing", posted, and died before recording it.
    lease = rig.now + dt.timedelta(seconds=5)
    await rig.store.claim_due("dead-replica", now=rig.now, lease_until=lease, limit=10)
    await rig.store.mark_announcing(watch.id, "dead-replica", now=rig.now, lease_until=lease)
    await rig.notifier.announce_ending(watch, await rig.client.get(JobRef.from_name(name)))
    rig.slack.lose_answer("conversations.replies", status=503)

    await rig.cycle()
    assert len(thread_replies(rig.slack, name)) == 1
    assert rig.store.all_watches()[0].announced_at is None

    await rig.cycle()

    assert len(thread_replies(rig.slack, name)) == 1
    assert rig.store.all_watches()[0].end_reason == "announced"


@pytest.mark.parametrize("answer", sorted(LOST_ANSWERS))
async def test_the_notifier_calls_lost_answers_delivery_unknown(rig: Rig, answer: str) -> None:
    status, body, content_type = LOST_ANSWERS[answer]
    name = rig.add_job(JobState.RUNNING)
    watch = rig.watch(name)
    rig.slack.lose_answer("chat.postMessage", status=status, body=body, content_type=content_type)

    with pytest.raises(NotifyError) as raised:
        await rig.notifier.announce_gone(watch)

    assert raised.value.delivered_unknown


async def test_the_notifier_trusts_slack_refusals_and_rate_limits(rig: Rig) -> None:
    name = rig.add_job(JobState.RUNNING)
    watch = rig.watch(name)
    rig.slack.fail("chat.postMessage", "invalid_blocks")
    rig.slack.rate_limit("chat.postMessage", retry_after=30)

    with pytest.raises(NotifyError) as refused:
        await rig.notifier.announce_gone(watch)
    with pytest.raises(RateLimited) as limited:
        await rig.notifier.announce_gone(watch)

    assert refused.value.error == "invalid_blocks"
    assert not refused.value.delivered_unknown
    assert not limited.value.delivered_unknown


async def test_an_adopted_post_still_in_flight_is_waited_for_not_repeated(rig: Rig) -> None:
    """A replica confirmed its lease and sent the ending, then froze (or Slack sat on it) past
    the lease: the adopter finds no ending yet and waits out the post's flight, then finds it."""
    serve_thread_history(rig.slack)
    name = rig.add_job(JobState.RUNNING)
    watch = rig.watch(name)
    rig.emulator.set_state(name, JobState.SUCCEEDED.value)
    lease = rig.now + dt.timedelta(seconds=5)
    await rig.store.claim_due("frozen-replica", now=rig.now, lease_until=lease, limit=10)
    await rig.store.mark_announcing(watch.id, "frozen-replica", now=rig.now, lease_until=lease)

    report = await rig.cycle(advance=10)  # lease lapsed, post possibly still on its way

    assert report.posts_in_flight == 1
    assert thread_replies(rig.slack, name) == []
    # The frozen replica's post lands in the thread after all.
    await rig.notifier.announce_ending(watch, await rig.client.get(JobRef.from_name(name)))

    await rig.cycle(advance=rig.config.lease.total_seconds() + 1)

    assert len(thread_replies(rig.slack, name)) == 1
    assert rig.store.all_watches()[0].end_reason == "announced"


async def test_an_adopted_post_that_never_left_is_sent_once_its_flight_is_over(rig: Rig) -> None:
    serve_thread_history(rig.slack)
    name = rig.add_job(JobState.RUNNING)
    watch = rig.watch(name)
    rig.emulator.set_state(name, JobState.FAILED.value)
    lease = rig.now + dt.timedelta(seconds=5)
    await rig.store.claim_due("dead-replica", now=rig.now, lease_until=lease, limit=10)
    await rig.store.mark_announcing(watch.id, "dead-replica", now=rig.now, lease_until=lease)

    await rig.cycle(advance=10)
    assert thread_replies(rig.slack, name) == []
    await rig.cycle(advance=rig.config.lease.total_seconds() + 1)
    await rig.cycle(advance=rig.config.lease.total_seconds() + 1)

    assert len(thread_replies(rig.slack, name)) == 1


async def test_a_post_whose_lease_lapsed_before_it_could_leave_is_not_sent(rig: Rig) -> None:
    name = rig.add_job(JobState.RUNNING)
    watch = rig.watch(name)
    job = await rig.client.get(JobRef.from_name(name))

    with pytest.raises(LeaseLapsed) as raised:
        await rig.notifier.announce_ending(watch, job, still_ours=lambda: False)

    assert not raised.value.delivered_unknown
    assert rig.slack.calls_to("chat.postMessage") == []
