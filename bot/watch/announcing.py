"""Announcing a job's ending exactly once, across crashes and replicas.

For an ended job the poller, holding the lease, first marks the row "announcing" (a conditional
update that succeeds only if nobody marked it before), then posts the thread reply, then marks
the row "announced" in one single-row update. A crash before the post leaves "announcing" set;
whoever claims the row next asks the chat service whether the thread already holds the ending
(the post carries the watch id in its message metadata) and posts only if it does not. Right
before the post the lease is renewed in the store (fenced) and the time of that renewal
recorded; the request is then sent only within the first half of that lease on the local clock,
so a process frozen in between stays silent when it resumes. An adopter that finds no ending
waits until a post sent at the recorded time could no longer be on its way (the Slack client's
timeout plus a margin, `PollConfig.post_flight`) and looks again before posting. What can still
repeat a message, since `chat.postMessage` has no idempotency key: a post Slack shows in the
thread only after that flight; a process frozen between the local check and the request leaving
(the Slack client's own preparation, a few milliseconds); and a crash after Slack accepted the
post but before the "announced" update commits, when the thread cannot be checked (missing
history scope, or the check keeps failing).

Only an error that proves the post did not happen (Slack's own `ok: false` refusal, HTTP 429)
clears the mark so the ending is tried again at once. A timeout, an HTTP 5xx or an answer that
is not Slack's JSON may follow a stored message: the mark stays and the thread is checked first
(a check that fails for now is retried later; the ending is not posted blind).
"""

from __future__ import annotations

import dataclasses
import logging
import time

from bot.tuning.job import TuningJob
from bot.watch.bookkeeping import Cycle, seen
from bot.watch.model import Watch, WatchUpdate
from bot.watch.notify import LeaseLapsed, NotifyError

log = logging.getLogger(__name__)


async def announce(cycle: Cycle, watch: Watch, job: TuningJob | None) -> None:
    """The announce-once protocol for an ended (`job`) or vanished (`None`) job."""
    as_read = seen(job) if job is not None else WatchUpdate()
    delivery = cycle.delivery(watch)
    if not delivery.announces(succeeded=job is not None and job.state.succeeded) or (
        job is None and delivery.failures_only
    ):
        # The channel asked for failures only: this ending is not one of its moments.
        await cycle.write(
            watch, as_read | WatchUpdate(finished_at=cycle.now, end_reason="not_announced")
        )
        return
    try:
        if job is not None and delivery.cards:
            watch = await _ensure_card(cycle, watch, job)
    except NotifyError as error:
        await cycle.on_slack_error(watch, error, as_read)
        return
    current = cycle.clock()
    if watch.announcing_at is None:
        if not await cycle.store.mark_announcing(
            watch.id, cycle.owner, now=current, lease_until=current + cycle.config.lease
        ):
            cycle.report.lost_leases += 1
            return
    else:
        if not await cycle.store.adopt_announcing(
            watch.id, cycle.owner, now=current, lease_until=current + cycle.config.lease
        ):
            cycle.report.lost_leases += 1
            return
        try:
            posted = await cycle.notifier.ending_posted(watch)
        except NotifyError as error:
            # The thread could not be read just now: look again later, never post blind.
            await cycle.on_slack_error(watch, error, as_read)
            return
        if posted:
            await _mark_announced(cycle, watch, job)
            return
        if watch.announcing_at is not None and current < (
            watch.announcing_at + cycle.config.post_flight
        ):
            # A post that left at `announcing_at` may still be on its way (Slack slow, or
            # its sender frozen mid-request): it shows in the thread, or its flight ends,
            # before the lease we now hold lapses and the row is looked at again.
            cycle.report.posts_in_flight += 1
            return
    current = cycle.clock()
    # Measured before the store is asked, so that the local deadline falls before the
    # stored lease expires; half the lease leaves room for clocks that disagree a little.
    confirmed = time.monotonic()
    if not await cycle.store.confirm_announcing(
        watch.id, cycle.owner, now=current, lease_until=current + cycle.config.lease
    ):
        # Frozen or slowed past the lease since the mark: another replica may have adopted
        # the row and posted; posting now would repeat it.
        cycle.report.lost_leases += 1
        return
    deadline = confirmed + cycle.config.lease.total_seconds() / 2

    def still_ours() -> bool:
        return time.monotonic() < deadline

    try:
        if job is None:
            await cycle.notifier.announce_gone(watch, still_ours=still_ours)
        else:
            await cycle.notifier.announce_ending(
                watch, job, still_ours=still_ours, delivery=delivery
            )
    except LeaseLapsed:
        # Nothing was sent; the row stays "announcing" for whoever holds the lease now.
        cycle.report.lost_leases += 1
        return
    except NotifyError as error:
        # Only a refusal proves the post did not happen; after a timeout, a 5xx or an
        # answer that is not Slack's, "announcing" stays and the thread is checked first.
        if not error.delivered_unknown:
            await cycle.store.clear_announcing(watch.id, cycle.owner)
        await cycle.on_slack_error(watch, error, as_read)
        return
    await _mark_announced(cycle, watch, job)
    if job is not None:
        await cycle.refresh_home(watch, job)
    if job is not None and job.state.succeeded:
        await cycle.post_chart(watch, job)
    if job is not None and delivery.cards and watch.card_state is not job.state:
        # The card is cosmetic once the ending is out: a failure here changes nothing.
        try:
            await cycle.notifier.show_status(watch, job)
            cycle.report.cards_updated += 1
        except NotifyError as error:
            log.info("final card update failed", extra={"error": error.error})


async def _ensure_card(cycle: Cycle, watch: Watch, job: TuningJob) -> Watch:
    """Post the status message when the watch has none (a `watch` whose card never went out)."""
    if watch.message_ts is not None:
        return watch
    ts = await cycle.notifier.show_status(watch, job)
    shown = job.has_data_stats
    await cycle.store.update_fenced(
        watch.id, cycle.owner, WatchUpdate(message_ts=ts, card_state=job.state, card_stats=shown)
    )
    cycle.report.cards_updated += 1
    return dataclasses.replace(watch, message_ts=ts, card_state=job.state, card_stats=shown)


async def _mark_announced(cycle: Cycle, watch: Watch, job: TuningJob | None) -> None:
    reason = "announced" if job is not None else "job_gone"
    as_read = seen(job) if job is not None else WatchUpdate()
    if await cycle.store.mark_announced(
        watch.id, cycle.owner, now=cycle.now, end_reason=reason, change=as_read
    ):
        cycle.report.announced += 1
    else:
        cycle.report.lost_leases += 1
