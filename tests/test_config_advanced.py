"""TUNING_SERVICE_ACCOUNT and TUNING_KMS_KEY: the advanced form's defaults, checked at start."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, load_settings
from tests.test_config import BASE

KEY = "projects/my-project/locations/us-central1/keyRings/ring/cryptoKeys/key"


def test_unset_by_default() -> None:
    settings = load_settings(BASE, dotenv=None)
    assert settings.tuning_service_account is None
    assert settings.tuning_kms_key is None


@pytest.mark.parametrize(
    "account",
    [
        "tuner@my-project.iam.gserviceaccount.com",
        "123456789012-compute@developer.gserviceaccount.com",
    ],
)
def test_a_service_account_is_read(account: str) -> None:
    settings = load_settings({**BASE, "TUNING_SERVICE_ACCOUNT": f" {account} "}, dotenv=None)
    assert settings.tuning_service_account == account


def test_a_kms_key_is_read() -> None:
    settings = load_settings({**BASE, "TUNING_KMS_KEY": KEY}, dotenv=None)
    assert settings.tuning_kms_key == KEY


@pytest.mark.parametrize(
    ("variable", "value", "hint"),
    [
        ("TUNING_SERVICE_ACCOUNT", "someone@example.com", "service account's email"),
        ("TUNING_SERVICE_ACCOUNT", "tuner", "service account's email"),
        ("TUNING_KMS_KEY", "my-key", "projects/P/locations/L/keyRings/R/cryptoKeys/K"),
        ("TUNING_KMS_KEY", KEY + "/cryptoKeyVersions/1", "projects/P/locations/L"),
        (
            "TUNING_KMS_KEY",
            KEY.replace("us-central1", "europe-west4"),
            "the key is in europe-west4; jobs run in us-central1",
        ),
    ],
)
def test_malformed_values_name_the_variable_and_the_fix(
    variable: str, value: str, hint: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({**BASE, variable: value}, dotenv=None)
    assert caught.value.variable == variable
    assert hint in str(caught.value)
