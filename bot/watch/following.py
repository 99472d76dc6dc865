"""What a read of a job still running, refused or missing does to its watch.

A running job's card is edited when its state changed or when Google's data statistics first
appear (they come some time into RUNNING; `card_stats` is stored, so they redraw it once), a
pause is noted once in the thread, and "can read again" is said once after a "cannot read"
note. An answer without `state` (UNSPECIFIED) keeps the last known state: the card is not edited
and nothing counts as changed.

Vanished jobs. One 404 is not believed (a replica behind, a glitch): the watch counts its 404s
in a row (`missing_count`, `missing_since`) and polls on at the usual pace. Only once they
lasted `gone_after_polls` polls and `gone_after_seconds` does a 404 lead to the unfiltered
listing of the location, read to its last page; the job is declared gone only when the listing
agrees. A good answer (or the listing showing the job) resets the count.

Refused reads. A read Google refuses until someone acts counts in `read_error_count`; after
`note_after_errors` in a row the thread is told once what failed and which permission to grant
(`read_error_noted`, stored, so a restart does not repeat it); the first good read after that
says so once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from bot.tuning.job import TuningJob
from bot.vertex.errors import PermissionDenied, Unauthenticated, VertexError
from bot.watch.bookkeeping import READ_OK, Cycle, seen
from bot.watch.model import Watch, WatchUpdate
from bot.watch.notify import NotifyError
from bot.watch.policy import refused


def needs_redraw(watch: Watch, job: TuningJob) -> bool:
    """The card is missing, shows another state, or lacks the statistics Google now reports."""
    return (
        watch.message_ts is None
        or watch.card_state is not job.state
        or (job.has_data_stats and not watch.card_stats)
    )


async def _read_progress(cycle: Cycle, watch: Watch, job: TuningJob) -> tuple[Watch, WatchUpdate]:
    """The watch as its card should now show the job's progress, and what to store of the
    read; the watch unchanged when the curves were not due or said nothing new."""
    reads = cycle.progress
    if reads is None or not reads.wants(job):
        return watch, WatchUpdate()
    read = await reads.read(job)
    if not read.tried:
        return watch, WatchUpdate()
    pace = WatchUpdate(progress_read_at=cycle.now)
    if read.progress is None:
        return watch, pace
    drawn = read.progress.shown().encode()
    if drawn == watch.card_progress:
        return watch, pace
    return dataclasses.replace(watch, card_progress=drawn), pace


async def follow(cycle: Cycle, watch: Watch, job: TuningJob) -> None:
    """A job still running: edit its card when the state changed or its training progress
    moved, note a pause once, and say once that the job can be read again after a "cannot
    read" note."""
    if not cycle.delivery(watch).cards:
        # Endings only: no card to keep, nor a thread for notes to go in.
        due = cycle.next_poll(cycle.config.slowdown(job, watch, cycle.now))
        cycle.quiet.append((watch.id, job.state, job.update_time, due))
        return
    drawn, pace = await _read_progress(cycle, watch, job)
    progress_moved = drawn.card_progress != watch.card_progress
    # What the user sees changed: the card, or a note in the thread.
    shown = WatchUpdate()
    redraw = needs_redraw(watch, job)
    try:
        if redraw or progress_moved:
            ts = await cycle.notifier.show_status(drawn, job)
            cycle.report.cards_updated += 1
            shown |= WatchUpdate(
                card_state=job.state,
                card_stats=job.has_data_stats,
                card_progress=drawn.card_progress,
            )
            if watch.message_ts is None:
                shown |= WatchUpdate(message_ts=ts)
                watch = dataclasses.replace(watch, message_ts=ts)
        if watch.read_error_noted:
            await cycle.notifier.note_read_recovered(watch)
            cycle.report.notes += 1
            shown |= WatchUpdate(read_error_noted=False)
        if job.state.is_paused and not watch.paused_noted:
            await cycle.notifier.note_paused(watch, job)
            shown |= WatchUpdate(paused_noted=True)
        elif not job.state.is_paused and watch.paused_noted:
            shown |= WatchUpdate(paused_noted=False)
    except NotifyError as error:
        await cycle.on_slack_error(watch, error, seen(job) | READ_OK | pace | shown)
        return
    due = cycle.next_poll(cycle.config.slowdown(job, watch, cycle.now))
    if shown == WatchUpdate() and pace == WatchUpdate():
        # Nothing changed for the user: written with the others in one transaction.
        cycle.quiet.append((watch.id, job.state, job.update_time, due))
    else:
        update = seen(job) | READ_OK | pace | shown | WatchUpdate(next_poll_at=due)
        await cycle.write(watch, update)
        if redraw:
            # Written first, so that the Home built next reads the new state from the store.
            await cycle.refresh_home(watch, job)


async def missing(cycle: Cycle, watch: Watch) -> None:
    """A 404 not (yet) believed: count it and poll again at the usual pace."""
    cycle.report.missing += 1
    await cycle.write(
        watch,
        WatchUpdate(
            missing_count=watch.missing_count + 1,
            missing_since=watch.missing_since or cycle.now,
            next_poll_at=cycle.now + dt.timedelta(seconds=cycle.config.interval),
        ),
    )


async def read_failed(cycle: Cycle, watch: Watch, error: VertexError) -> None:
    """Back off this job alone; after a few refusals in a row, say so once in its thread."""
    count = watch.error_count + 1
    refusal = refused(error)
    cycle.report.read_errors += 1
    update = WatchUpdate(
        error_count=count, next_poll_at=cycle.now + cycle.config.backoff(count, refused=refusal)
    )
    if refusal:
        refusals = watch.read_error_count + 1
        update |= WatchUpdate(read_error_count=refusals)
        if refusals >= cycle.config.note_after_errors and not watch.read_error_noted:
            try:
                await cycle.notifier.note_read_failing(
                    watch,
                    status=error.status,
                    message=error.message,
                    denied=isinstance(error, PermissionDenied | Unauthenticated),
                )
            except NotifyError as slack_error:
                await cycle.on_slack_error(watch, slack_error, update)
                return
            cycle.report.notes += 1
            update |= WatchUpdate(read_error_noted=True)
    await cycle.write(watch, update)
