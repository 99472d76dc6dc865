"""Training progress on running jobs' cards: read at the metrics pace from the job's curves,
edited in place only when the figures move, and never in the way of state polls or endings."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from bot.emulator import Emulator
from bot.tuning.states import JobState
from bot.watch.budget import RequestBudget
from bot.watch.policy import PollConfig
from bot.watch.progress import BUDGET_RESERVE
from tests.watch.conftest import Rig, thread_replies

STEPS = 400  # the emulated run's planned steps
SECONDS = 1000.0  # seconds the emulator's jobs spend RUNNING


class Clock:
    """The emulator's clock, moved by the test."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(1_780_000_000.0)


@pytest.fixture
def emulator(clock: Clock) -> Iterator[Emulator]:
    """An emulator whose RUNNING lasts `SECONDS` on a clock the test moves."""
    emu = Emulator(seconds_per_state=SECONDS, clock=clock)
    yield emu
    emu.release_holds()


@pytest.fixture
def progress_rig(rig: Rig) -> Rig:
    rig.curves = True
    rig.config = PollConfig(interval=60, metrics_interval=300)
    return rig


def _updates(rig: Rig) -> list[dict[str, Any]]:
    return [c.args for c in rig.slack.calls_to("chat.update")]


def _progress_text(blocks: list[dict[str, Any]]) -> str | None:
    for block in blocks:
        text = (block.get("text") or {}).get("text", "")
        if block.get("type") == "section" and text.startswith("*Progress*"):
            return str(text)
    return None


def _running_job(rig: Rig, clock: Clock, **kwargs: Any) -> str:
    name = rig.add_job(JobState.RUNNING, steps=STEPS, **kwargs)
    clock.now += 1  # the run's first second: nothing written yet
    return name


async def test_the_card_shows_progress_that_advances_at_the_metrics_pace(
    progress_rig: Rig, clock: Clock
) -> None:
    rig = progress_rig
    job = _running_job(rig, clock, validation_uri="gs://b/validation.jsonl")
    rig.watch(job)
    clock.now += 0.25 * SECONDS
    await rig.cycle()
    first = _updates(rig)
    assert len(first) == 1
    text = _progress_text(first[0]["blocks"])
    assert text is not None
    assert "of 400" in text
    assert "training loss" in text
    assert "validation loss" in text
    # A state poll a minute later: the curves are not due, so nothing is read or edited.
    clock.now += 60
    report = await rig.cycle()
    assert report.vertex_calls["tensorboard_batch_read"] == 0
    assert len(_updates(rig)) == 1
    # Once the metrics interval has passed, the figures have moved and the card follows.
    clock.now += 0.25 * SECONDS
    await rig.cycle(advance=300)
    later = _updates(rig)
    assert len(later) == 2
    second = _progress_text(later[1]["blocks"])
    assert second is not None
    assert second != text
    done_then = int(text.split("step ")[1].split(" of")[0].replace(",", ""))
    done_now = int(second.split("step ")[1].split(" of")[0].replace(",", ""))
    assert done_now > done_then


async def test_figures_that_did_not_move_leave_the_card_alone(
    progress_rig: Rig, clock: Clock
) -> None:
    rig = progress_rig
    job = _running_job(rig, clock)
    rig.watch(job)
    clock.now += 0.5 * SECONDS
    await rig.cycle()
    assert len(_updates(rig)) == 1
    # The curves are due again, but the emulated run has written nothing since.
    report = await rig.cycle(advance=300)
    assert report.vertex_calls["tensorboard_batch_read"] == 1
    assert len(_updates(rig)) == 1


async def test_a_job_without_validation_data_shows_no_validation_loss(
    progress_rig: Rig, clock: Clock
) -> None:
    rig = progress_rig
    rig.watch(_running_job(rig, clock))
    clock.now += 0.5 * SECONDS
    await rig.cycle()
    text = _progress_text(_updates(rig)[0]["blocks"])
    assert text is not None
    assert "training loss" in text
    assert "validation loss" not in text


async def test_two_channels_watching_one_job_cost_one_read_of_its_curves(
    progress_rig: Rig, clock: Clock
) -> None:
    rig = progress_rig
    job = _running_job(rig, clock)
    rig.watch(job, "C0TEAM001")
    rig.watch(job, "C0TEAM002")
    clock.now += 0.5 * SECONDS
    report = await rig.cycle()
    assert report.vertex_calls["tensorboard_batch_read"] == 1
    edited = {u["channel"] for u in _updates(rig) if _progress_text(u["blocks"])}
    assert edited == {"C0TEAM001", "C0TEAM002"}


@pytest.mark.parametrize(
    ("fault", "setup"),
    [
        ("experiment_403", lambda emu, job: emu.inject("experiment", 403, times=100)),
        ("tensorboard_403", lambda emu, job: emu.inject("tensorboard", 403, times=100)),
        ("no_experiment", lambda emu, job: emu.set_curves(job, experiment=False)),
        ("no_run", lambda emu, job: emu.set_curves(job, runs=False)),
    ],
)
async def test_unreadable_curves_leave_the_card_and_the_ending_as_they_are(
    progress_rig: Rig, clock: Clock, caplog: pytest.LogCaptureFixture, fault: str, setup: Any
) -> None:
    rig = progress_rig
    job = _running_job(rig, clock)
    rig.watch(job)
    setup(rig.emulator, job)
    clock.now += 0.5 * SECONDS
    with caplog.at_level(logging.INFO, logger="bot.watch.progress"):
        await rig.cycle()
        await rig.cycle(advance=300)
        await rig.cycle(advance=300)
    assert _updates(rig) == []  # the card shows what it showed
    noted = [r for r in caplog.records if "training curves not readable" in r.getMessage()]
    assert len(noted) == 1  # once, not every cycle
    # State polling goes on: the ending is announced as ever.
    clock.now += SECONDS
    await rig.cycle(advance=300)
    assert len(thread_replies(rig.slack, job)) == 1


async def test_a_spent_budget_reads_states_first_and_curves_later(
    progress_rig: Rig, clock: Clock
) -> None:
    rig = progress_rig
    rig.budget = RequestBudget(6)  # one state read leaves no room for curves
    job = _running_job(rig, clock)
    rig.watch(job)
    clock.now += 0.5 * SECONDS
    report = await rig.cycle()
    assert report.vertex_calls["get"] == 1
    assert report.vertex_calls["tensorboard_batch_read"] == 0
    assert _updates(rig) == []


async def test_curve_reads_pay_for_every_request_and_leave_room_for_state_reads(
    progress_rig: Rig, clock: Clock
) -> None:
    # Finding a job's curves the first time takes four requests (experiment, runs, series,
    # batchRead): ten jobs would want 40 of a budget of 30 per minute.
    rig = progress_rig
    budget_clock = Clock(0.0)
    rig.budget = RequestBudget(30, clock=budget_clock)
    cards = {}
    for i in range(10):
        job = _running_job(rig, clock)
        cards[f"1700000000.{i:06d}"] = job
        rig.watch(job, message_ts=f"1700000000.{i:06d}")
    clock.now += 0.5 * SECONDS
    shown: set[str] = set()
    cycles = 0
    while len(shown) < len(cards):
        cycles += 1
        assert cycles <= 3, f"progress on {len(shown)} of 10 cards after 3 cycles"
        report = await rig.cycle(advance=300)  # each time the curves are due again
        budget_clock.now += 60  # a minute later: the budget is full again
        # Every request Google saw was paid for, and the reserve stayed for state reads;
        # no read was cut short: each chain begun was followed to its points.
        calls = report.vertex_calls
        assert report.total_vertex_calls <= 30 - BUDGET_RESERVE
        assert calls["experiment"] == calls["tensorboard_runs"] == calls["tensorboard_series"]
        assert calls["tensorboard_batch_read"] >= calls["experiment"]
        assert report.vertex_calls["list"] == 1  # the state read went first, every time
        shown |= {u["ts"] for u in _updates(rig) if _progress_text(u["blocks"])}
    assert cycles >= 2  # not all at once: the budget did not allow it
    assert shown == set(cards)


async def test_a_slow_tensorboard_does_not_hold_the_cycle_past_its_limit(
    progress_rig: Rig, clock: Clock
) -> None:
    rig = progress_rig
    rig.config = PollConfig(interval=60, metrics_interval=300, curves_limit_seconds=0.3)
    job = _running_job(rig, clock)
    other = rig.add_job(JobState.RUNNING)
    rig.watch(job)
    rig.watch(other, "C0TEAM002", state=JobState.PENDING)
    held = rig.emulator.hold("tensorboard_runs")
    clock.now += 0.5 * SECONDS
    try:
        await rig.cycle()
    finally:
        held.set()
    # The other card's state change went out though one job's TensorBoard hung.
    assert {u["channel"] for u in _updates(rig)} == {"C0TEAM002"}
