"""Settings from the environment: defaults, good values, one-line errors that name the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import EMULATOR_PROJECT, ConfigError, Settings, load_settings

BOT_TOKEN = "xoxb-1111-2222-BOTSECRETVALUE"
APP_TOKEN = "xapp-1-A111-2222-APPSECRETVALUE"
SIGNING_SECRET = "8f14e45fceea167a5a36dedd4bea2543"
BASE = {
    "SLACK_BOT_TOKEN": BOT_TOKEN,
    "SLACK_SIGNING_SECRET": SIGNING_SECRET,
    "GOOGLE_CLOUD_PROJECT": "my-project",
}


def load(dotenv: Path | None = None, **env: str) -> Settings:
    return load_settings({**BASE, **env}, dotenv=dotenv)


def refusal(env: dict[str, str], dotenv: Path | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_settings(env, dotenv=dotenv)
    return caught.value


def test_defaults() -> None:
    settings = load_settings(BASE, dotenv=None)
    assert settings.slack_bot_token == BOT_TOKEN
    assert settings.slack_app_token is None
    assert settings.slack_signing_secret == SIGNING_SECRET
    assert not settings.socket_mode
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.google_cloud_project == "my-project"
    assert settings.tuning_region == "us-central1"
    assert settings.vertex_emulator_host is None
    assert settings.storage_emulator_host is None
    assert settings.database_url == "sqlite:///tuning-bot.db"
    assert settings.poll_interval_seconds == 60.0
    assert settings.port == 3000
    assert settings.admins == frozenset()
    assert settings.allowed_users == frozenset()
    assert settings.allowed_channels == frozenset()
    assert settings.allowed_buckets == ()
    assert settings.log_level == "INFO"
    assert settings.vertex_requests_per_minute == 60
    assert settings.default_location.parent == "projects/my-project/locations/us-central1"


GOOD = [
    ("SLACK_API_URL", "http://127.0.0.1:8123/api", "slack_api_url", "http://127.0.0.1:8123/api/"),
    ("SLACK_API_URL", "https://slack.com/api/", "slack_api_url", "https://slack.com/api/"),
    ("TUNING_REGION", "europe-west4", "tuning_region", "europe-west4"),
    ("TUNING_REGION", "northamerica-northeast1", "tuning_region", "northamerica-northeast1"),
    ("VERTEX_EMULATOR_HOST", "127.0.0.1:8089", "vertex_emulator_host", "127.0.0.1:8089"),
    ("VERTEX_EMULATOR_HOST", "localhost:8089", "vertex_emulator_host", "localhost:8089"),
    ("VERTEX_EMULATOR_HOST", "[::1]:8089", "vertex_emulator_host", "[::1]:8089"),
    ("STORAGE_EMULATOR_HOST", "http://127.0.0.1:4443/", "storage_emulator_host", "http://127.0.0.1:4443"),
    ("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test", "database_url",
     "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    ("DATABASE_URL", "sqlite:////var/lib/bot/watch.db", "database_url", "sqlite:////var/lib/bot/watch.db"),
    ("POLL_INTERVAL_SECONDS", "0.2", "poll_interval_seconds", 0.2),
    ("POLL_INTERVAL_SECONDS", " 30 ", "poll_interval_seconds", 30.0),
    ("PORT", "8080", "port", 8080),
    ("TUNING_ADMINS", "U012ABCDEF, W0123ABCD", "admins", frozenset({"U012ABCDEF", "W0123ABCD"})),
    ("TUNING_ALLOWED_USERS", "U012ABCDEF,,", "allowed_users", frozenset({"U012ABCDEF"})),
    ("TUNING_ALLOWED_CHANNELS", "C012ABCDEF,G0PRIVATE", "allowed_channels",
     frozenset({"C012ABCDEF", "G0PRIVATE"})),
    ("TUNING_ALLOWED_BUCKETS", "gs://team-data, gs://shared/team-a/", "allowed_buckets",
     ("gs://team-data", "gs://shared/team-a/")),
    ("LOG_LEVEL", "debug", "log_level", "DEBUG"),
    ("VERTEX_REQUESTS_PER_MINUTE", "600", "vertex_requests_per_minute", 600),
]  # fmt: skip


@pytest.mark.parametrize(("variable", "value", "attribute", "parsed"), GOOD)
def test_good_values(variable: str, value: str, attribute: str, parsed: object) -> None:
    settings = load_settings({**BASE, variable: value}, dotenv=None)
    assert getattr(settings, attribute) == parsed


IDS = "expected comma-separated Slack ids such as"
BUCKETS = "expected comma-separated prefixes such as gs://team-data"
BAD = [
    ("SLACK_API_URL", "slack.com/api", "expected a URL such as https://slack.com/api/"),
    ("SLACK_API_URL", "ftp://slack.com/api", "expected a URL such as https://slack.com/api/"),
    ("TUNING_REGION", "US-CENTRAL1", "expected a region such as us-central1"),
    ("TUNING_REGION", "us", "expected a region such as us-central1"),
    ("TUNING_REGION", "global", "expected a region such as us-central1"),
    ("GOOGLE_CLOUD_PROJECT", "My Project", "expected a project id: 6-30 lower-case letters"),
    ("GOOGLE_CLOUD_PROJECT", "abc", "expected a project id: 6-30 lower-case letters"),
    ("GOOGLE_CLOUD_PROJECT", "projects/my-project", "expected a project id"),
    ("VERTEX_EMULATOR_HOST", "http://127.0.0.1:8089", "expected host:port, e.g. 127.0.0.1:8089"),
    ("VERTEX_EMULATOR_HOST", "127.0.0.1", "expected host:port, e.g. 127.0.0.1:8089"),
    ("STORAGE_EMULATOR_HOST", "127.0.0.1:4443", "expected a URL such as http://127.0.0.1:4443"),
    ("DATABASE_URL", "mysql://db/bot", "expected sqlite:///path.db or postgresql+psycopg://"),
    ("DATABASE_URL", "tuning-bot.db", "expected sqlite:///path.db or postgresql+psycopg://"),
    ("DATABASE_URL", "postgresql+psycopg://bot@db:port/tuning", "expected sqlite:///path.db"),
    ("DATABASE_URL", "postgresql+nosuchdriver://bot@db/tuning", "expected sqlite:///path.db"),
    ("TUNING_ALLOWED_PROJECTS", "acme-ml, Bad_Project", "expected comma-separated project ids"),
    ("POLL_INTERVAL_SECONDS", "0.1", "expected a number from 0.2 to 86400"),
    ("POLL_INTERVAL_SECONDS", "abc", "expected a number from 0.2 to 86400"),
    ("POLL_INTERVAL_SECONDS", "nan", "expected a number from 0.2 to 86400"),
    ("POLL_INTERVAL_SECONDS", "inf", "expected a number from 0.2 to 86400"),
    ("PORT", "0", "expected a whole number from 1 to 65535"),
    ("PORT", "65536", "expected a whole number from 1 to 65535"),
    ("PORT", "80.5", "expected a whole number from 1 to 65535"),
    ("PORT", "http", "expected a whole number from 1 to 65535"),
    ("TUNING_ADMINS", "alice", f"{IDS} U012ABCDEF"),
    ("TUNING_ADMINS", "<@U012ABCDEF>", f"{IDS} U012ABCDEF"),
    ("TUNING_ALLOWED_USERS", "u012abcdef", f"{IDS} U012ABCDEF"),
    ("TUNING_ALLOWED_CHANNELS", "#general", f"{IDS} C012ABCDEF"),
    ("TUNING_ALLOWED_CHANNELS", "U012ABCDEF", f"{IDS} C012ABCDEF"),
    ("TUNING_ALLOWED_BUCKETS", "team-data", BUCKETS),
    ("TUNING_ALLOWED_BUCKETS", "gs://", BUCKETS),
    ("LOG_LEVEL", "verbose", "expected DEBUG, INFO, WARNING or ERROR"),
    ("VERTEX_REQUESTS_PER_MINUTE", "0", "expected a whole number from 1 to 600"),
]  # fmt: skip


@pytest.mark.parametrize(("variable", "value", "hint"), BAD)
def test_malformed_values_name_the_variable_and_the_fix(
    variable: str, value: str, hint: str
) -> None:
    error = refusal({**BASE, variable: value})
    assert error.variable == variable
    assert str(error).startswith(f"{variable}: ")
    assert hint in str(error)
    assert "\n" not in str(error)


def test_bot_token_missing() -> None:
    error = refusal({k: v for k, v in BASE.items() if k != "SLACK_BOT_TOKEN"})
    assert error.variable == "SLACK_BOT_TOKEN"
    assert str(error) == (
        "SLACK_BOT_TOKEN: missing: set it to the app's Bot User OAuth Token (xoxb-…)"
    )


def test_blank_bot_token_counts_as_missing() -> None:
    assert refusal({**BASE, "SLACK_BOT_TOKEN": "   "}).variable == "SLACK_BOT_TOKEN"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SLACK_BOT_TOKEN", "xoxp-9999-USERTOKENSECRET"),
        ("SLACK_BOT_TOKEN", "xapp-1-A111-APPTOKENSECRET"),
        ("SLACK_APP_TOKEN", "xoxb-1111-BOTTOKENSECRET"),
        ("SLACK_APP_TOKEN", "not-a-token-SECRETISH"),
    ],
)
def test_a_malformed_token_is_never_echoed(variable: str, value: str) -> None:
    error = refusal({**BASE, variable: value})
    assert error.variable == variable
    secret_part = value.split("-")[-1]
    assert secret_part not in str(error)
    assert secret_part not in repr(error)
    assert "xox" in str(error) or "xapp" in str(error)  # says what a right token looks like


def test_http_mode_needs_the_signing_secret() -> None:
    env = {k: v for k, v in BASE.items() if k != "SLACK_SIGNING_SECRET"}
    error = refusal(env)
    assert error.variable == "SLACK_SIGNING_SECRET"
    assert "SLACK_APP_TOKEN" in str(error)  # the other way out: Socket Mode


def test_socket_mode_needs_no_signing_secret() -> None:
    env = {k: v for k, v in BASE.items() if k != "SLACK_SIGNING_SECRET"}
    settings = load_settings({**env, "SLACK_APP_TOKEN": APP_TOKEN}, dotenv=None)
    assert settings.socket_mode
    assert settings.slack_app_token == APP_TOKEN
    assert settings.slack_signing_secret is None


def test_an_empty_app_token_means_http_mode() -> None:
    settings = load(SLACK_APP_TOKEN="")
    assert not settings.socket_mode


def test_google_project_is_required_without_the_emulator() -> None:
    env = {k: v for k, v in BASE.items() if k != "GOOGLE_CLOUD_PROJECT"}
    error = refusal(env)
    assert error.variable == "GOOGLE_CLOUD_PROJECT"
    assert "VERTEX_EMULATOR_HOST" in str(error)
    assert "tuning-bot --with-emulator" in str(error)  # the one-command way to try it


def test_google_project_is_optional_with_the_emulator() -> None:
    env = {k: v for k, v in BASE.items() if k != "GOOGLE_CLOUD_PROJECT"}
    settings = load_settings({**env, "VERTEX_EMULATOR_HOST": "127.0.0.1:8089"}, dotenv=None)
    assert settings.google_cloud_project == EMULATOR_PROJECT
    assert settings.vertex_emulator_host == "127.0.0.1:8089"
    with_project = load_settings({**BASE, "VERTEX_EMULATOR_HOST": "127.0.0.1:8089"}, dotenv=None)
    assert with_project.google_cloud_project == "my-project"


def test_slack_settings_are_not_needed_when_slack_is_not_used() -> None:
    settings = load_settings(
        {"GOOGLE_CLOUD_PROJECT": "my-project"}, require_slack=False, dotenv=None
    )
    assert settings.slack_bot_token == ""


def test_dotenv_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        f"SLACK_BOT_TOKEN={BOT_TOKEN}\n"
        f"SLACK_SIGNING_SECRET={SIGNING_SECRET}\n"
        "GOOGLE_CLOUD_PROJECT=dotenv-project\n"
        "TUNING_REGION=europe-west4\n"
        "# a comment\n"
        "PORT=4000\n",
        encoding="utf-8",
    )
    settings = load_settings({"GOOGLE_CLOUD_PROJECT": "env-project", "PORT": ""}, dotenv=dotenv)
    assert settings.google_cloud_project == "env-project"
    assert settings.tuning_region == "europe-west4"
    assert settings.slack_bot_token == BOT_TOKEN
    # An empty variable in the environment still wins: it means "use the default".
    assert settings.port == 3000


def test_a_missing_dotenv_file_is_fine(tmp_path: Path) -> None:
    settings = load_settings(BASE, dotenv=tmp_path / "absent.env")
    assert settings.google_cloud_project == "my-project"


def test_a_malformed_value_from_dotenv_is_reported_like_any_other(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("PORT=eighty\n", encoding="utf-8")
    assert refusal(BASE, dotenv=dotenv).variable == "PORT"


def test_repr_holds_no_secret() -> None:
    settings = load_settings({**BASE, "SLACK_APP_TOKEN": APP_TOKEN}, dotenv=None)
    text = repr(settings)
    for secret in (BOT_TOKEN, APP_TOKEN, SIGNING_SECRET):
        assert secret not in text
    assert "my-project" in text  # the rest is there to help debugging
    assert "xox" not in str(settings)


def test_access_policy_comes_from_the_allow_lists() -> None:
    settings = load(TUNING_ADMINS="U0ADMIN01", TUNING_ALLOWED_CHANNELS="C0TEAM001")
    policy = settings.access_policy
    assert policy.admins == frozenset({"U0ADMIN01"})
    assert policy.allowed_channels == frozenset({"C0TEAM001"})


def test_allowed_projects_always_include_the_configured_one() -> None:
    settings = load_settings(
        {**BASE, "GOOGLE_CLOUD_PROJECT": "acme-ml", "TUNING_ALLOWED_PROJECTS": "acme-research"},
        dotenv=None,
    )
    assert settings.project_scope.allowed == {"acme-ml", "acme-research"}
    assert load_settings(
        {**BASE, "GOOGLE_CLOUD_PROJECT": "acme-ml"}, dotenv=None
    ).project_scope.allowed == {"acme-ml"}
