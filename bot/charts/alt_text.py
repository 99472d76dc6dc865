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
    values, the latest validation loss and accuracy, progress and any sampling."""
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
                steps=f"{train[-1].step:,}",
            )
        )
    validation = curves.get(Metric.EVAL_LOSS).latest
    if validation is not None:
        sentences.append(
            t("chart.alt_eval_loss", value=_loss(validation.value), step=f"{validation.step:,}")
        )
    accuracy = curves.get(Metric.TRAIN_ACCURACY).latest
    if accuracy is not None:
        sentences.append(
            t("chart.alt_accuracy", value=f"{accuracy.value:.1%}", step=f"{accuracy.step:,}")
        )
    last, planned = curves.last_step, curves.planned_steps
    if last is not None and planned and last < planned:
        sentences.append(t("chart.alt_progress", step=f"{last:,}", planned=f"{planned:,}"))
    if curves.sampled:
        sentences.append(t("chart.alt_sampled"))
    return t("chart.alt_separator").join(sentences)
