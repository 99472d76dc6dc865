"""The chart's alt text: what a screen reader says instead of the picture, in both languages."""

from __future__ import annotations

import pytest

from bot.charts.alt_text import chart_alt_text
from bot.tuning.curves import Metric, Point, Series, TrainingCurves, curves_of


def _curves(
    *, validation: bool = True, planned: int | None = None, sampled: bool = False
) -> TrainingCurves:
    series = {
        Metric.TRAIN_LOSS: Series.of(
            [Point(1, 2.3112), Point(400, 1.02), Point(800, 0.4204)], sampled=sampled
        ),
        Metric.TRAIN_ACCURACY: Series.of([Point(1, 0.41), Point(800, 0.8734)]),
    }
    if validation:
        series[Metric.EVAL_LOSS] = Series.of([Point(400, 1.1), Point(800, 0.5098)])
    return curves_of(series, planned_steps=planned, checkpoint_steps=[400, 800])


def test_english_alt_text_says_how_the_losses_went() -> None:
    assert chart_alt_text(_curves(), title="support-bot-v3", language="en") == (
        "Training curves of support-bot-v3. "
        "Training loss went from 2.31 to 0.42 over 800 steps. "
        "Validation loss 0.51 at step 800. "
        "Training next-token accuracy 87.3% at step 800."
    )


def test_japanese_alt_text_says_how_the_losses_went() -> None:
    assert chart_alt_text(_curves(), title="サポートボット", language="ja") == (
        "サポートボット の学習曲線。"
        "トレーニング損失は 800 ステップで 2.31 から 0.42 になりました。"
        "ステップ 800 時点の検証損失は 0.51です。"
        "ステップ 800 時点のトレーニングの次トークン正解率は 87.3%です。"
    )


def _overfitting() -> TrainingCurves:
    """A run whose validation loss bottoms out at step 480 and rises to the end; training
    loss is last sampled at step 1,190, the other series reach 1,200."""
    series = {
        Metric.TRAIN_LOSS: Series.of([Point(1, 2.4), Point(600, 0.5), Point(1190, 0.21)]),
        Metric.TRAIN_ACCURACY: Series.of([Point(1, 0.4), Point(1200, 0.889)]),
        Metric.EVAL_LOSS: Series.of(
            [Point(240, 0.9), Point(480, 0.6812), Point(720, 0.74), Point(1200, 0.83)]
        ),
        Metric.EVAL_ACCURACY: Series.of([Point(480, 0.81), Point(1200, 0.7964)]),
    }
    return curves_of(series, planned_steps=1200)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            "Training curves of support-bot-v3. "
            "Training loss went from 2.4 to 0.21 over 1,200 steps. "
            "Validation loss 0.83 at step 1,200. "
            "Lowest validation loss 0.681 at step 480. "
            "Training next-token accuracy 88.9% at step 1,200. "
            "Validation next-token accuracy 79.6% at step 1,200.",
        ),
        (
            "ja",
            "support-bot-v3 の学習曲線。"
            "トレーニング損失は 1,200 ステップで 2.4 から 0.21 になりました。"
            "ステップ 1,200 時点の検証損失は 0.83です。"
            "検証損失が最も低かったのはステップ 480 の 0.681です。"
            "ステップ 1,200 時点のトレーニングの次トークン正解率は 88.9%です。"
            "ステップ 1,200 時点の検証の次トークン正解率は 79.6%です。",
        ),
    ],
)
def test_alt_text_says_where_validation_loss_was_lowest_when_it_rose_since(
    language: str, expected: str
) -> None:
    # Overfitting shows as a validation loss that rises at the end: the lowest is told apart.
    assert chart_alt_text(_overfitting(), title="support-bot-v3", language=language) == expected


def test_alt_text_leaves_out_a_lowest_validation_loss_that_is_the_latest() -> None:
    for language in ("en", "ja"):
        text = chart_alt_text(_curves(), title="x", language=language)
        assert "Lowest" not in text
        assert "最も低" not in text


def test_alt_text_without_validation_data_says_nothing_of_it() -> None:
    for language in ("en", "ja"):
        text = chart_alt_text(_curves(validation=False), title="x", language=language)
        assert "alidation" not in text
        assert "検証" not in text


@pytest.mark.parametrize(
    ("language", "progress", "sampled"),
    [
        ("en", "Step 800 of 1,200 so far.", "The curves are drawn from a sample Google sent."),
        ("ja", "1,200 ステップ中 800 ステップまで進んでいます。", "Google から届いた記録の一部"),
    ],
)
def test_alt_text_says_a_run_is_going_on_and_google_sampled_it(
    language: str, progress: str, sampled: str
) -> None:
    text = chart_alt_text(_curves(planned=1200, sampled=True), title="x", language=language)
    assert progress in text
    assert sampled in text
    plain = chart_alt_text(_curves(planned=800), title="x", language=language)
    assert progress not in plain
    assert sampled not in plain


def test_alt_text_of_empty_curves_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no points"):
        chart_alt_text(TrainingCurves(), title="x", language="en")


def test_the_renderer_offers_the_same_alt_text() -> None:
    from bot.charts import render

    assert render.chart_alt_text is chart_alt_text
