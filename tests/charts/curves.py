"""Curves as a tuning run records them, for the chart tests."""

from __future__ import annotations

import math

from bot.tuning.curves import Metric, Point, Series, TrainingCurves, curves_of


def run(
    steps: int = 800,
    *,
    validation: bool = True,
    eval_every: int = 50,
    planned: int | None = None,
    checkpoints: tuple[int, ...] = (),
    sampled: bool = False,
    spike_at: int | None = None,
) -> TrainingCurves:
    """A run whose loss falls from about 2.3 towards 0.4 and whose accuracy rises, noisily."""

    def loss(step: int) -> float:
        noise = 0.05 * math.sin(step * 12.9898)
        return 1.9 * math.exp(-step / (steps / 4)) + 0.4 + noise + (3.0 if step == spike_at else 0)

    def accuracy(step: int) -> float:
        return 0.9 - 0.5 * math.exp(-step / (steps / 4)) + 0.01 * math.sin(step * 78.233)

    recorded = range(1, steps + 1)
    series = {
        Metric.TRAIN_LOSS: Series.of((Point(s, loss(s)) for s in recorded), sampled=sampled),
        Metric.TRAIN_ACCURACY: Series.of(Point(s, accuracy(s)) for s in recorded),
    }
    if validation:
        evaluated = range(eval_every, steps + 1, eval_every)
        series[Metric.EVAL_LOSS] = Series.of(Point(s, loss(s) + 0.1) for s in evaluated)
        series[Metric.EVAL_ACCURACY] = Series.of(Point(s, accuracy(s) - 0.02) for s in evaluated)
    return curves_of(series, planned_steps=planned, checkpoint_steps=checkpoints)
