"""The model catalogue: the reference table's models, their limits, their order in the picker."""

from __future__ import annotations

import datetime as dt
from importlib import resources
from typing import Any

import pytest
import yaml

from bot.tuning.catalogue import Catalogue, DatasetFormat, ModelStatus, default_catalogue
from bot.tuning.spec import validate_form

BEFORE = dt.date(2026, 9, 1)
AFTER = dt.date(2026, 10, 20)
THREE_X_REGIONS = ("us-central1", "europe-west4")

# model id: (adapter sizes, default adapter, tokens per example, max validation, min training,
#            tuning regions, status on 2026-09-01, dataset format)
ALL_SIZES = (1, 2, 4, 8, 16)
NEW = (ALL_SIZES, None, 131072, 5000, None, THREE_X_REGIONS, "current", "gemini")
REFERENCE: dict[str, tuple[Any, ...]] = {
    "gemini-3.5-flash": NEW,
    "gemini-3.1-flash-lite": NEW,
    "gemini-3.5-flash-lite": NEW,
    "gemini-2.5-pro": ((1, 2, 4, 8), None, 131072, 5000, None, None, "retiring", "gemini"),
    "gemini-2.5-flash": (ALL_SIZES, None, 131072, 5000, None, None, "retiring", "gemini"),
    "gemini-2.5-flash-lite": (ALL_SIZES, None, 131072, 5000, None, None, "retiring", "gemini"),
    "gemini-2.0-flash-001": ((1, 2, 4, 8), None, 131072, 5000, None, None, "retired", "gemini"),
    "gemini-2.0-flash-lite-001": (
        (1, 2, 4, 8),
        None,
        131072,
        5000,
        None,
        None,
        "retired",
        "gemini",
    ),
    "gemini-1.5-pro-002": ((1, 4), 4, 32000, 256, None, None, "retired", "gemini"),
    "gemini-1.5-flash-002": ((1, 4, 8, 16), 8, 32000, 256, None, None, "retired", "gemini"),
    "gemini-1.0-pro-002": ((), None, 32000, 256, 16, None, "retired", "legacy_messages"),
}


def test_the_catalogue_holds_exactly_the_reference_models() -> None:
    assert [m.model_id for m in default_catalogue()] == list(REFERENCE)
    assert len(default_catalogue()) == len(REFERENCE)


@pytest.mark.parametrize(("model_id", "row"), REFERENCE.items())
def test_each_model_has_the_reference_limits(model_id: str, row: tuple[Any, ...]) -> None:
    sizes, default_size, tokens, validation, minimum, regions, status, fmt = row
    model = default_catalogue().get(model_id)
    assert model is not None
    assert model.adapter_sizes == sizes
    assert model.default_adapter_size == default_size
    assert model.max_tokens_per_example == tokens
    assert model.max_validation_examples == validation
    assert model.min_training_examples == minimum
    assert model.tuning_regions == regions
    assert model.status_on(BEFORE) is ModelStatus(status)
    assert model.dataset_format is DatasetFormat(fmt)
    assert model.label


def test_3x_endpoints_are_served_from_multi_region_locations() -> None:
    for model in default_catalogue():
        expected = "multi-region" if model.model_id.startswith("gemini-3") else None
        assert model.serving_location == expected


def test_retiring_models_carry_their_date() -> None:
    for model_id in ("gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite"):
        model = default_catalogue().get(model_id)
        assert model is not None
        assert model.retires_on == dt.date(2026, 10, 20)
        assert model.status_on(dt.date(2026, 10, 19)) is ModelStatus.RETIRING
        assert model.status_on(AFTER) is ModelStatus.RETIRED


def test_unknown_model_is_none_and_not_contained() -> None:
    assert default_catalogue().get("gemini-9") is None
    assert "gemini-9" not in default_catalogue()
    assert "gemini-2.5-flash" in default_catalogue()


def test_ordered_puts_current_models_first_then_retiring_then_retired() -> None:
    before = [m.model_id for m in default_catalogue().ordered(BEFORE)]
    assert before == list(REFERENCE)  # the file is already in that order
    after = [m.model_id for m in default_catalogue().ordered(AFTER)]
    assert after[:3] == ["gemini-3.5-flash", "gemini-3.1-flash-lite", "gemini-3.5-flash-lite"]
    assert {m.status_on(AFTER) for m in default_catalogue().ordered(AFTER)[3:]} == {
        ModelStatus.RETIRED
    }
    assert default_catalogue().default_model(AFTER).model_id == "gemini-3.5-flash"


def test_ordered_moves_a_current_model_listed_last_to_the_front() -> None:
    catalogue = Catalogue.from_mapping(
        {
            "models": {
                "old-model": _fields(status="retired"),
                "mid-model": _fields(status="retiring", retires_on="2030-01-01"),
                "new-model": _fields(status="current"),
            }
        }
    )
    assert [m.model_id for m in catalogue.ordered(BEFORE)] == [
        "new-model",
        "mid-model",
        "old-model",
    ]
    assert catalogue.default_model(BEFORE).model_id == "new-model"


def test_tunes_in() -> None:
    flash3 = default_catalogue().get("gemini-3.5-flash")
    flash25 = default_catalogue().get("gemini-2.5-flash")
    assert flash3 is not None
    assert flash25 is not None
    assert flash3.tunes_in("europe-west4")
    assert not flash3.tunes_in("asia-northeast1")
    assert flash25.tunes_in("asia-northeast1")


def _fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "label": "Test model",
        "status": "current",
        "adapter_sizes": [2, 4],
        "default_adapter_size": None,
        "max_tokens_per_example": 1000,
        "max_validation_examples": 10,
        "min_training_examples": None,
        "tuning_regions": None,
        "dataset_format": "gemini",
    }
    fields.update(overrides)
    return fields


def test_adding_a_model_is_a_yaml_only_change() -> None:
    text = resources.files("bot.tuning").joinpath("models.yaml").read_text("utf-8")
    text += """
  gemini-4.0-flash:
    label: Gemini 4.0 Flash
    status: current
    adapter_sizes: [4, 32]
    default_adapter_size: null
    max_tokens_per_example: 262144
    max_validation_examples: 5000
    min_training_examples: null
    tuning_regions: [asia-northeast1]
    dataset_format: gemini
"""
    catalogue = Catalogue.from_mapping(yaml.safe_load(text))
    assert len(catalogue) == len(REFERENCE) + 1

    def form(**fields: str) -> dict[str, str | None]:
        return {"base_model": "gemini-4.0-flash", "training_dataset": "gs://abc/x.jsonl", **fields}

    ok = validate_form(
        form(adapter_size="32"), catalogue=catalogue, region="asia-northeast1", today=BEFORE
    )
    assert ok.ok
    assert ok.spec is not None
    assert ok.spec.adapter_size == 32
    bad = validate_form(
        form(adapter_size="8"), catalogue=catalogue, region="us-central1", today=BEFORE
    )
    assert set(bad.errors) == {"base_model", "adapter_size"}
    assert bad.errors["adapter_size"].params["allowed"] == "4, 32"
    # The shipped catalogue does not know it.
    shipped = validate_form(
        form(), catalogue=default_catalogue(), region="us-central1", today=BEFORE
    )
    assert shipped.errors["base_model"].key == "spec.model_unknown"
