"""A chart's training curves in a sentence or two, for Slack's `alt_text` on the image."""

from __future__ import annotations

import functools

from bot.i18n import translate
from bot.tuning.curves import Metric, TrainingCurves


def _loss(value: float) -> str:
    # Three significant figures read aloud well and are as many as the chart's axis shows.
    return f"{value:.3g}"


def chart_alt_text(curves: TrainingCurves, *, title: str, language: str) -> str:
    """What the chart shows as plain text in `language`: the training loss's first and last
    values, the latest validation loss (and its lowest, when that came earlier), the latest
    accuracies, progress and any sampling."""
    if curves.is_empty:
        raise ValueError("the training curves hold no points to describe")
    t = functools.partial(translate, language)
    sentences = [t("chart.alt_title", title=title)]
    train = curves.get(Metric.TRAIN_LOSS).points
    if train:
        sentences.append(
            t(
                "chart.alt_train_loss",
                first=_loss(train[0].value),
                last=_loss(train[-1].value),
                steps=f"{curves.last_step:,}",
            )
        )
    validation = curves.get(Metric.EVAL_LOSS).points
    if validation:
        latest = validation[-1]
        sentences.append(
            t("chart.alt_eval_loss", value=_loss(latest.value), step=f"{latest.step:,}")
        )
        # A validation loss that fell and rose again is what overfitting looks like: the
        # best checkpoint is near the lowest, not the last.
        lowest = min(validation, key=lambda point: point.value)
        if _loss(lowest.value) != _loss(latest.value):
            sentences.append(
                t("chart.alt_eval_lowest", value=_loss(lowest.value), step=f"{lowest.step:,}")
            )
    for metric, key in (
        (Metric.TRAIN_ACCURACY, "chart.alt_accuracy"),
        (Metric.EVAL_ACCURACY, "chart.alt_eval_accuracy"),
    ):
        accuracy = curves.get(metric).latest
        if accuracy is not None:
            sentences.append(t(key, value=f"{accuracy.value:.1%}", step=f"{accuracy.step:,}"))
    last, planned = curves.last_step, curves.planned_steps
    if last is not None and planned and last < planned:
        sentences.append(t("chart.alt_progress", step=f"{last:,}", planned=f"{planned:,}"))
    if curves.sampled:
        sentences.append(t("chart.alt_sampled"))
    return t("chart.alt_separator").join(sentences)
