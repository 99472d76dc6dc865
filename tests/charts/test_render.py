"""The training-curve chart as a Slack user sees it: a valid picture that says what it shows."""

from __future__ import annotations

import asyncio
import io
import itertools
import math
import threading
import warnings
from collections.abc import Callable

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.image import imread
from matplotlib.lines import Line2D
from matplotlib.text import Text

from bot.charts import render
from bot.charts.render import build_figure, render_chart, render_chart_async
from bot.i18n import translate
from bot.tuning.curves import Metric, Point, Series, TrainingCurves, curves_of
from tests.charts.curves import run

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
VALIDATION = (Metric.EVAL_LOSS, Metric.EVAL_ACCURACY)


def _lines(figure: Figure, gid: str) -> list[Line2D]:
    return [line for axes in figure.axes for line in axes.get_lines() if line.get_gid() == gid]


def _legend_texts(figure: Figure) -> list[str]:
    return [
        text.get_text()
        for axes in figure.axes
        if (legend := axes.get_legend()) is not None
        for text in legend.get_texts()
    ]


def _subtitle(figure: Figure) -> str:
    found = [text.get_text() for text in figure.texts if text.get_gid() == "subtitle"]
    return found[0] if found else ""


def _all_text(figure: Figure) -> str:
    texts = [t.get_text() for t in figure.findobj(Text)]
    return "\n".join(texts)


def _glyph_warnings(make: Callable[[], Figure]) -> list[str]:
    """The "Glyph … missing from font(s)" warnings raised building a figure and drawing it."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        FigureCanvasAgg(make()).draw()
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


def test_the_png_is_a_valid_1200_by_1000_picture() -> None:
    png = render_chart(run(checkpoints=(400, 800)), title="support-bot-v3", language="en")
    assert png.startswith(PNG_SIGNATURE)
    pixels = imread(io.BytesIO(png), format="png")
    assert pixels.shape[:2] == (1000, 1200)


def test_a_job_without_validation_data_shows_no_validation_curve() -> None:
    figure = build_figure(run(validation=False), title="no-eval", language="en")
    assert _lines(figure, Metric.TRAIN_LOSS)
    assert _lines(figure, Metric.TRAIN_ACCURACY)
    for metric in VALIDATION:
        assert _lines(figure, metric) == []
    assert _legend_texts(figure) == [translate("en", "chart.training")]


def test_a_job_with_validation_data_shows_both_curves_with_markers() -> None:
    figure = build_figure(run(validation=True), title="with-eval", language="en")
    for metric in (*VALIDATION, Metric.TRAIN_LOSS, Metric.TRAIN_ACCURACY):
        assert len(_lines(figure, metric)) == 1, metric
    # Google may evaluate only a few times: each evaluation shows as a marker.
    (eval_loss,) = _lines(figure, Metric.EVAL_LOSS)
    assert eval_loss.get_marker() == "o"
    assert list(eval_loss.get_xdata()) == list(range(50, 801, 50))
    # One legend for both panels: a colour means the same on each.
    assert _legend_texts(figure) == [
        translate("en", "chart.training"),
        translate("en", "chart.validation"),
    ]


def test_checkpoints_are_dashed_lines_at_their_steps_on_both_panels() -> None:
    figure = build_figure(run(checkpoints=(200, 400, 800)), title="ckpt", language="en")
    lines = _lines(figure, "checkpoint")
    assert sorted(line.get_xdata()[0] for line in lines) == [200, 200, 400, 400, 800, 800]
    assert all(line.get_linestyle() == "--" for line in lines)
    assert _legend_texts(figure).count(translate("en", "chart.checkpoint")) == 1
    labels = _all_text(figure)
    for step in ("200", "400", "800"):
        assert step in labels.split("\n")


@pytest.mark.parametrize("language", ["en", "ja"])
@pytest.mark.parametrize("planned", [None, 1600])
def test_the_legend_covers_no_data(language: str, planned: int | None) -> None:
    # A rising validation loss at the end of a run is what the chart is read for: no legend
    # sits over either panel, in either corner.
    curves = run(800, planned=planned, checkpoints=(400, 800), sampled=True)
    figure = build_figure(curves, title="overfitting", language=language)
    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw(renderer)
    legends = [legend for axes in figure.axes if (legend := axes.get_legend()) is not None]
    legends += figure.legends
    assert len(legends) == 1
    box = legends[0].get_window_extent(renderer)
    for axes in figure.axes:
        assert not box.overlaps(axes.get_window_extent(renderer)), axes
    # Nor over the header or the checkpoint steps along the top edge.
    for text in figure.findobj(Text):
        if text.get_text() and text.get_gid() in ("subtitle", "checkpoint"):
            assert not box.overlaps(text.get_window_extent(renderer)), text.get_text()
    assert not box.overlaps(figure._suptitle.get_window_extent(renderer))  # type: ignore[union-attr]


def test_a_job_without_checkpoints_has_no_checkpoint_lines() -> None:
    figure = build_figure(run(), title="no-ckpt", language="en")
    assert _lines(figure, "checkpoint") == []
    assert translate("en", "chart.checkpoint") not in _legend_texts(figure)


@pytest.mark.parametrize(
    ("language", "title"),
    [
        ("ja", "サポートボット v3（日本語版）"),
        ("en", "サポートボット v3（日本語版）"),  # a Japanese name in an English chart
        ("ja", "support-bot-v3"),
    ],
)
def test_japanese_text_has_glyphs(language: str, title: str) -> None:
    curves = run(planned=1600, checkpoints=(400,), sampled=True)
    figures: list[Figure] = []

    def make() -> Figure:
        figures.append(build_figure(curves, title=title, language=language))
        return figures[-1]

    assert _glyph_warnings(make) == []
    (figure,) = figures
    if language == "ja":
        assert translate("ja", "chart.validation") in _legend_texts(figure)
        assert "ステップ" in _all_text(figure)
    assert figure.get_suptitle() == title


@pytest.mark.parametrize("language", ["en", "ja"])
def test_emoji_in_a_display_name_are_left_out_rather_than_drawn_as_boxes(language: str) -> None:
    figures: list[Figure] = []

    def make() -> Figure:
        figures.append(build_figure(run(), title="support 🚀 bot ✨ v3", language=language))
        return figures[-1]

    assert _glyph_warnings(make) == []
    assert figures[0].get_suptitle() == "support bot v3"
    # A joined emoji goes whole; a symbol a font has (DejaVu's ❤) stays, as text.
    joined = build_figure(run(), title="👩‍💻 チーム ❤️ bot", language=language)
    assert joined.get_suptitle() == "チーム ❤ bot"


def test_the_glyph_check_sees_a_font_without_japanese() -> None:
    def make() -> Figure:
        figure = Figure()
        figure.text(0.5, 0.5, "検証損失", family="DejaVu Sans")
        return figure

    assert _glyph_warnings(make) != []


def test_the_sampled_note_appears_only_when_google_sampled() -> None:
    note = translate("en", "chart.sampled", points="800").split(":")[0]
    sampled = build_figure(run(sampled=True), title="s", language="en")
    assert note in _subtitle(sampled)
    assert "800" in _subtitle(sampled)
    whole = build_figure(run(sampled=False), title="w", language="en")
    assert note not in _all_text(whole)


@pytest.mark.parametrize(
    ("language", "lines"),
    [
        (
            "en",
            [
                "Running · step 800 of 1,600",
                "Google sent a sample: 800 of the recorded points shown;",
                "short spikes may be missing",
            ],
        ),
        (
            "ja",
            [
                "実行中・ステップ 800 / 1,600",
                "Google から届いたのは記録の一部です：記録された点のうち",
                "800 点を表示。短い急上昇は抜けていることがあります",
            ],
        ),
    ],
)
def test_the_sampled_note_says_what_a_sample_may_miss_within_the_width(
    language: str, lines: list[str]
) -> None:
    figure = build_figure(run(800, planned=1600, sampled=True), title="sampled", language=language)
    assert _subtitle(figure).split("\n") == lines
    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw(renderer)
    (subtitle,) = [text for text in figure.texts if text.get_gid() == "subtitle"]
    box = subtitle.get_window_extent(renderer)
    assert box.x1 <= figure.bbox.width
    legend = figure.axes[0].get_legend()
    assert legend is not None
    assert not box.overlaps(legend.get_window_extent(renderer))


def test_thinning_for_drawing_keeps_spikes_and_does_not_claim_sampling() -> None:
    # 10,000 points are drawn as at most 2,000 that keep each bucket's lowest and highest.
    curves = run(10_000, spike_at=6_543)
    figure = build_figure(curves, title="long", language="en")
    (train,) = _lines(figure, Metric.TRAIN_LOSS)
    assert len(train.get_xdata()) <= render.DRAWN_POINTS
    recorded = curves.get(Metric.TRAIN_LOSS)
    assert max(train.get_ydata()) == max(p.value for p in recorded.points)
    assert 6_543 in train.get_xdata()
    assert translate("en", "chart.sampled", points="").split(":")[0] not in _all_text(figure)


def test_a_running_job_says_it_is_running_and_as_of_which_step() -> None:
    figure = build_figure(run(480, planned=1200), title="running", language="en")
    assert figure.axes[0].get_xlim() == (0, 1200)
    assert _subtitle(figure) == "Running · step 480 of 1,200"
    japanese = build_figure(run(480, planned=1200), title="running", language="ja")
    # The status card's form: 「ステップ 576 / 800」.
    assert _subtitle(japanese) == "実行中・ステップ 480 / 1,200"
    unplanned = build_figure(run(480), title="running", language="en", running=True)
    assert _subtitle(unplanned) == "Running · step 480"
    # At its last planned step, a job may still be running (its final evaluation, say).
    ending = build_figure(run(800, planned=800), title="ending", language="ja", running=True)
    assert _subtitle(ending) == "実行中・ステップ 800 / 800"


def test_a_job_that_stopped_short_shows_how_far_it_got_without_running() -> None:
    for language, expected in (("en", "Step 480 of 1,200"), ("ja", "ステップ 480 / 1,200")):
        figure = build_figure(
            run(480, planned=1200), title="stopped", language=language, running=False
        )
        assert _subtitle(figure) == expected
        assert "Running" not in _all_text(figure)
        assert "実行中" not in _all_text(figure)


def test_a_finished_job_shows_no_progress_line() -> None:
    figure = build_figure(run(800, planned=800), title="done", language="en")
    assert figure.axes[0].get_xlim() == (0, 800)
    assert _subtitle(figure) == ""


def _tick_labels(figure: Figure, axis: str, index: int) -> list[Text]:
    """The tick labels shown on one panel's axis (those inside its limits), once drawn."""
    axes = figure.axes[index]
    low, high = axes.get_xlim() if axis == "x" else axes.get_ylim()
    labels = axes.get_xticklabels() if axis == "x" else axes.get_yticklabels()
    coordinate = 0 if axis == "x" else 1
    return [label for label in labels if low <= label.get_position()[coordinate] <= high]


@pytest.mark.parametrize("steps", [200, 800, 1200, 10_000])
def test_the_value_axes_have_four_to_six_ticks_at_nice_steps(steps: int) -> None:
    # The loss falls to about 0.4: ticks only at 1 and 2 would leave the end unreadable.
    figure = build_figure(run(steps), title="ticks", language="en")
    FigureCanvasAgg(figure).draw()
    for index in (0, 1):
        ticks = [label.get_position()[1] for label in _tick_labels(figure, "y", index)]
        assert 4 <= len(ticks) <= 6, ticks
        gaps = {round(b - a, 6) for a, b in itertools.pairwise(ticks)}
        assert len(gaps) == 1, ticks
        (gap,) = gaps
        mantissa = gap / 10 ** math.floor(math.log10(gap))
        assert round(mantissa, 6) in (1, 2, 2.5, 5), gap
    loss = [label.get_text() for label in _tick_labels(figure, "y", 0)]
    assert "0.5" in loss


@pytest.mark.parametrize(
    ("steps", "labels"),
    [
        (1200, ["0", "300", "600", "900", "1,200"]),
        (10_000, ["0", "2.5k", "5k", "7.5k", "10k"]),
        (15_000, ["0", "5k", "10k", "15k"]),
    ],
)
def test_the_step_axis_has_few_compact_labels_that_do_not_touch(
    steps: int, labels: list[str]
) -> None:
    figure = build_figure(run(steps, checkpoints=(steps // 3,)), title="ticks", language="en")
    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw(renderer)
    shown = _tick_labels(figure, "x", 1)
    assert [label.get_text() for label in shown] == labels
    boxes = [label.get_window_extent(renderer) for label in shown]
    for left, right in itertools.pairwise(boxes):
        assert right.x0 - left.x1 > 20  # px of the 1,200 px picture: about 7 px on a phone
    # A checkpoint's own label stays exact: it names the checkpoint.
    assert f"{steps // 3:,}" in [text.get_text() for text in figure.axes[0].texts]


def _early(steps: int, *, loss: float, accuracy: float) -> TrainingCurves:
    """A run's first steps: figures that only wobble about `loss` and `accuracy`."""
    wobble = [0.02 * math.sin(s * 12.9898) for s in range(1, steps + 1)]
    return curves_of(
        {
            Metric.TRAIN_LOSS: Series.of(Point(s, loss + w) for s, w in enumerate(wobble, 1)),
            Metric.TRAIN_ACCURACY: Series.of(
                Point(s, accuracy + w / 4) for s, w in enumerate(wobble, 1)
            ),
            Metric.EVAL_LOSS: Series.of([Point(steps, loss + 0.03)]),
        },
        planned_steps=1200,
    )


@pytest.mark.parametrize(
    ("loss", "accuracy", "loss_limits", "accuracy_limits"),
    [
        (1.2, 0.5, None, None),  # centred on the data
        (0.1, 0.97, (0, 0.5), (0.8, 1.0)),  # moved up or down to stay where values can be
    ],
)
def test_an_early_run_s_noise_is_not_blown_up_to_fill_the_panels(
    loss: float,
    accuracy: float,
    loss_limits: tuple[float, float] | None,
    accuracy_limits: tuple[float, float] | None,
) -> None:
    curves = _early(30, loss=loss, accuracy=accuracy)
    figure = build_figure(curves, title="early", language="en")
    FigureCanvasAgg(figure).draw()
    for index, series, span, limits in (
        (0, (Metric.TRAIN_LOSS, Metric.EVAL_LOSS), 0.5, loss_limits),
        (1, (Metric.TRAIN_ACCURACY,), 0.2, accuracy_limits),
    ):
        low, high = figure.axes[index].get_ylim()
        assert high - low == pytest.approx(span)
        values = [p.value for metric in series for p in curves.get(metric).points]
        if limits is None:
            assert (low + high) / 2 == pytest.approx((min(values) + max(values)) / 2)
        else:
            assert (low, high) == pytest.approx(limits)
        assert low <= min(values)
        assert max(values) <= high
    labels = [label.get_text() for label in _tick_labels(figure, "y", 1)]
    assert all(label.endswith("%") and "." not in label for label in labels), labels
    # A run with its full range keeps matplotlib's own limits around the data.
    whole = build_figure(run(800), title="whole", language="en")
    assert whole.axes[0].get_ylim()[1] - whole.axes[0].get_ylim()[0] > 1.5


def test_labels_are_in_the_reader_language() -> None:
    figure = build_figure(run(), title="x", language="ja")
    loss, accuracy = figure.axes[:2]
    assert loss.get_ylabel() == "損失"
    assert accuracy.get_ylabel() == translate("ja", "chart.accuracy")
    assert accuracy.get_xlabel() == "ステップ"


def test_a_display_name_is_shown_as_typed_and_cut_when_too_long() -> None:
    # `$…$` in a display name is not mathtext.
    figure = build_figure(run(), title="cost $5 to $10 run", language="en")
    title = figure._suptitle
    assert title is not None
    assert title.get_text() == "cost $5 to $10 run"
    assert title.get_parse_math() is False
    long = build_figure(run(), title="長い名前" * 40, language="ja")
    first, second = long.get_suptitle().split("\n")
    assert first.startswith("長い名前")
    assert second.endswith("…")
    assert len(first + second) < 60


@pytest.mark.parametrize(
    ("title", "lines"),
    [
        (
            "カスタマーサポート応答モデル 第3版（社内FAQ・2026年12月データ）",
            ["カスタマーサポート応答モデル", "第3版（社内FAQ・2026年12月データ）"],
        ),
        (
            "customer-support answer model, third edition (internal FAQ, December 2026)",
            ["customer-support answer model, third edition", "(internal FAQ, December 2026)"],
        ),
    ],
)
def test_a_long_title_wraps_onto_a_second_line_before_it_is_cut(
    title: str, lines: list[str]
) -> None:
    # The end of a name is often what tells two runs apart: it is kept on a second line.
    figure = build_figure(run(planned=1600, checkpoints=(400,)), title=title, language="ja")
    assert figure.get_suptitle().split("\n") == lines
    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw(renderer)
    header = figure._suptitle.get_window_extent(renderer)  # type: ignore[union-attr]
    assert header.x1 <= figure.bbox.width
    assert header.y1 <= figure.bbox.height
    (subtitle,) = [text for text in figure.texts if text.get_gid() == "subtitle"]
    legend = figure.axes[0].get_legend()
    assert legend is not None
    for other in (subtitle, legend, *figure.axes):
        assert not header.overlaps(other.get_window_extent(renderer)), other


def test_a_lone_first_point_is_visible() -> None:
    curves = curves_of({Metric.TRAIN_LOSS: Series.of([Point(1, 2.5)])}, planned_steps=500)
    (train,) = _lines(build_figure(curves, title="new", language="en"), Metric.TRAIN_LOSS)
    assert train.get_marker() == "o"


@pytest.mark.parametrize("curves", [TrainingCurves(), curves_of({Metric.TRAIN_LOSS: Series()})])
def test_empty_curves_raise_a_clear_error(curves: TrainingCurves) -> None:
    with pytest.raises(ValueError, match="no points"):
        build_figure(curves, title="x", language="en")
    with pytest.raises(ValueError, match="no points"):
        render_chart(curves, title="x", language="en")


async def test_the_async_render_gives_the_same_bytes_off_the_loop_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    threads: list[int] = []
    original = render.render_chart

    def recording(
        curves: TrainingCurves, *, title: str, language: str, running: bool | None = None
    ) -> bytes:
        threads.append(threading.get_ident())
        return original(curves, title=title, language=language, running=running)

    monkeypatch.setattr(render, "render_chart", recording)
    curves = run(checkpoints=(400,))
    png = await render_chart_async(curves, title="async", language="ja")
    assert png == original(curves, title="async", language="ja")
    assert len(threads) == 1
    # Whether the job is running is passed through (it changes the subtitle, so the bytes).
    ending = run(800, planned=800)
    running = await render_chart_async(ending, title="async", language="ja", running=True)
    assert running == original(ending, title="async", language="ja", running=True)
    assert running != original(ending, title="async", language="ja")
    assert threads[0] != threading.get_ident()


async def test_async_renders_run_one_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    busy, most = 0, 0
    lock = threading.Lock()
    original = render.render_chart

    def counting(
        curves: TrainingCurves, *, title: str, language: str, running: bool | None = None
    ) -> bytes:
        nonlocal busy, most
        with lock:
            busy += 1
            most = max(most, busy)
        try:
            return original(curves, title=title, language=language, running=running)
        finally:
            with lock:
                busy -= 1

    monkeypatch.setattr(render, "render_chart", counting)
    pngs = await asyncio.gather(
        *(render_chart_async(run(), title=f"job {i}", language="en") for i in range(3))
    )
    assert len({*pngs}) == 3
    assert most == 1
