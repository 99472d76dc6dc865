"""One poll cycle against the Vertex emulator and the Slack stand-in, as a user sees it."""

from __future__ import annotations

import datetime as dt

from bot.tuning.states import JobState
from bot.watch.policy import PollConfig
from tests.watch.conftest import Rig, serve_thread_history, thread_replies


def _text(args: dict[str, object]) -> str:
    return str(args.get("text")) + str(args.get("blocks"))


async def test_job_moving_to_success_updates_the_card_and_is_announced_once(rig: Rig) -> None:
    name = rig.add_job(JobState.PENDING, display_name="support-bot v2")
    rig.watch(name, state=JobState.PENDING)

    await rig.cycle()
    assert rig.slack.calls_to("chat.update") == []  # the card already shows PENDING

    rig.emulator.set_state(name, JobState.RUNNING.value)
    await rig.cycle()
    await rig.cycle()
    updates = rig.slack.calls_to("chat.update")
    assert len(updates) == 1
    assert "Running" in _text(updates[0].args)

    rig.emulator.set_state(name, JobState.SUCCEEDED.value)
    for _ in range(3):
        await rig.cycle()
    replies = thread_replies(rig.slack, name)
    assert len(replies) == 1
    reply = replies[0]
    assert reply["thread_ts"] == "1700000000.000001"
    assert reply["reply_broadcast"] is True
    body = _text(reply)
    job = next(j for j in rig.emulator.jobs() if j["name"] == name)
    endpoint = job["tunedModel"]["endpoint"]
    assert job["tunedModel"]["model"] in body
    assert endpoint in body
    assert f"{endpoint}:generateContent" in body
    assert "support-bot v2" in body
    assert "Succeeded" in _text(rig.slack.calls_to("chat.update")[-1].args)
    watch = rig.store.all_watches()[0]
    assert watch.announced_at is not None
    assert watch.end_reason == "announced"


async def test_failure_names_the_error_escaped_and_mentions_the_starter(rig: Rig) -> None:
    name = rig.add_job(JobState.RUNNING)
    rig.watch(name, started_by="U0ALICE01")
    rig.emulator.set_state(name, JobState.FAILED.value, error_message="bad row <@channel> & more")

    await rig.cycle()
    await rig.cycle()

    replies = thread_replies(rig.slack, name)
    assert len(replies) == 1
    body = _text(replies[0])
    assert "<@U0ALICE01>" in body
    assert "bad row &lt;@channel&gt; &amp; more" in body
    assert "<@channel>" not in body
    assert replies[0]["reply_broadcast"] is False


async def test_cancelled_and_expired_are_said_plainly(rig: Rig) -> None:
    cancelled = rig.add_job(JobState.RUNNING)
    expired = rig.add_job(JobState.RUNNING, region="europe-west4")
    rig.watch(cancelled)
    rig.watch(expired)
    rig.emulator.set_state(cancelled, JobState.CANCELLED.value)
    rig.emulator.set_state(expired, JobState.EXPIRED.value)

    await rig.cycle()

    assert "was cancelled" in _text(thread_replies(rig.slack, cancelled)[0])
    assert "expired" in _text(thread_replies(rig.slack, expired)[0])
    assert len(thread_replies(rig.slack)) == 2


async def test_a_job_that_ended_while_the_bot_was_down_is_announced_once(rig: Rig) -> None:
    name = rig.add_job(JobState.RUNNING)
    rig.watch(name)
    rig.emulator.set_state(name, JobState.SUCCEEDED.value)  # before any cycle ran

    for _ in range(3):
        await rig.cycle()

    assert len(thread_replies(rig.slack, name)) == 1


async def test_several_channels_share_one_read_and_each_hears_the_end(rig: Rig) -> None:
    name = rig.add_job(JobState.RUNNING)
    for channel in ("C0AAAAAAA", "C0BBBBBBB", "C0CCCCCCC"):
        rig.watch(name, channel)
    rig.emulator.set_state(name, JobState.SUCCEEDED.value)

    report = await rig.cycle()

    assert report.vertex_calls["get"] + report.vertex_calls["list"] == 1
    channels = sorted(r["channel"] for r in thread_replies(rig.slack, name))
    assert channels == ["C0AAAAAAA", "C0BBBBBBB", "C0CCCCCCC"]


async def test_a_deleted_job_ends_its_watch_with_a_message(rig: Rig) -> None:
    missing = f"projects/team-tuning/locations/us-central1/tuningJobs/{9 * 10**17}"
    rig.watch(missing)

    # 404s are believed once they lasted `gone_after_polls` polls and `gone_after_seconds`.
    await rig.cycle()
    await rig.cycle(advance=150)
    assert thread_replies(rig.slack, missing) == []
    assert rig.emulator.counts["list"] == 0
    await rig.cycle(advance=150)

    replies = thread_replies(rig.slack, missing)
    assert len(replies) == 1
    assert "no longer exists" in _text(replies[0])
    assert rig.store.all_watches()[0].end_reason == "job_gone"
    assert rig.emulator.counts["list"] == 1  # the unfiltered listing agreed before that


async def test_watch_without_a_card_gets_one_posted_and_remembered(rig: Rig) -> None:
    name = rig.add_job(JobState.RUNNING)
    rig.watch(name, message_ts=None)

    await rig.cycle()
    await rig.cycle()

    posts = [c for c in rig.slack.calls_to("chat.postMessage") if "thread_ts" not in c.args]
    assert len(posts) == 1
    assert rig.store.all_watches()[0].message_ts is not None


async def test_paused_is_said_once_and_polled_less_often(rig: Rig) -> None:
    name = rig.add_job(JobState.RUNNING)
    rig.watch(name)
    rig.emulator.set_state(name, JobState.PAUSED.value)

    await rig.cycle()
    paused_notes = [c for c in rig.slack.calls_to("chat.postMessage") if "paused" in _text(c.args)]
    assert len(paused_notes) == 1
    watch = rig.store.all_watches()[0]
    assert watch.next_poll_at - rig.now >= dt.timedelta(seconds=8 * rig.config.interval)

    for _ in range(3):
        await rig.cycle(advance=8 * rig.config.interval)
    paused_notes = [c for c in rig.slack.calls_to("chat.postMessage") if "paused" in _text(c.args)]
    assert len(paused_notes) == 1


async def test_long_running_jobs_are_polled_less_often(rig: Rig) -> None:
    name = rig.add_job(JobState.RUNNING)
    rig.watch(name)
    rig.now += dt.timedelta(hours=7)

    await rig.cycle()

    watch = rig.store.all_watches()[0]
    assert watch.next_poll_at - rig.now >= dt.timedelta(seconds=2 * rig.config.interval)


async def test_slack_rate_limit_delays_only_that_channel(rig: Rig) -> None:
    busy = rig.add_job(JobState.RUNNING)
    calm = rig.add_job(JobState.RUNNING, region="europe-west4")
    rig.watch(busy, "C0BUSY001")
    rig.watch(calm, "C0CALM001")
    rig.emulator.set_state(busy, JobState.SUCCEEDED.value)
    rig.emulator.set_state(calm, JobState.SUCCEEDED.value)
    rig.slack.rate_limit("chat.postMessage", retry_after=120, times=1)

    await rig.cycle()
    announced = {w.channel_id for w in rig.store.all_watches() if w.announced_at is not None}
    assert len(announced) == 1  # the other channel's post was refused with 429
    (limited,) = {"C0BUSY001", "C0CALM001"} - announced

    await rig.cycle()  # 60 s later: within Retry-After, so no request to that channel at all
    assert len([r for r in thread_replies(rig.slack) if r["channel"] == limited]) == 1

    await rig.cycle(advance=120)
    assert all(w.end_reason == "announced" for w in rig.store.all_watches())
    per_channel = {
        channel: len([r for r in thread_replies(rig.slack) if r["channel"] == channel])
        for channel in ("C0BUSY001", "C0CALM001")
    }
    assert per_channel[limited] == 2  # the refused attempt and the delivered one
    assert sum(per_channel.values()) == 3


async def test_channel_not_found_ends_that_watch_and_audits_it(rig: Rig) -> None:
    gone = rig.add_job(JobState.RUNNING)
    fine = rig.add_job(JobState.RUNNING, region="europe-west4")
    rig.watch(gone, "C0GONE001")
    rig.watch(fine, "C0FINE001")
    rig.slack.missing_channels.add("C0GONE001")
    rig.emulator.set_state(gone, JobState.RUNNING.value)
    rig.emulator.set_state(gone, JobState.CANCELLING.value)
    rig.emulator.set_state(fine, JobState.SUCCEEDED.value)

    await rig.cycle()
    await rig.cycle(advance=3600)

    by_channel = {w.channel_id: w for w in rig.store.all_watches()}
    assert by_channel["C0GONE001"].end_reason == "channel_gone"
    assert by_channel["C0FINE001"].end_reason == "announced"
    audit = rig.store.audit_entries()
    assert [(a.action, a.outcome, a.channel_id) for a in audit] == [
        ("watch.end", "channel_gone", "C0GONE001")
    ]
    assert audit[0].detail == "channel_not_found"
    assert len([c for c in rig.slack.calls if c.args.get("channel") == "C0GONE001"]) == 1


async def test_google_errors_back_off_that_job_only(rig: Rig) -> None:
    first = rig.add_job(JobState.RUNNING)
    second = rig.add_job(JobState.RUNNING, region="europe-west4")
    rig.watch(first)
    rig.watch(second)
    rig.emulator.inject("get", 403, times=1)  # the first `get` of the cycle is refused

    await rig.cycle()

    watches = rig.store.all_watches()
    failed = [w for w in watches if w.error_count == 1]
    fine = [w for w in watches if w.error_count == 0]
    assert len(failed) == 1
    assert len(fine) == 1
    assert failed[0].next_poll_at > fine[0].next_poll_at


async def test_spent_budget_leaves_that_regions_watches_due_for_the_next_cycle(rig: Rig) -> None:
    from bot.tuning.refs import JobRef
    from bot.watch.budget import RequestBudget

    rig.budget = RequestBudget(1, clock=lambda: 0.0)  # never refills during the test
    busy = [rig.add_job(JobState.RUNNING) for _ in range(3)]
    other = rig.add_job(JobState.RUNNING, region="europe-west4")
    for name in [*busy, other]:
        rig.watch(name)
    # Spent elsewhere, in the location as Google names it (by project number).
    assert rig.budget.try_take(JobRef.from_name(busy[0]).location)

    report = await rig.cycle()

    assert report.vertex_calls == {"get": 1}  # europe-west4 only
    assert report.unread == 3
    due = [w for w in rig.store.all_watches() if w.next_poll_at <= rig.now]
    assert sorted(w.job_name for w in due) == sorted(busy)
    assert all(w.lease_owner is None for w in rig.store.all_watches())


async def test_interrupted_announcement_found_in_the_thread_is_not_posted_again(rig: Rig) -> None:
    serve_thread_history(rig.slack)
    name = rig.add_job(JobState.RUNNING)
    watch = rig.watch(name)
    rig.emulator.set_state(name, JobState.SUCCEEDED.value)
    # A replica claimed the row, marked it "announcing", posted, and died before recording it.
    lease = rig.now + dt.timedelta(seconds=5)
    await rig.store.claim_due("dead-replica", now=rig.now, lease_until=lease, limit=10)
    await rig.store.mark_announcing(watch.id, "dead-replica", now=rig.now, lease_until=lease)
    await rig.notifier.announce_ending(watch, await rig.client.get(_ref(name)))

    await rig.cycle()
    await rig.cycle()

    assert len(thread_replies(rig.slack, name)) == 1
    assert rig.store.all_watches()[0].announced_at is not None


async def test_interrupted_announcement_never_sent_is_sent_once(rig: Rig) -> None:
    serve_thread_history(rig.slack)
    name = rig.add_job(JobState.RUNNING)
    watch = rig.watch(name)
    rig.emulator.set_state(name, JobState.FAILED.value)
    lease = rig.now + dt.timedelta(seconds=5)
    await rig.store.claim_due("dead-replica", now=rig.now, lease_until=lease, limit=10)
    await rig.store.mark_announcing(watch.id, "dead-replica", now=rig.now, lease_until=lease)

    await rig.cycle()
    await rig.cycle()

    assert len(thread_replies(rig.slack, name)) == 1


def _ref(name: str):  # type: ignore[no-untyped-def]
    from bot.tuning.refs import JobRef

    return JobRef.from_name(name)


async def test_japanese_watch_is_announced_in_japanese(rig: Rig) -> None:
    name = rig.add_job(JobState.RUNNING)
    rig.watch(name, language="ja")
    rig.emulator.set_state(name, JobState.CANCELLED.value)

    await rig.cycle()

    assert "中止されました" in _text(thread_replies(rig.slack, name)[0])


def test_lease_defaults_stay_between_five_seconds_and_two_minutes() -> None:
    assert PollConfig(interval=0.2).lease == dt.timedelta(seconds=5)
    assert PollConfig(interval=3600).lease == dt.timedelta(seconds=120)


async def test_a_replica_that_lost_its_lease_before_posting_does_not_post(rig: Rig) -> None:
    """Frozen (or slowed) between marking an ending and posting it, past its lease: another
    replica may have adopted the row meanwhile, so this one must stay silent."""
    import asyncio

    from sqlalchemy import update

    from bot.watch.tables import watches

    serve_thread_history(rig.slack)
    name = rig.add_job(JobState.RUNNING)
    watch = rig.watch(name)
    rig.emulator.set_state(name, JobState.SUCCEEDED.value)
    lease = rig.now + dt.timedelta(seconds=5)
    await rig.store.claim_due("dead-replica", now=rig.now, lease_until=lease, limit=10)
    await rig.store.mark_announcing(watch.id, "dead-replica", now=rig.now, lease_until=lease)
    held = rig.slack.hold("conversations.replies")  # this replica's thread check, in flight

    cycle = asyncio.create_task(rig.cycle())
    while not rig.slack.calls_to("conversations.replies"):
        await asyncio.sleep(0.01)
    # Meanwhile a third replica took the row over (this one's lease had run out).
    with rig.store.engine.begin() as conn:
        conn.execute(
            update(watches)
            .where(watches.c.id == watch.id)
            .values(
                lease_owner="replica-c",
                announcing_by="replica-c",
                lease_until=rig.now + dt.timedelta(hours=1),
            )
        )
    held.set()
    await cycle
    await rig.memory.settle()

    assert thread_replies(rig.slack, name) == []
    assert rig.store.all_watches()[0].announcing_by == "replica-c"
