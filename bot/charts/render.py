"""A job's training curves as a PNG for Slack: loss above, next-token accuracy below.

Only matplotlib's object-oriented API is used (a `Figure` of its own, drawn by an Agg canvas of
its own, no pyplot and no change to `rcParams`), so renders in any thread share nothing that
changes under them; the one process-wide step is registering the bundled Japanese font, once.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.resources
import importlib.util
import io
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ft2font import FT2Font
from matplotlib.textpath import TextToPath
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from bot.charts.alt_text import chart_alt_text
from bot.i18n import translate
from bot.tuning.curves import Metric, Series, TrainingCurves, thin

# The alt text lives apart (it needs no matplotlib) and is offered here beside the picture.
__all__ = [
    "build_figure",
    "chart_alt_text",
    "font_families",
    "render_chart",
    "render_chart_async",
]

# 1200 × 1000 px. Slack shows an image at a phone's width, about a third of this size, so the
# picture is laid out as a small figure at a high dpi: 14 pt text stays about 13 px tall there.
FIGURE_INCHES = (6.0, 5.0)
DPI = 200
TITLE_PT = 18
BODY_PT = 14
LEGEND_PT = 13
MARK_PT = 11  # checkpoint steps along the top edge: small, they only point at their lines
LINE_PT = 2.5
VALIDATION_LINE_PT = 2.0  # drawn over the training curve, which should show beneath it
# More markers than this would merge into a thick line: only every n-th point gets one.
MAX_MARKERS = 40
HEADER_INCHES = 0.15  # from the figure's top and left edges to the title
TITLE_LINE_INCHES = 0.38
TITLE_WRAP_INCHES = 0.3  # a long title's second line: 18 pt at a line spacing of 1.2
TITLE_LINES = 2  # a long title wraps once before it is cut: its end often tells runs apart
SUBTITLE_LINES = 2  # each of the subtitle's notes, likewise
SUBTITLE_LINE_INCHES = 0.27
# The one legend, a row between the header and the top panel: inside a panel it would cover
# the last points, where a rising validation loss shows.
LEGEND_ROW_INCHES = 0.32

# Okabe-Ito: told apart with every common colour-vision deficiency, and in greyscale by the
# validation curves' markers.
TRAINING_COLOUR = "#0072B2"  # blue
VALIDATION_COLOUR = "#D55E00"  # vermillion
CHECKPOINT_COLOUR = "#555555"
GRID_COLOUR = "#DDDDDD"

# Each series is thinned to this many points before drawing. `thin` keeps, per bucket, the
# lowest and highest value: 2,000 points are about one min/max pair per pixel column of the
# plot (about 1,000 px wide), which is what Agg would draw from every point anyway, spikes
# included. So the thinning is visually lossless and the chart does not call itself sampled
# for it; the note is kept for what Google left out before the points reached us.
DRAWN_POINTS = 2000

# Checkpoint step labels closer than this fraction of the step axis would overlap: the later
# one is left unlabelled (its dashed line is still drawn).
MARK_SPACING = 0.12

# One render at a time: a burst of job endings waits its turn instead of taking both cores
# from the event loop and the poller.
_RENDERER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chart-render")

_font_lock = threading.Lock()
_font_families: tuple[str, ...] | None = None
_drawable: frozenset[int] = frozenset()  # the code points one of those fonts has a glyph for

# Emoji joiners and presentation selectors: left alone once the emoji they join is dropped,
# they would stand for nothing.
_EMOJI_GLUE = frozenset({0x200D, 0xFE0E, 0xFE0F, 0x20E3})


def _bundled_font() -> Path:
    """matplotlib-fontja's IPAexGothic file, found without importing the package: its
    `__init__` calls `japanize()`, which rewrites the process-wide `rcParams`."""
    spec = importlib.util.find_spec("matplotlib_fontja")
    if spec is None:
        raise RuntimeError("matplotlib-fontja is not installed: Japanese text has no font")
    # A module object from the spec, never executed, is enough for importlib.resources.
    package = importlib.util.module_from_spec(spec)
    return Path(str(importlib.resources.files(package) / "fonts" / "ipaexg.ttf"))


def font_families() -> tuple[str, ...]:
    """The font families every text on a chart uses, registering the bundled font on first use.

    IPAexGothic covers Latin and Japanese alike (a display name may mix both in either
    language); DejaVu Sans, matplotlib's own, fills in symbols it lacks.
    """
    global _font_families, _drawable
    with _font_lock:
        if _font_families is None:
            path = _bundled_font()
            font_manager.fontManager.addfont(str(path))
            name = font_manager.FontProperties(fname=path).get_name()
            dejavu = font_manager.findfont(
                FontProperties(family="DejaVu Sans"), fallback_to_default=False
            )
            _drawable = frozenset().union(
                *(FT2Font(str(file)).get_charmap() for file in (path, dejavu))
            )
            _font_families = (name, "DejaVu Sans")
        return _font_families


def drawable(text: str) -> str:
    """`text` without the characters none of the chart's fonts can draw (emoji, mostly),
    which would show as empty boxes; the spaces they leave are closed up."""
    font_families()
    kept = "".join(c for c in text if ord(c) in _drawable and ord(c) not in _EMOJI_GLUE)
    if kept == text:
        return text
    return " ".join(kept.split())


def _fitted(text: str, font: FontProperties, inches: float) -> str:
    """`text` as it fits in `inches` at `font`, cut short with an ellipsis if it must be."""
    # Measured, since a Japanese character is about twice as wide as a Latin one.
    measure = TextToPath()

    def width(candidate: str) -> float:
        return measure.get_text_width_height_descent(candidate, font, ismath=False)[0] / 72

    if width(text) <= inches:
        return text
    low, high = 0, len(text)  # the longest prefix that fits, with its ellipsis, is found
    while low < high:
        middle = (low + high + 1) // 2
        if width(text[:middle].rstrip() + "…") <= inches:
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip() + "…"


# A line may end after these and the next begin before those (a space is a break of its own).
_BREAK_AFTER = frozenset("-_/・、。，：;,）)」』】")
_BREAK_BEFORE = frozenset("（(「『【")
# Japanese line-breaking rules (kinsoku): none of these may begin a line.
_NO_LINE_START = frozenset("、。，．・：；？！）」』】ー…ぁぃぅぇぉっゃゅょァィゥェォッャュョ")


def _wrapped(text: str, font: FontProperties, inches: float, lines: int) -> str:
    """`text` on at most `lines` lines of `inches` at `font`, each broken where `_break`
    says, and only the last line cut short with an ellipsis if it must be."""
    measure = TextToPath()

    def width(candidate: str) -> float:
        return measure.get_text_width_height_descent(candidate, font, ismath=False)[0] / 72

    shown: list[str] = []
    rest = text
    while len(shown) < lines - 1 and width(rest) > inches:
        low, high = 1, len(rest)  # the longest prefix that fits
        while low < high:
            middle = (low + high + 1) // 2
            if width(rest[:middle].rstrip()) <= inches:
                low = middle
            else:
                high = middle - 1
        cut = _break(rest, low)
        shown.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    shown.append(_fitted(rest, font, inches))
    return "\n".join(shown)


def _break(text: str, fits: int) -> int:
    """Where to end a line of `text` of which the first `fits` characters fit: at the last
    space in the latter half of them, else after the last punctuation there, else at `fits`
    moved back past characters that may not begin a line."""
    latter = range(fits, fits // 2, -1)
    for at in latter:
        if text[at].isspace():
            return at
    for at in latter:
        if text[at - 1] in _BREAK_AFTER or text[at] in _BREAK_BEFORE:
            return at
    cut = fits
    while cut > 1 and text[cut] in _NO_LINE_START:
        cut -= 1
    return cut


# Few early points would fill a panel with their noise: each value axis spans at least this
# much (loss 0.5, accuracy 20 percentage points), centred on the data.
MIN_LOSS_SPAN = 0.5
MIN_ACCURACY_SPAN = 0.2


def _least_span(axes: Axes, span: float, *, low: float, high: float) -> None:
    """Widens `axes`' value range to `span` about the middle of its data when the data, with
    matplotlib's margins, would take less; kept within `low`…`high` (where no value can be)."""
    curves = [line for line in axes.get_lines() if line.get_gid() != "checkpoint"]
    if not curves:
        return
    values = [numpy.asarray(line.get_ydata(), dtype=float) for line in curves]
    bottom = min(float(v.min()) for v in values)
    top = max(float(v.max()) for v in values)
    margin = axes.get_ymargin()
    if (top - bottom) * (1 + 2 * margin) >= span:
        return
    middle = (bottom + top) / 2
    start = min(max(middle - span / 2, low), high - span)
    axes.set_ylim(start, start + span)


# Nice steps for every axis: 4 to 6 ticks on a value axis, at most 5 on the step axis, whose
# labels are wider and must not touch at a phone's width.
NICE_STEPS = [1, 2, 2.5, 5, 10]
STEP_TICKS = 4  # intervals, so at most 5 ticks
STEP_NICE_STEPS = [1, 2, 2.5, 3, 5, 10]  # 3 too: 1,200 steps tick every 300, not every 500
COMPACT_FROM = 10_000  # an axis reaching this many steps labels them 5k, 10k, 15k


def _value_locator() -> MaxNLocator:
    return MaxNLocator(nbins=5, steps=NICE_STEPS, min_n_ticks=4)


def _step_label(right: float) -> Callable[[float], str]:
    """How a step reads on an axis reaching `right`: 1,200, or 15k on a long run's."""
    if right < COMPACT_FROM:
        return lambda value: f"{int(value):,}"
    return lambda value: f"{value / 1000:,.4g}k" if value else "0"


def _draw(
    axes: Axes, series: Series, *, metric: Metric, colour: str, label: str, markers: bool
) -> None:
    if not series.points:
        return
    drawn = thin(series, DRAWN_POINTS)
    # A lone point draws no line: it gets a marker so the first step written shows.
    # Agg simplifies a path of more than 128 vertices by itself (`path.simplify`, on by
    # default, merging segments within 1/9 px), so the thinned line costs little more; the
    # setting is left alone, being process-wide. Curves stay antialiased: thick lines at a
    # slant would otherwise show steps.
    marker = "o" if markers or len(drawn) == 1 else None
    axes.plot(
        [p.step for p in drawn.points],
        [p.value for p in drawn.points],
        color=colour,
        linewidth=VALIDATION_LINE_PT if markers else LINE_PT,
        marker=marker,
        markersize=6,
        markevery=max(1, -(-len(drawn) // MAX_MARKERS)),
        label=label,
        gid=metric.value,
        solid_joinstyle="round",
    )


def _sampled_points(curves: TrainingCurves) -> int | None:
    """How many points the largest series Google sampled holds; None when none was sampled."""
    sampled = [len(s) for s in curves.series.values() if s.sampled]
    return max(sampled) if sampled else None


def _subtitle(
    curves: TrainingCurves, t: Callable[..., str], running: bool | None, font: FontProperties
) -> str:
    """What the figures are: a running job's as of its latest step, a job that stopped
    short's as far as it got; a finished job's need no line."""
    lines = []
    last, planned = curves.last_step, curves.planned_steps
    short = last is not None and bool(planned) and last < (planned or 0)
    if running is None:
        running = short
    if last is not None and running:
        if planned:
            lines.append(t("chart.running_of", step=f"{last:,}", planned=f"{planned:,}"))
        else:
            lines.append(t("chart.running", step=f"{last:,}"))
    elif short:
        lines.append(t("chart.progress", step=f"{last:,}", planned=f"{planned:,}"))
    points = _sampled_points(curves)
    if points is not None:
        lines.append(t("chart.sampled", points=f"{points:,}"))
    width = FIGURE_INCHES[0] - 2 * HEADER_INCHES
    return "\n".join(_wrapped(line, font, width, SUBTITLE_LINES) for line in lines)


def build_figure(
    curves: TrainingCurves, *, title: str, language: str, running: bool | None = None
) -> Figure:
    """The chart as a matplotlib Figure (not yet drawn); ValueError when nothing is recorded.

    `running` says whether the job is still training; None infers it from the curves (fewer
    steps recorded than planned)."""
    if curves.is_empty:
        raise ValueError("the training curves hold no points to draw")
    t = functools.partial(translate, language)
    families = list(font_families())
    body = FontProperties(family=families, size=BODY_PT)
    figure = Figure(figsize=FIGURE_INCHES, dpi=DPI)
    loss, accuracy = figure.subplots(2, 1, sharex=True)
    subtitle = _subtitle(curves, t, running, body)
    title_font = FontProperties(family=families, size=TITLE_PT)
    shown_title = _wrapped(
        drawable(title), title_font, FIGURE_INCHES[0] - 2 * HEADER_INCHES, TITLE_LINES
    )
    title_inches = TITLE_LINE_INCHES + TITLE_WRAP_INCHES * shown_title.count("\n")
    legend_top = _lay_out(
        figure,
        title_inches=title_inches,
        subtitle_lines=len(subtitle.splitlines()),
        marks=bool(curves.checkpoint_steps),
    )

    _draw(
        loss,
        curves.get(Metric.TRAIN_LOSS),
        metric=Metric.TRAIN_LOSS,
        colour=TRAINING_COLOUR,
        label=t("chart.train_loss"),
        markers=False,
    )
    # Google may evaluate only a few times in a run: markers show where each figure is.
    _draw(
        loss,
        curves.get(Metric.EVAL_LOSS),
        metric=Metric.EVAL_LOSS,
        colour=VALIDATION_COLOUR,
        label=t("chart.eval_loss"),
        markers=True,
    )
    _draw(
        accuracy,
        curves.get(Metric.TRAIN_ACCURACY),
        metric=Metric.TRAIN_ACCURACY,
        colour=TRAINING_COLOUR,
        label=t("chart.train_accuracy"),
        markers=False,
    )
    _draw(
        accuracy,
        curves.get(Metric.EVAL_ACCURACY),
        metric=Metric.EVAL_ACCURACY,
        colour=VALIDATION_COLOUR,
        label=t("chart.eval_accuracy"),
        markers=True,
    )

    # A running job's axis reaches its planned steps, so the empty stretch shows what is left.
    last = curves.last_step or 0
    right = max(last, curves.planned_steps or 0, *curves.checkpoint_steps, 1)
    loss.set_xlim(0, right)

    _mark_checkpoints(loss, accuracy, curves.checkpoint_steps, right, t("chart.checkpoint"))

    for axes in (loss, accuracy):
        axes.grid(True, color=GRID_COLOUR, linewidth=0.8)
        axes.set_axisbelow(True)
        axes.spines[["top", "right"]].set_visible(False)
        axes.tick_params(labelsize=BODY_PT, labelfontfamily=families)
        axes.ticklabel_format(axis="y", style="plain", useOffset=False)
    _legend(figure, loss, accuracy, t, top_inches=legend_top)
    step_label = _step_label(right)
    accuracy.xaxis.set_major_locator(
        MaxNLocator(nbins=STEP_TICKS, steps=STEP_NICE_STEPS, integer=True)
    )
    accuracy.xaxis.set_major_formatter(FuncFormatter(lambda value, _: step_label(value)))
    for axes in (loss, accuracy):
        axes.yaxis.set_major_locator(_value_locator())
    _least_span(loss, MIN_LOSS_SPAN, low=0, high=float("inf"))
    _least_span(accuracy, MIN_ACCURACY_SPAN, low=0, high=1)
    # At least 20 points wide, the axis ticks at whole percents: no "50.0%".
    accuracy.yaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    loss.set_ylabel(t("chart.loss"), fontproperties=body)
    accuracy.set_ylabel(t("chart.accuracy"), fontproperties=body)
    accuracy.set_xlabel(t("chart.step"), fontproperties=body)

    # The header is left-aligned at the figure's edge, where it has the whole width.
    # A display name is the user's text: `$…$` in it is not mathtext.
    edge = HEADER_INCHES / FIGURE_INCHES[0]
    figure.suptitle(
        shown_title,
        x=edge,
        y=1 - HEADER_INCHES / FIGURE_INCHES[1],
        ha="left",
        va="top",
        fontproperties=title_font,
        linespacing=1.2,
        parse_math=False,
    )
    if subtitle:
        figure.text(
            edge,
            1 - (HEADER_INCHES + title_inches) / FIGURE_INCHES[1],
            subtitle,
            ha="left",
            va="top",
            fontproperties=body,
            linespacing=1.25,
            color="#333333",
            gid="subtitle",
            parse_math=False,
        )
    figure.align_ylabels((loss, accuracy))
    return figure


def _legend(
    figure: Figure, loss: Axes, accuracy: Axes, t: Callable[..., str], *, top_inches: float
) -> None:
    """One legend for both panels, in a row of its own above the top one, left-aligned with
    the header: a colour means the same on both panels (blue training, vermillion
    validation), and the panels' axis labels say which is loss and which accuracy."""
    lines = {line.get_gid(): line for axes in (loss, accuracy) for line in axes.get_lines()}
    entries = [
        (lines.get(Metric.TRAIN_LOSS) or lines.get(Metric.TRAIN_ACCURACY), "chart.training"),
        (lines.get(Metric.EVAL_LOSS) or lines.get(Metric.EVAL_ACCURACY), "chart.validation"),
        (lines.get("checkpoint"), "chart.checkpoint"),
    ]
    shown = [(line, t(key)) for line, key in entries if line is not None]
    if not shown:
        return
    header = HEADER_INCHES / FIGURE_INCHES[0]
    # Attached to the top panel (so it is that Axes' legend) but placed in figure coordinates,
    # just under the header, outside every panel.
    loss.legend(
        [line for line, _ in shown],
        [label for _, label in shown],
        loc="upper left",
        bbox_to_anchor=(header, 1 - (top_inches + 0.05) / FIGURE_INCHES[1]),
        bbox_transform=figure.transFigure,
        ncols=len(shown),
        prop=FontProperties(family=list(font_families()), size=LEGEND_PT),
        frameon=False,
        borderaxespad=0,
        borderpad=0,
        handlelength=1.8,
        columnspacing=1.2,
    )


def _lay_out(figure: Figure, *, title_inches: float, subtitle_lines: int, marks: bool) -> float:
    """Fixed margins, in inches, for what is drawn around the panels; returns where the
    header ends and the legend row starts, in inches below the figure's top edge.

    Measured once by hand rather than by constrained layout, which measured every text twice
    per render and took about half of it; the size and fonts never change, only how many lines
    the title and subtitle have and whether checkpoint steps sit along the top.
    """
    width, height = FIGURE_INCHES
    header = HEADER_INCHES + title_inches + SUBTITLE_LINE_INCHES * subtitle_lines
    top = header + LEGEND_ROW_INCHES + (0.3 if marks else 0.1)
    figure.subplots_adjust(
        left=1.05 / width,
        right=1 - 0.45 / width,
        bottom=0.8 / height,
        top=1 - top / height,
        hspace=0.12,
    )
    return header


def _mark_checkpoints(
    loss: Axes, accuracy: Axes, steps: tuple[int, ...], right: int, label: str
) -> None:
    """A dashed line at each checkpoint on both panels, its step along the top edge."""
    if not steps:
        return
    for axes in (loss, accuracy):
        for index, step in enumerate(steps):
            axes.axvline(
                step,
                color=CHECKPOINT_COLOUR,
                linestyle=(0, (4, 3)),
                linewidth=1.5,
                zorder=1,
                gid="checkpoint",
                label=label if axes is loss and index == 0 else "_nolegend_",
            )
    labelled: list[int] = []
    for step in steps:
        if not labelled or step - labelled[-1] >= MARK_SPACING * right:
            labelled.append(step)
    # Plain texts along the top edge rather than a secondary axis, which would bring a third
    # Axes with its own ticks, spines and transforms into every render.
    mark_font = FontProperties(family=list(font_families()), size=MARK_PT)
    for step in labelled:
        loss.text(
            step,
            1.02,
            f"{step:,}",  # exact, unlike the axis: it names the checkpoint
            transform=loss.get_xaxis_transform(),
            ha="center",
            va="bottom",
            color=CHECKPOINT_COLOUR,
            fontproperties=mark_font,
            gid="checkpoint",
        )


def render_chart(
    curves: TrainingCurves, *, title: str, language: str, running: bool | None = None
) -> bytes:
    """The chart as PNG bytes, 1200 × 1000 px; ValueError when nothing is recorded yet.
    `running` as for `build_figure`."""
    figure = build_figure(curves, title=title, language=language, running=running)
    buffer = io.BytesIO()
    # No "Software" entry: the bytes depend on the curves, not on the matplotlib version.
    FigureCanvasAgg(figure)  # the figure draws with this canvas from now on
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


async def render_chart_async(
    curves: TrainingCurves, *, title: str, language: str, running: bool | None = None
) -> bytes:
    """`render_chart` in the chart thread, one render at a time, off the event loop.

    A thread, not a process: no second interpreter holding matplotlib and the font, no
    pickling. Agg does not release the GIL while drawing, but a render is mostly short calls,
    so the loop gets the GIL back within the switch interval (5 ms): in the benchmark a 10 ms
    ticker's p99 lag is 15 to 40 ms, and its worst, 45 to 80 ms, is a full garbage
    collection (which holds the GIL whichever thread set it off), against 350 ms and more when
    the loop renders itself.
    """
    loop = asyncio.get_running_loop()
    render = functools.partial(
        render_chart, curves, title=title, language=language, running=running
    )
    return await loop.run_in_executor(_RENDERER, render)
