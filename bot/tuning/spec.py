"""What a user asks for when starting a tuning job, and its validation field by field."""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TypeVar

from bot.tuning.catalogue import Catalogue, HyperparameterLimits, ModelInfo, ModelStatus
from bot.tuning.dataset_uris import uri_allowed, validate_dataset_uri
from bot.tuning.problems import DomainError, Problem

# Field names double as the create modal's block ids (DESIGN.md).
BASE_MODEL = "base_model"
TRAINING_DATASET = "training_dataset"
VALIDATION_DATASET = "validation_dataset"
EPOCHS = "epochs"
ADAPTER_SIZE = "adapter_size"
LEARNING_RATE_MULTIPLIER = "learning_rate_multiplier"
DISPLAY_NAME = "display_name"
FIELDS = (
    BASE_MODEL,
    TRAINING_DATASET,
    VALIDATION_DATASET,
    EPOCHS,
    ADAPTER_SIZE,
    LEARNING_RATE_MULTIPLIER,
    DISPLAY_NAME,
)

MAX_DISPLAY_NAME = 128
MAX_LABELS = 64
_LABEL_KEY = re.compile(r"[\w-]{1,63}", re.UNICODE)
_MAX_RAW_FIELD = 4000
_ZERO_WIDTH_JOINER = "\u200d"
_BLACK_FLAG = "\U0001f3f4"
_EMOJI_TAGS = ("\U000e0020", "\U000e007f")
T = TypeVar("T")
# A tuned model's resource name, optionally with its version (Google's `tunedModelName`).
TUNED_MODEL = re.compile(r"projects/[^/\s]+/locations/[^/\s]+/models/[^/@\s]+(@[^/@\s]+)?")


@dataclass(frozen=True)
class TuningJobSpec:
    """A validated request for one supervised tuning job."""

    base_model: str
    training_dataset_uri: str
    validation_dataset_uri: str | None = None
    epochs: int | None = None
    adapter_size: int | None = None
    learning_rate_multiplier: float | None = None
    display_name: str | None = None
    description: str | None = None
    labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    export_last_checkpoint_only: bool = False
    service_account: str | None = None
    kms_key_name: str | None = None
    # Continuous tuning: the tuned model to start from (Google takes its default checkpoint)
    # instead of `base_model`, which stays as the model the limits come from.
    pre_tuned_model: str | None = None

    def with_labels(self, extra: Mapping[str, str]) -> TuningJobSpec:
        """A copy with more labels (e.g. the submission key), validated like the others."""
        merged = {**self.labels, **extra}
        problem = label_problem(merged)
        if problem is not None:
            raise DomainError(problem)
        return replace(self, labels=MappingProxyType(merged))


@dataclass(frozen=True)
class SpecCheck:
    """The outcome of validating a form: a spec, or errors per field; warnings either way."""

    spec: TuningJobSpec | None
    errors: Mapping[str, Problem]
    warnings: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the spec can be sent to Google."""
        return self.spec is not None and not self.errors


def _clean(raw: str | None) -> str:
    return (raw or "").strip()


def _ascii_digits(text: str) -> str:
    # Japanese input methods often type full-width digits (１０, ０．５); NFKC makes them ASCII.
    return unicodedata.normalize("NFKC", text)


def _parse_epochs(text: str, limits: HyperparameterLimits) -> int:
    low, high = limits.min_epochs, limits.max_epochs
    text = _ascii_digits(text)
    if not re.fullmatch(r"[0-9]{1,6}", text):
        raise DomainError(Problem.of("spec.epochs_not_integer", low=low, high=high))
    value = int(text)
    if not low <= value <= high:
        raise DomainError(Problem.of("spec.epochs_range", low=low, high=high))
    return value


def _parse_lr(text: str, limits: HyperparameterLimits) -> float:
    maximum = limits.max_learning_rate_multiplier
    high = f"{maximum:g}"
    if len(text) > 32:
        raise DomainError(Problem.of("spec.lr_not_number", high=high))
    try:
        value = float(_ascii_digits(text))
    except ValueError:
        raise DomainError(Problem.of("spec.lr_not_number", high=high)) from None
    if not math.isfinite(value) or not 0 < value <= maximum:
        raise DomainError(Problem.of("spec.lr_range", high=high))
    return value


def _parse_adapter_size(text: str, model: ModelInfo | None) -> int:
    text = _ascii_digits(text)
    if not re.fullmatch(r"[0-9]{1,3}", text):
        raise DomainError(Problem.of("spec.adapter_not_integer"))
    value = int(text)
    if model is not None:
        if not model.adapter_sizes:
            raise DomainError(Problem.of("spec.adapter_not_supported", model=model.model_id))
        if value not in model.adapter_sizes:
            allowed = ", ".join(str(s) for s in model.adapter_sizes)
            raise DomainError(
                Problem.of("spec.adapter_not_allowed", model=model.model_id, allowed=allowed)
            )
    return value


def _parse_display_name(text: str) -> str:
    if len(text) > MAX_DISPLAY_NAME:
        raise DomainError(
            Problem.of("spec.display_name_too_long", limit=MAX_DISPLAY_NAME, length=len(text))
        )
    if any(_unprintable(text, i) for i in range(len(text))):
        raise DomainError(Problem.of("spec.display_name_control"))
    return text


def _unprintable(text: str, index: int) -> bool:
    """Control, invisible-format, line-separator and surrogate characters; emoji joiners pass."""
    category = unicodedata.category(text[index])
    if category in ("Cc", "Cs", "Zl", "Zp"):
        return True
    if category != "Cf":
        return False
    char, before = text[index], text[index - 1] if index else ""
    after = text[index + 1] if index + 1 < len(text) else ""
    if char == _ZERO_WIDTH_JOINER:
        # Joins emoji such as 👩‍💻; elsewhere it only hides differences between names.
        return not (
            before
            and after
            and unicodedata.category(before) in ("So", "Sk", "Mn")
            and unicodedata.category(after) == "So"
        )
    if _EMOJI_TAGS[0] <= char <= _EMOJI_TAGS[1]:
        # Tag characters spell subdivision flags after a black flag (🏴 + tags).
        return not (before == _BLACK_FLAG or _EMOJI_TAGS[0] <= before <= _EMOJI_TAGS[1])
    return True


def label_problem(labels: Mapping[str, str]) -> Problem | None:
    """Google's label rules: ≤ 64 labels; lower-case keys and values of ≤ 63 word characters."""
    if len(labels) > MAX_LABELS:
        return Problem.of("spec.labels_too_many", limit=MAX_LABELS)
    for key, value in labels.items():
        # Google requires keys to start with a lower-case or international letter.
        key_ok = bool(_LABEL_KEY.fullmatch(key)) and key == key.lower() and key[0].isalpha()
        value_ok = value == "" or (bool(_LABEL_KEY.fullmatch(value)) and value == value.lower())
        if not key_ok or not value_ok:
            return Problem.of("spec.label_invalid", label=f"{key[:64]}={value[:64]}")
    return None


def continue_problem(
    tuned_model: str, model: ModelInfo | None, catalogue: Catalogue
) -> Problem | None:
    """Why `tuned_model` (tuned from `model`) cannot be tuned further, or None."""
    if not TUNED_MODEL.fullmatch(tuned_model):
        return Problem.of("spec.tuned_model_invalid", name=tuned_model[:200])
    if model is None or not model.continuous_tuning:
        supported = ", ".join(m.model_id for m in catalogue.continuable())
        model_id = model.model_id if model else "—"
        return Problem.of("spec.continue_not_supported", model=model_id, supported=supported)
    return None


def _model_problems(
    model_id: str, catalogue: Catalogue, region: str, today: dt.date
) -> tuple[ModelInfo | None, Problem | None, list[Problem]]:
    if not model_id:
        return None, Problem.of("spec.model_missing"), []
    model = catalogue.get(model_id)
    if model is None:
        known = ", ".join(m.model_id for m in catalogue.ordered(today)[:6])
        return None, Problem.of("spec.model_unknown", model=model_id[:80], known=known), []
    if not model.tunes_in(region):
        regions = ", ".join(model.tuning_regions or ())
        return (
            model,
            Problem.of("spec.model_region", model=model_id, region=region, regions=regions),
            [],
        )
    warnings: list[Problem] = []
    status = model.status_on(today)
    if status is ModelStatus.RETIRED:
        warnings.append(Problem.of("spec.model_retired", model=model_id))
    elif status is ModelStatus.RETIRING and model.retires_on is not None:
        warnings.append(
            Problem.of("spec.model_retiring", model=model_id, date=model.retires_on.isoformat())
        )
    return model, None, warnings


def validate_form(
    form: Mapping[str, str | None],
    *,
    catalogue: Catalogue,
    region: str,
    today: dt.date,
    allowed_buckets: tuple[str, ...] = (),
    pre_tuned_model: str | None = None,
) -> SpecCheck:
    """Validate raw form values keyed by field name; every bad field gets its own Problem.

    `pre_tuned_model`: continue tuning that tuned model, whose base model the form names.
    """
    # The display name stays whole so that a too-long one is refused with its real length.
    raw = {
        name: _clean(form.get(name))[: None if name == DISPLAY_NAME else _MAX_RAW_FIELD]
        for name in FIELDS
    }
    errors: dict[str, Problem] = {}
    model, model_error, warnings = _model_problems(raw[BASE_MODEL], catalogue, region, today)
    if model_error is not None:
        errors[BASE_MODEL] = model_error
    elif pre_tuned_model is not None:
        continuing = continue_problem(pre_tuned_model, model, catalogue)
        if continuing is not None:
            errors[BASE_MODEL] = continuing

    def parse(name: str, parser: Callable[[str], T]) -> T | None:
        if not raw[name]:
            return None
        try:
            return parser(raw[name])
        except DomainError as exc:
            errors[name] = exc.problem
            return None

    training = _dataset(raw[TRAINING_DATASET], TRAINING_DATASET, errors, allowed_buckets, True)
    validation = _dataset(
        raw[VALIDATION_DATASET], VALIDATION_DATASET, errors, allowed_buckets, False
    )
    if training and validation and training == validation:
        warnings.append(Problem.of("spec.same_datasets"))
    epochs = parse(EPOCHS, lambda t: _parse_epochs(t, catalogue.limits))
    adapter = parse(ADAPTER_SIZE, lambda t: _parse_adapter_size(t, model))
    lr = parse(LEARNING_RATE_MULTIPLIER, lambda t: _parse_lr(t, catalogue.limits))
    name = parse(DISPLAY_NAME, _parse_display_name)
    if errors or training is None:
        return SpecCheck(None, MappingProxyType(errors), tuple(warnings))
    spec = TuningJobSpec(
        base_model=raw[BASE_MODEL],
        training_dataset_uri=training,
        validation_dataset_uri=validation,
        epochs=epochs,
        adapter_size=adapter,
        learning_rate_multiplier=lr,
        display_name=name,
        pre_tuned_model=pre_tuned_model,
    )
    return SpecCheck(spec, MappingProxyType({}), tuple(warnings))


def _dataset(
    text: str,
    name: str,
    errors: dict[str, Problem],
    allowed_buckets: tuple[str, ...],
    required: bool,
) -> str | None:
    if not text:
        if required:
            errors[name] = Problem.of("dataset.missing")
        return None
    try:
        uri = validate_dataset_uri(text)
    except DomainError as exc:
        errors[name] = exc.problem
        return None
    if not uri_allowed(uri, allowed_buckets):
        errors[name] = Problem.of("dataset.not_allowed", allowed=", ".join(allowed_buckets))
        return None
    return uri
