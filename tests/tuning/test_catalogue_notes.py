"""Model notes are user guidance in each language; the form's limits come from the catalogue."""

from __future__ import annotations

import datetime as dt
from importlib import resources
from typing import Any

import pytest
import yaml

from bot.tuning.catalogue import Catalogue, default_catalogue
from bot.tuning.spec import validate_form

TODAY = dt.date(2026, 12, 4)


def _model(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "status": "current",
        "adapter_sizes": [4],
        "max_tokens_per_example": 1000,
        "max_validation_examples": 10,
        "dataset_format": "gemini",
    }
    fields.update(overrides)
    return fields


def test_a_note_is_read_in_the_users_language_with_english_as_fallback() -> None:
    catalogue = Catalogue.from_mapping(
        {"models": {"m": _model(note={"en": "Text only.", "ja": "テキストのみです。"})}}
    )
    model = catalogue.get("m")
    assert model is not None
    assert model.note("ja") == "テキストのみです。"
    assert model.note("en") == "Text only."
    assert model.note("fr") == "Text only."


def test_a_model_without_a_note_has_none() -> None:
    model = Catalogue.from_mapping({"models": {"m": _model()}}).get("m")
    assert model is not None
    assert model.note("ja") is None


@pytest.mark.parametrize("note", ["shown to everyone in English", {"ja": "日本語だけ"}, {"en": 3}])
def test_a_note_must_be_text_per_language_with_english(note: Any) -> None:
    with pytest.raises(ValueError, match="note"):
        Catalogue.from_mapping({"models": {"m": _model(note=note)}})


def test_every_shipped_note_is_written_in_english_and_japanese() -> None:
    text = resources.files("bot.tuning").joinpath("models.yaml").read_text("utf-8")
    raw = yaml.safe_load(text)["models"]
    noted = [m for m in default_catalogue() if m.notes]
    assert noted
    for model in noted:
        assert set(raw[model.model_id]["note"]) == {"en", "ja"}
        japanese = model.note("ja") or ""
        assert japanese != model.note("en")
        assert " です" not in japanese
    # Remarks meant for maintainers are comments now, not text users see.
    assert "translated page" not in " ".join(n for m in noted for n in m.notes.values())


def test_the_form_limits_come_from_the_catalogue() -> None:
    catalogue = Catalogue.from_mapping(
        {
            "models": {"m": _model()},
            "limits": {"epochs": {"min": 2, "max": 10}, "learning_rate_multiplier": {"max": 5}},
        }
    )
    assert (catalogue.limits.min_epochs, catalogue.limits.max_epochs) == (2, 10)
    form = {
        "base_model": "m",
        "training_dataset": "gs://b/train.jsonl",
        "epochs": "11",
        "learning_rate_multiplier": "6",
    }
    check = validate_form(form, catalogue=catalogue, region="us-central1", today=TODAY)
    assert check.errors["epochs"].params == {"low": 2, "high": 10}
    assert check.errors["learning_rate_multiplier"].params == {"high": "5"}


def test_the_shipped_limits_are_googles_ranges() -> None:
    limits = default_catalogue().limits
    assert (limits.min_epochs, limits.max_epochs) == (1, 100)
    assert limits.max_learning_rate_multiplier == 100
