"""The advanced settings: label parsing by Google's rules, the account and key, metadata."""

from __future__ import annotations

import pytest

from bot.tuning.advanced import (
    DESCRIPTION,
    KMS_KEY_NAME,
    LABELS,
    MAX_DESCRIPTION,
    MAX_USER_LABELS,
    SERVICE_ACCOUNT,
    AdvancedSettings,
    labels_text,
    parse_labels,
    validate_advanced,
)
from bot.tuning.problems import DomainError
from bot.tuning.spec import TuningJobSpec
from bot.tuning.submission_key import SUBMISSION_LABEL, labels_for_submission

KEY = "projects/my-project/locations/us-central1/keyRings/ring/cryptoKeys/key"
ACCOUNT = "tuner@my-project.iam.gserviceaccount.com"


@pytest.mark.parametrize(
    ("text", "labels"),
    [
        ("team=ml", {"team": "ml"}),
        ("team=ml, cost-center=42", {"team": "ml", "cost-center": "42"}),
        ("team=ml\n\nenv=dev\n", {"team": "ml", "env": "dev"}),
        ("flag", {"flag": ""}),
        ("flag=", {"flag": ""}),
        (" team = ml ", {"team": "ml"}),
        ("チーム=機械学習", {"チーム": "機械学習"}),
        ("team＝ml、env=dev", {"team": "ml", "env": "dev"}),
        ("a" * 63 + "=" + "b" * 63, {"a" * 63: "b" * 63}),
        ("", {}),
    ],
)
def test_labels_parse(text: str, labels: dict[str, str]) -> None:
    assert parse_labels(text) == labels


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Team=ml", "spec.label_invalid"),
        ("team=ML", "spec.label_invalid"),
        ("1team=ml", "spec.label_invalid"),
        ("_team=ml", "spec.label_invalid"),
        ("team=m l", "spec.label_invalid"),
        ("team.x=ml", "spec.label_invalid"),
        ("a" * 64 + "=b", "spec.label_invalid"),
        ("a=" + "b" * 64, "spec.label_invalid"),
        ("=ml", "spec.label_invalid"),
        ("team=ml, team=nlp", "advanced.label_repeated"),
        (f"{SUBMISSION_LABEL}=x", "advanced.label_reserved"),
    ],
)
def test_bad_labels_are_refused(text: str, key: str) -> None:
    with pytest.raises(DomainError) as raised:
        parse_labels(text)
    assert raised.value.problem.key == key


def test_the_label_limit_leaves_room_for_the_bot_s_own() -> None:
    many = ",".join(f"k{i}=v" for i in range(MAX_USER_LABELS))
    labels = parse_labels(many)
    spec = AdvancedSettings(labels=labels).apply(TuningJobSpec("m", "gs://b/t.jsonl"))
    assert len(spec.with_labels(labels_for_submission("x")).labels) == 64
    with pytest.raises(DomainError) as raised:
        parse_labels(many + ",one=more")
    assert raised.value.problem.key == "spec.labels_too_many"


def test_valid_settings_come_back_whole() -> None:
    check = validate_advanced(
        {LABELS: "team=ml", DESCRIPTION: " notes ", SERVICE_ACCOUNT: ACCOUNT, KMS_KEY_NAME: KEY},
        export_last_checkpoint_only=True,
        region="us-central1",
    )
    assert check.errors == {}
    assert check.settings == AdvancedSettings(
        labels={"team": "ml"},
        description="notes",
        export_last_checkpoint_only=True,
        service_account=ACCOUNT,
        kms_key_name=KEY,
    )


def test_each_bad_field_gets_its_own_error() -> None:
    check = validate_advanced(
        {
            LABELS: "Team=ml",
            DESCRIPTION: "x" * (MAX_DESCRIPTION + 1),
            SERVICE_ACCOUNT: "someone@example.com",
            KMS_KEY_NAME: "projects/p/keyRings/r",
        },
        export_last_checkpoint_only=False,
    )
    assert check.settings is None
    assert {name: p.key for name, p in check.errors.items()} == {
        LABELS: "spec.label_invalid",
        DESCRIPTION: "advanced.description_too_long",
        SERVICE_ACCOUNT: "advanced.service_account_invalid",
        KMS_KEY_NAME: "advanced.kms_key_invalid",
    }


def test_the_key_must_be_in_the_job_s_region() -> None:
    check = validate_advanced(
        {KMS_KEY_NAME: KEY}, export_last_checkpoint_only=False, region="europe-west4"
    )
    assert check.errors[KMS_KEY_NAME].key == "advanced.kms_key_region"


@pytest.mark.parametrize(
    "account",
    [
        ACCOUNT,
        "123456789012-compute@developer.gserviceaccount.com",
        "p@appspot.gserviceaccount.com",
    ],
)
def test_service_account_forms(account: str) -> None:
    check = validate_advanced({SERVICE_ACCOUNT: account}, export_last_checkpoint_only=False)
    assert check.errors == {}


def test_metadata_round_trip_and_forgeries() -> None:
    settings = AdvancedSettings(
        labels={"team": "ml", "flag": ""},
        description="d",
        export_last_checkpoint_only=True,
        service_account=ACCOUNT,
        kms_key_name=KEY,
    )
    assert AdvancedSettings.from_data(settings.to_data()) == settings
    assert AdvancedSettings.from_data({}) == AdvancedSettings()
    assert AdvancedSettings().empty
    assert not settings.empty
    assert AdvancedSettings.from_data({"l": {"Bad": "x"}}) is None
    assert AdvancedSettings.from_data({"l": ["x"]}) is None
    assert AdvancedSettings.from_data("x") is None
    assert labels_text({"team": "ml", "flag": ""}) == "team=ml\nflag"


def test_apply_keeps_the_spec_s_labels_and_sets_the_rest() -> None:
    spec = TuningJobSpec("m", "gs://b/t.jsonl", labels={"a": "1"})
    applied = AdvancedSettings(
        labels={"b": "2"}, export_last_checkpoint_only=True, kms_key_name=KEY
    ).apply(spec)
    assert dict(applied.labels) == {"a": "1", "b": "2"}
    assert applied.export_last_checkpoint_only
    assert applied.kms_key_name == KEY
    assert applied.service_account is None
