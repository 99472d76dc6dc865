"""Training curves of a tuning job and the progress they show, in domain terms.

Google keeps a supervised tuning job's per-step figures in the TensorBoard behind its experiment,
as scalar time series named `/train_total_loss`, `/eval_total_loss` and so on. This module knows
those names, what "progress" means for a card and how to thin a long series honestly; reading
them is the Vertex client's business and drawing them the chart's.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

# batchRead answers with a random sample once a series holds more than this many points.
GOOGLE_SAMPLE_LIMIT = 1000


class Metric(enum.StrEnum):
    """The scalar series of a supervised tuning run, by their TensorBoard display names."""

    TRAIN_LOSS = "/train_total_loss"
    TRAIN_ACCURACY = "/train_fraction_of_correct_next_step_preds"
    EVAL_LOSS = "/eval_total_loss"
    EVAL_ACCURACY = "/eval_fraction_of_correct_next_step_preds"

    @classmethod
    def from_display_name(cls, name: str) -> Metric | None:
        """The metric a time series' display name stands for; None for the others
        (`/train_num_predictions`, anything Google adds later)."""
        key = name if name.startswith("/") else f"/{name}"
        try:
            return cls(key)
        except ValueError:
            return None


@dataclass(frozen=True)
class Point:
    """One recorded value at one training step."""

    step: int
    value: float


@dataclass(frozen=True)
class Series:
    """One metric's points, sorted by step, one per step.

    `sampled` is True when the points are a subset of what was recorded (Google's own sampling
    or ours), so a chart can say so instead of passing a sample off as the whole curve.
    """

    points: tuple[Point, ...] = ()
    sampled: bool = False

    @classmethod
    def of(cls, points: Iterable[Point], *, sampled: bool = False) -> Series:
        """A series from points in any order; non-finite values are dropped and a step
        recorded twice keeps its last value."""
        by_step: dict[int, float] = {}
        for point in points:
            if math.isfinite(point.value):
                by_step[point.step] = point.value
        return cls(tuple(Point(s, by_step[s]) for s in sorted(by_step)), sampled)

    @property
    def latest(self) -> Point | None:
        """The point of the highest step, or None for an empty series."""
        return self.points[-1] if self.points else None

    def __len__(self) -> int:
        return len(self.points)


@dataclass(frozen=True)
class TrainingCurves:
    """What a job's TensorBoard run holds: its series and the steps they are measured against."""

    series: Mapping[Metric, Series] = field(default_factory=lambda: MappingProxyType({}))
    planned_steps: int | None = None  # `tuningStepCount`, when Google gives it
    checkpoint_steps: tuple[int, ...] = ()

    def get(self, metric: Metric) -> Series:
        """The metric's series; empty when the run has none."""
        return self.series.get(metric) or Series()

    @property
    def has_validation(self) -> bool:
        """The run recorded validation figures (a job without validation data has none)."""
        return bool(self.get(Metric.EVAL_LOSS).points or self.get(Metric.EVAL_ACCURACY).points)

    @property
    def last_step(self) -> int | None:
        """The highest step any series has reached."""
        steps = [s.latest.step for s in self.series.values() if s.latest is not None]
        return max(steps) if steps else None

    @property
    def is_empty(self) -> bool:
        """Nothing recorded yet (the first steps have not been written)."""
        return self.last_step is None

    @property
    def sampled(self) -> bool:
        """Some series is a sample of what was recorded."""
        return any(s.sampled for s in self.series.values())

    def progress(self) -> Progress:
        """The figures a running job's card shows."""
        train = self.get(Metric.TRAIN_LOSS).latest
        evaluation = self.get(Metric.EVAL_LOSS).latest
        return Progress(
            step=self.last_step,
            planned_steps=self.planned_steps,
            train_loss=train.value if train else None,
            eval_loss=evaluation.value if evaluation else None,
            eval_step=evaluation.step if evaluation else None,
        )


# Losses on a card are shown to four significant figures; a change below that is no change.
_SIGNIFICANT = 4


def _rounded(value: float | None) -> float | None:
    if value is None:
        return None
    return float(f"{value:.{_SIGNIFICANT}g}")


@dataclass(frozen=True)
class Progress:
    """A running job's latest figures: steps done of those planned, and the latest losses."""

    step: int | None = None
    planned_steps: int | None = None
    train_loss: float | None = None
    eval_loss: float | None = None
    # Validation runs less often than training steps: the step its latest figure is from.
    eval_step: int | None = None

    @property
    def fraction(self) -> float | None:
        """Steps done over steps planned, within 0…1; None without both."""
        if self.step is None or not self.planned_steps:
            return None
        return min(1.0, max(0.0, self.step / self.planned_steps))

    @property
    def percent(self) -> int | None:
        """Whole percent done, rounded down so that 100 means done."""
        fraction = self.fraction
        return None if fraction is None else math.floor(fraction * 100)

    @property
    def is_empty(self) -> bool:
        """No figure to show."""
        return self.step is None and self.train_loss is None and self.eval_loss is None

    def shown(self) -> Progress:
        """The progress as a card shows it (losses to four figures): two progresses whose
        `shown()` are equal draw the same card, so the card is not edited."""
        return Progress(
            self.step,
            self.planned_steps,
            _rounded(self.train_loss),
            _rounded(self.eval_loss),
            self.eval_step,
        )

    def encode(self) -> str:
        """A compact text form for the store; `decode` reads it back."""
        return "|".join(
            "" if v is None else repr(v)
            for v in (
                self.step,
                self.planned_steps,
                self.train_loss,
                self.eval_loss,
                self.eval_step,
            )
        )

    @classmethod
    def decode(cls, text: str | None) -> Progress | None:
        """The progress `encode` wrote; None for nothing or anything unreadable."""
        if not text:
            return None
        parts = text.split("|")
        if len(parts) != 5:
            return None
        try:
            step, planned, eval_step = (int(p) if p else None for p in (*parts[:2], parts[4]))
            train, evaluation = (float(p) if p else None for p in parts[2:4])
        except ValueError:
            return None
        return cls(step, planned, train, evaluation, eval_step)


def progress_bar(fraction: float, width: int = 10) -> str:
    """A bar of `width` cells, filled in proportion to `fraction` (0…1)."""
    # Rounded down, as the percentage beside it is: a bar is full only when the job is done.
    filled = math.floor(max(0.0, min(1.0, fraction)) * width)
    return "█" * filled + "░" * (width - filled)


def thin(series: Series, limit: int) -> Series:
    """At most `limit` points of `series`, keeping the first and last points and, in each of
    the buckets between, the lowest and highest value, so spikes survive; marked sampled when
    anything was left out."""
    points = series.points
    if limit < 4 or len(points) <= limit:
        return series
    inner = points[1:-1]
    buckets = (limit - 2) // 2
    kept: list[Point] = [points[0]]
    for i in range(buckets):
        bucket = inner[i * len(inner) // buckets : (i + 1) * len(inner) // buckets]
        if not bucket:
            continue
        low = min(bucket, key=lambda p: p.value)
        high = max(bucket, key=lambda p: p.value)
        kept.extend(sorted({low, high}, key=lambda p: p.step))
    kept.append(points[-1])
    return Series(tuple(kept), sampled=True)


def curves_of(
    series: Mapping[Metric, Series],
    *,
    planned_steps: int | None = None,
    checkpoint_steps: Iterable[int | None] = (),
) -> TrainingCurves:
    """Curves from series read off a run, dropping empty ones."""
    kept = {metric: s for metric, s in series.items() if s.points}
    steps = sorted({s for s in checkpoint_steps if s is not None})
    return TrainingCurves(MappingProxyType(kept), planned_steps, tuple(steps))


class Gap(enum.StrEnum):
    """Why a job has no curves to read (yet): each link of Google's chain may be missing."""

    NO_EXPERIMENT = "no_experiment"  # the job names no experiment (not started, or an old job)
    NO_TENSORBOARD = "no_tensorboard"  # the experiment has no backing TensorBoard yet
    NO_RUN = "no_run"  # the TensorBoard experiment holds no run yet
    NO_SERIES = "no_series"  # the run holds none of the metrics a chart shows


class CurvesMissing(Exception):
    """The job's curves cannot be read because a link of the chain is not there (yet)."""

    def __init__(self, gap: Gap, detail: str = "") -> None:
        super().__init__(f"{gap.value}: {detail}" if detail else gap.value)
        self.gap = gap
        self.detail = detail
