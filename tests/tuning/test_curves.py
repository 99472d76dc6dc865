"""Training curves in domain terms: what a card's progress shows, and honest thinning."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.tuning.curves import (
    Metric,
    Point,
    Progress,
    Series,
    TrainingCurves,
    curves_of,
    progress_bar,
    thin,
)


def _series(values: list[float], start: int = 1) -> Series:
    return Series.of(Point(start + i, v) for i, v in enumerate(values))


def test_series_sorts_by_step_keeps_the_last_value_of_a_step_and_drops_nan() -> None:
    series = Series.of(
        [Point(3, 0.3), Point(1, 0.9), Point(2, math.nan), Point(3, 0.25), Point(2, 0.5)]
    )
    assert [(p.step, p.value) for p in series.points] == [(1, 0.9), (2, 0.5), (3, 0.25)]
    assert series.latest == Point(3, 0.25)


def test_display_names_map_to_metrics_with_or_without_the_leading_slash() -> None:
    assert Metric.from_display_name("/train_total_loss") is Metric.TRAIN_LOSS
    assert Metric.from_display_name("eval_total_loss") is Metric.EVAL_LOSS
    assert Metric.from_display_name("/train_num_predictions") is None


def test_progress_is_the_highest_step_and_the_latest_losses() -> None:
    curves = curves_of(
        {
            Metric.TRAIN_LOSS: _series([2.0, 1.5, 1.2, 1.0]),
            Metric.EVAL_LOSS: Series.of([Point(2, 1.7)]),
            Metric.TRAIN_ACCURACY: _series([0.1, 0.2, 0.3, 0.4, 0.5]),
        },
        planned_steps=10,
    )
    progress = curves.progress()
    assert progress == Progress(
        step=5, planned_steps=10, train_loss=1.0, eval_loss=1.7, eval_step=2
    )
    assert progress.percent == 50
    assert curves.has_validation


def test_a_run_without_validation_data_has_no_validation_figure() -> None:
    curves = curves_of(
        {Metric.TRAIN_LOSS: _series([1.0]), Metric.EVAL_LOSS: Series()}, planned_steps=4
    )
    assert not curves.has_validation
    assert Metric.EVAL_LOSS not in curves.series  # empty series are dropped
    assert curves.progress().eval_loss is None


def test_percent_rounds_down_so_that_100_means_done_and_never_passes_it() -> None:
    assert Progress(step=799, planned_steps=800).percent == 99
    assert Progress(step=800, planned_steps=800).percent == 100
    assert Progress(step=900, planned_steps=800).percent == 100
    assert Progress(step=10).percent is None
    assert Progress(step=10, planned_steps=0).fraction is None


def test_changes_below_four_significant_figures_draw_the_same_card() -> None:
    a = Progress(5, 10, 0.123449, None).shown()
    b = Progress(5, 10, 0.123441, None).shown()
    assert a == b
    assert Progress(6, 10, 0.123449, None).shown() != a


@given(
    step=st.none() | st.integers(0, 10**9),
    planned=st.none() | st.integers(1, 10**9),
    train=st.none() | st.floats(allow_nan=False, allow_infinity=False),
    evaluation=st.none() | st.floats(allow_nan=False, allow_infinity=False),
    eval_step=st.none() | st.integers(0, 10**9),
)
def test_progress_survives_the_store(
    step: int | None,
    planned: int | None,
    train: float | None,
    evaluation: float | None,
    eval_step: int | None,
) -> None:
    progress = Progress(step, planned, train, evaluation, eval_step)
    encoded = progress.encode()
    assert len(encoded) <= 96  # the column's width
    assert Progress.decode(encoded) == progress


@pytest.mark.parametrize("text", [None, "", "garbage", "1|2|x|", "1|2|3"])
def test_unreadable_stored_progress_is_none(text: str | None) -> None:
    assert Progress.decode(text) is None


def test_progress_bar_fills_in_proportion_and_is_full_only_when_done() -> None:
    assert progress_bar(0.0) == "░" * 10
    assert progress_bar(0.5) == "█" * 5 + "░" * 5
    assert progress_bar(0.999) == "█" * 9 + "░"  # 99 %: not a full bar
    assert progress_bar(1.7) == "█" * 10


def test_thinning_keeps_ends_and_spikes_and_says_it_sampled() -> None:
    values = [1.0] * 10_000
    values[4_321] = 9.0  # a spike a chart must not lose
    values[7_000] = -3.0
    series = _series(values)
    thinned = thin(series, 500)
    assert len(thinned) <= 500
    assert thinned.sampled
    assert thinned.points[0] == series.points[0]
    assert thinned.points[-1] == series.points[-1]
    assert Point(4_322, 9.0) in thinned.points
    assert Point(7_001, -3.0) in thinned.points
    steps = [p.step for p in thinned.points]
    assert steps == sorted(set(steps))


def test_a_short_series_is_not_thinned() -> None:
    series = _series([1.0, 2.0, 3.0])
    assert thin(series, 500) is series
    assert not thin(series, 500).sampled


def test_checkpoint_steps_are_sorted_and_unknown_ones_dropped() -> None:
    curves = curves_of({}, checkpoint_steps=[300, None, 100, 300])
    assert curves.checkpoint_steps == (100, 300)
    assert curves.is_empty
    assert curves.last_step is None
    assert TrainingCurves().get(Metric.TRAIN_LOSS) == Series()
