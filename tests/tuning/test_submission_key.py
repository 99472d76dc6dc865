"""Submission keys: one key per (modal, spec), usable as a Google label, naming nobody."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from bot.tuning.spec import TuningJobSpec, label_problem
from bot.tuning.submission_key import (
    CREATED_BY_LABEL,
    SUBMISSION_LABEL,
    labels_for_submission,
    submission_key,
)

SPEC = TuningJobSpec(
    base_model="gemini-3.5-flash",
    training_dataset_uri="gs://team-data/train.jsonl",
    validation_dataset_uri="gs://team-data/valid.jsonl",
    epochs=3,
    adapter_size=4,
    learning_rate_multiplier=1.0,
    display_name="support bot",
    description="first try",
    labels={"team": "ml"},
)
CHANGED: dict[str, Any] = {
    "base_model": "gemini-2.5-flash",
    "training_dataset_uri": "gs://team-data/train2.jsonl",
    "validation_dataset_uri": None,
    "epochs": 4,
    "adapter_size": 8,
    "learning_rate_multiplier": 0.5,
    "display_name": "support bot 2",
    "description": None,
    "labels": {"team": "nlp"},
    "export_last_checkpoint_only": True,
    "service_account": "tuner@my-project.iam.gserviceaccount.com",
    "kms_key_name": "projects/p/locations/us-central1/keyRings/r/cryptoKeys/k",
    "pre_tuned_model": "projects/p/locations/us-central1/models/123@1",
}


def test_every_spec_field_is_covered_by_the_change_table() -> None:
    assert set(CHANGED) == {f.name for f in dataclasses.fields(TuningJobSpec)}


def test_same_inputs_give_the_same_key() -> None:
    again = dataclasses.replace(SPEC, labels={"team": "ml"})
    assert submission_key("V0123", SPEC) == submission_key("V0123", again)


def test_label_order_does_not_matter() -> None:
    one = dataclasses.replace(SPEC, labels={"a": "1", "b": "2"})
    two = dataclasses.replace(SPEC, labels={"b": "2", "a": "1"})
    assert submission_key("V1", one) == submission_key("V1", two)


def test_another_modal_gives_another_key() -> None:
    assert submission_key("V0123", SPEC) != submission_key("V0124", SPEC)


@pytest.mark.parametrize(("field", "value"), CHANGED.items())
def test_any_field_change_gives_another_key(field: str, value: Any) -> None:
    changed = dataclasses.replace(SPEC, **{field: value})
    assert submission_key("V0123", changed) != submission_key("V0123", SPEC)


def test_the_key_is_a_valid_google_label_value() -> None:
    key = submission_key("V0123", SPEC)
    assert re.fullmatch(r"[0-9a-f]{40}", key)
    assert len(key) <= 63
    assert label_problem({SUBMISSION_LABEL: key}) is None


def test_keys_for_a_spec_with_labels_added_by_with_labels() -> None:
    key = submission_key("V9", SPEC)
    labelled = SPEC.with_labels(labels_for_submission(key))
    assert labelled.labels[SUBMISSION_LABEL] == key
    assert label_problem(labelled.labels) is None


def test_submission_labels_never_name_a_slack_user() -> None:
    # Labels are visible to everyone in the project: only the hash and the bot's name go there.
    key = submission_key("V0123", SPEC)
    assert labels_for_submission(key) == {SUBMISSION_LABEL: key, CREATED_BY_LABEL: "tuning-bot"}
