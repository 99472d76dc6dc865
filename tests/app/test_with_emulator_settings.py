"""Settings for `--with-emulator`: never on by default, never in front of a real project."""

from __future__ import annotations

import pytest

from bot.config import BUILT_IN_EMULATOR_HOST, EMULATOR_PROJECT, ConfigError, load_settings

SLACK = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}


def test_off_by_default() -> None:
    settings = load_settings({**SLACK, "GOOGLE_CLOUD_PROJECT": "acme-ml"}, dotenv=None)
    assert settings.with_emulator is False
    assert settings.vertex_emulator_host is None


@pytest.mark.parametrize("value", ["1", "true", "yes", "on"])
def test_the_variable_turns_it_on(value: str) -> None:
    settings = load_settings({**SLACK, "TUNING_WITH_EMULATOR": value}, dotenv=None)
    assert settings.with_emulator is True
    assert settings.vertex_emulator_host == BUILT_IN_EMULATOR_HOST
    assert settings.google_cloud_project == EMULATOR_PROJECT


def test_the_option_turns_it_on() -> None:
    settings = load_settings(SLACK, dotenv=None, with_emulator=True)
    assert settings.with_emulator is True


def test_a_google_project_refuses_it() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({**SLACK, "GOOGLE_CLOUD_PROJECT": "acme-ml"}, dotenv=None, with_emulator=True)
    assert raised.value.variable == "TUNING_WITH_EMULATOR"
    assert "GOOGLE_CLOUD_PROJECT" in str(raised.value)


def test_a_project_named_for_an_emulator_host_is_kept() -> None:
    env = {**SLACK, "GOOGLE_CLOUD_PROJECT": "acme-ml", "VERTEX_EMULATOR_HOST": "127.0.0.1:8089"}
    settings = load_settings(env, dotenv=None, with_emulator=True)
    assert settings.google_cloud_project == "acme-ml"
    # The built-in emulator answers at that name, inside the process.
    assert settings.vertex_emulator_host == "127.0.0.1:8089"


def test_a_malformed_value_names_the_variable() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({**SLACK, "TUNING_WITH_EMULATOR": "maybe"}, dotenv=None)
    assert raised.value.variable == "TUNING_WITH_EMULATOR"


def test_a_separate_watcher_refuses_it(capsys: pytest.CaptureFixture[str]) -> None:
    from bot.app.watcher import main as watcher

    assert watcher([], {"SLACK_BOT_TOKEN": "xoxb-1", "TUNING_WITH_EMULATOR": "1"}) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("tuning-bot watcher: TUNING_WITH_EMULATOR: the built-in emulator")
    assert len(err.splitlines()) == 1
