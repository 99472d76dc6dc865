"""The model catalogue: which Gemini models can be tuned, with which limits, until when."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from importlib import resources
from types import MappingProxyType
from typing import Any

import yaml

DEFAULT_NOTE_LANGUAGE = "en"


@dataclass(frozen=True)
class HyperparameterLimits:
    """What the form lets a user enter, for every model alike."""

    min_epochs: int = 1
    max_epochs: int = 100
    max_learning_rate_multiplier: float = 100.0


class ModelStatus(Enum):
    """Where a base model is in its life."""

    CURRENT = "current"
    RETIRING = "retiring"
    RETIRED = "retired"


class DatasetFormat(Enum):
    """The JSONL example shape a model's tuning expects."""

    GEMINI = "gemini"
    LEGACY_MESSAGES = "legacy_messages"


@dataclass(frozen=True)
class ModelInfo:
    """One base model and its tuning limits."""

    model_id: str
    label: str
    status: ModelStatus
    retires_on: dt.date | None
    adapter_sizes: tuple[int, ...]
    default_adapter_size: int | None
    max_tokens_per_example: int
    max_validation_examples: int
    min_training_examples: int | None
    tuning_regions: tuple[str, ...] | None
    dataset_format: DatasetFormat
    serving_location: str | None = None
    # Guidance for users picking the model, per language code; English is the fallback.
    notes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # Whether a model tuned from this one can be tuned further (`preTunedModel`).
    continuous_tuning: bool = False

    def status_on(self, today: dt.date) -> ModelStatus:
        """The status on a given day: a retiring model whose date has come is retired."""
        if self.status is ModelStatus.RETIRING and self.retires_on and today >= self.retires_on:
            return ModelStatus.RETIRED
        return self.status

    def note(self, language: str) -> str | None:
        """The note in `language`, else in English, else None."""
        return self.notes.get(language) or self.notes.get(DEFAULT_NOTE_LANGUAGE)

    def tunes_in(self, region: str) -> bool:
        """Whether jobs of this model may run in `region` (unknown restrictions allow it)."""
        return self.tuning_regions is None or region in self.tuning_regions


class Catalogue:
    """All known models, current ones first."""

    def __init__(
        self, models: Mapping[str, ModelInfo], limits: HyperparameterLimits | None = None
    ) -> None:
        self._models = dict(models)
        self.limits = limits or HyperparameterLimits()

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Catalogue:
        """Build from the parsed YAML document (`{"models": {id: fields}, "limits": {…}}`)."""
        models = {}
        for model_id, fields in data["models"].items():
            models[model_id] = _model_from_fields(str(model_id), fields)
        return cls(models, _limits_from_fields(data.get("limits") or {}))

    def __contains__(self, model_id: object) -> bool:
        return model_id in self._models

    def __iter__(self) -> Iterator[ModelInfo]:
        return iter(self._models.values())

    def __len__(self) -> int:
        return len(self._models)

    def get(self, model_id: str) -> ModelInfo | None:
        """The model, or None when the id is not in the catalogue."""
        return self._models.get(model_id)

    def ordered(self, today: dt.date) -> list[ModelInfo]:
        """Models for a picker: current, then retiring, then retired; file order within each."""
        rank = {ModelStatus.CURRENT: 0, ModelStatus.RETIRING: 1, ModelStatus.RETIRED: 2}
        return sorted(self._models.values(), key=lambda m: rank[m.status_on(today)])

    def continuable(self) -> list[ModelInfo]:
        """Models whose tuned models can be tuned further, in file order."""
        return [m for m in self._models.values() if m.continuous_tuning]

    def default_model(self, today: dt.date) -> ModelInfo:
        """The first current model: the modal's preselected choice."""
        return self.ordered(today)[0]


def _model_from_fields(model_id: str, fields: Mapping[str, Any]) -> ModelInfo:
    retires_on = fields.get("retires_on")
    if isinstance(retires_on, str):
        retires_on = dt.date.fromisoformat(retires_on)
    regions = fields.get("tuning_regions")
    return ModelInfo(
        model_id=model_id,
        label=str(fields.get("label", model_id)),
        status=ModelStatus(fields["status"]),
        retires_on=retires_on,
        adapter_sizes=tuple(int(s) for s in fields.get("adapter_sizes") or ()),
        default_adapter_size=fields.get("default_adapter_size"),
        max_tokens_per_example=int(fields["max_tokens_per_example"]),
        max_validation_examples=int(fields["max_validation_examples"]),
        min_training_examples=fields.get("min_training_examples"),
        tuning_regions=tuple(regions) if regions is not None else None,
        dataset_format=DatasetFormat(fields["dataset_format"]),
        serving_location=fields.get("serving_location"),
        notes=_notes(model_id, fields.get("note")),
        continuous_tuning=bool(fields.get("continuous_tuning", False)),
    )


def _notes(model_id: str, value: Any) -> Mapping[str, str]:
    # A note is shown to users, so it is written per language; a bare string would be shown
    # untranslated, and is refused so that the file cannot drift back to it.
    if value is None:
        return MappingProxyType({})
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ValueError(f"{model_id}: note must map language codes to text")
    if DEFAULT_NOTE_LANGUAGE not in value:
        raise ValueError(f"{model_id}: note needs an {DEFAULT_NOTE_LANGUAGE!r} text")
    return MappingProxyType({k: v.strip() for k, v in value.items()})


def _limits_from_fields(fields: Mapping[str, Any]) -> HyperparameterLimits:
    default = HyperparameterLimits()
    epochs = fields.get("epochs") or {}
    multiplier = fields.get("learning_rate_multiplier") or {}
    limits = HyperparameterLimits(
        min_epochs=int(epochs.get("min", default.min_epochs)),
        max_epochs=int(epochs.get("max", default.max_epochs)),
        max_learning_rate_multiplier=float(
            multiplier.get("max", default.max_learning_rate_multiplier)
        ),
    )
    if not 1 <= limits.min_epochs <= limits.max_epochs or limits.max_learning_rate_multiplier <= 0:
        raise ValueError(f"hyperparameter limits out of order: {limits}")
    return limits


_DEFAULT: Catalogue | None = None


def default_catalogue() -> Catalogue:
    """The catalogue shipped in `models.yaml`, parsed once."""
    global _DEFAULT
    if _DEFAULT is None:
        text = resources.files("bot.tuning").joinpath("models.yaml").read_text("utf-8")
        _DEFAULT = Catalogue.from_mapping(yaml.safe_load(text))
    return _DEFAULT
