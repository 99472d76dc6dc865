"""Settings from environment variables (and an optional `.env`), with one-line errors."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.tuning.access import AccessPolicy
from bot.tuning.projects import ProjectScope
from bot.tuning.refs import Location
from bot.tuning.resources import is_service_account, kms_key_location

EMULATOR_PROJECT = "emulator-project"
# Where the built-in emulator answers (`--with-emulator`) unless VERTEX_EMULATOR_HOST names a
# place: a reserved name that never resolves, so nothing but the in-process app can answer it.
BUILT_IN_EMULATOR_HOST = "vertex-emulator.invalid:80"
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")
_REGION = re.compile(r"[a-z]+(?:-[a-z]+)+[0-9]+")
_PROJECT = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]")
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,}")
_HOST_PORT = re.compile(r"[A-Za-z0-9.\-\[\]:]+:[0-9]{1,5}")


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable and the fix."""

    def __init__(self, variable: str, hint: str) -> None:
        super().__init__(f"{variable}: {hint}")
        self.variable = variable


@dataclass(frozen=True)
class Settings:
    """Everything the bot reads from its environment. Secrets never appear in repr()."""

    slack_bot_token: str = field(repr=False)
    slack_app_token: str | None = field(repr=False)
    slack_signing_secret: str | None = field(repr=False)
    slack_api_url: str
    google_cloud_project: str
    tuning_region: str
    vertex_emulator_host: str | None
    storage_emulator_host: str | None
    database_url: str
    poll_interval_seconds: float
    port: int
    admins: frozenset[str]
    allowed_users: frozenset[str]
    allowed_channels: frozenset[str]
    allowed_buckets: tuple[str, ...]
    vertex_requests_per_minute: int = 60
    metrics_interval_seconds: float = 300.0  # how often running jobs' curves are read
    log_level: str = "INFO"
    allowed_projects: tuple[str, ...] = ()  # besides google_cloud_project
    # The Vertex emulator runs inside the bot process and answers at vertex_emulator_host.
    with_emulator: bool = False
    # Defaults of the create form's advanced settings: the account jobs run as, their CMEK key.
    tuning_service_account: str | None = None
    tuning_kms_key: str | None = None

    @property
    def socket_mode(self) -> bool:
        """Socket Mode when an app-level token is configured, HTTP mode otherwise."""
        return bool(self.slack_app_token)

    @property
    def default_location(self) -> Location:
        """Project and region used when a user gives only a job number."""
        return Location(self.google_cloud_project, self.tuning_region)

    @property
    def project_scope(self) -> ProjectScope:
        """The projects users may reach: the configured one and TUNING_ALLOWED_PROJECTS."""
        return ProjectScope(frozenset({self.google_cloud_project, *self.allowed_projects}))

    @property
    def access_policy(self) -> AccessPolicy:
        """Allow-lists and admins as the domain's policy object."""
        return AccessPolicy(self.admins, self.allowed_users, self.allowed_channels)


def _ids(
    env: Mapping[str, str], name: str, pattern: re.Pattern[str], example: str
) -> frozenset[str]:
    values = [v.strip() for v in env.get(name, "").split(",") if v.strip()]
    for value in values:
        if not pattern.fullmatch(value):
            raise ConfigError(name, f"expected comma-separated Slack ids such as {example}")
    return frozenset(values)


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(name, f"expected a number from {low:g} to {high:g}") from None
    if not low <= value <= high:
        raise ConfigError(name, f"expected a number from {low:g} to {high:g}")
    return value


def _integer(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not re.fullmatch(r"[0-9]{1,9}", raw) or not low <= int(raw) <= high:
        raise ConfigError(name, f"expected a whole number from {low} to {high}")
    return int(raw)


def _buckets(env: Mapping[str, str]) -> tuple[str, ...]:
    values = tuple(v.strip() for v in env.get("TUNING_ALLOWED_BUCKETS", "").split(",") if v.strip())
    for value in values:
        if not value.startswith("gs://") or len(value) <= len("gs://"):
            raise ConfigError(
                "TUNING_ALLOWED_BUCKETS", "expected comma-separated prefixes such as gs://team-data"
            )
    return values


def _database_url(env: Mapping[str, str]) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    raw = env.get("DATABASE_URL", "").strip() or "sqlite:///tuning-bot.db"
    hint = "expected sqlite:///path.db or postgresql+psycopg://user@host/db"
    try:
        url = make_url(raw)
        _ = url.port  # a port that is not a number fails only here
        backend = url.get_backend_name()
        # The driver is imported now, so a missing one is this line, not a traceback later.
        url.get_dialect().import_dbapi()
    except (ArgumentError, ValueError, NoSuchModuleError, ImportError):
        raise ConfigError("DATABASE_URL", hint) from None
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError("DATABASE_URL", hint)
    return raw


def _projects(env: Mapping[str, str]) -> tuple[str, ...]:
    values = tuple(
        v.strip() for v in env.get("TUNING_ALLOWED_PROJECTS", "").split(",") if v.strip()
    )
    for value in values:
        if not (_PROJECT.fullmatch(value) or re.fullmatch(r"[0-9]{1,20}", value)):
            raise ConfigError(
                "TUNING_ALLOWED_PROJECTS", "expected comma-separated project ids such as acme-ml"
            )
    return values


def _slack(env: Mapping[str, str], require_slack: bool) -> tuple[str, str | None, str | None]:
    bot_token = env.get("SLACK_BOT_TOKEN", "").strip()
    app_token = env.get("SLACK_APP_TOKEN", "").strip() or None
    secret = env.get("SLACK_SIGNING_SECRET", "").strip() or None
    if not require_slack:
        return bot_token, app_token, secret
    if not bot_token:
        raise ConfigError(
            "SLACK_BOT_TOKEN", "missing: set it to the app's Bot User OAuth Token (xoxb-…)"
        )
    if not bot_token.startswith("xoxb-"):
        raise ConfigError("SLACK_BOT_TOKEN", "must be a bot token starting with xoxb-")
    if app_token is not None and not app_token.startswith("xapp-"):
        raise ConfigError("SLACK_APP_TOKEN", "must be an app-level token starting with xapp-")
    if app_token is None and secret is None:
        raise ConfigError(
            "SLACK_SIGNING_SECRET",
            "missing: HTTP mode needs the app's Signing Secret "
            "(or set SLACK_APP_TOKEN to use Socket Mode)",
        )
    return bot_token, app_token, secret


def _service_account(env: Mapping[str, str]) -> str | None:
    account = env.get("TUNING_SERVICE_ACCOUNT", "").strip() or None
    if account is not None and not is_service_account(account):
        raise ConfigError(
            "TUNING_SERVICE_ACCOUNT",
            "expected a service account's email, e.g. tuner@my-project.iam.gserviceaccount.com",
        )
    return account


def _kms_key(env: Mapping[str, str], region: str) -> str | None:
    key = env.get("TUNING_KMS_KEY", "").strip() or None
    if key is None:
        return None
    location = kms_key_location(key)
    if location is None:
        raise ConfigError(
            "TUNING_KMS_KEY",
            "expected a Cloud KMS key name: projects/P/locations/L/keyRings/R/cryptoKeys/K",
        )
    if location != region:
        # Google refuses a key from another region than the job's.
        raise ConfigError(
            "TUNING_KMS_KEY", f"the key is in {location}; jobs run in {region} (TUNING_REGION)"
        )
    return key


def _with_emulator(env: Mapping[str, str], asked: bool) -> bool:
    raw = env.get("TUNING_WITH_EMULATOR", "").strip().lower()
    if raw not in _TRUE + _FALSE:
        raise ConfigError("TUNING_WITH_EMULATOR", "expected 1 (on) or 0 (off)")
    on = asked or raw in _TRUE
    project = env.get("GOOGLE_CLOUD_PROJECT", "").strip()
    if on and project and not env.get("VERTEX_EMULATOR_HOST", "").strip():
        # Never let the emulator stand in silently for a real project's jobs.
        raise ConfigError(
            "TUNING_WITH_EMULATOR",
            "refused: GOOGLE_CLOUD_PROJECT is set, so jobs would go to the emulator instead "
            "of that project; unset GOOGLE_CLOUD_PROJECT to try the bot with the emulator",
        )
    return on


def load_settings(
    environ: Mapping[str, str] | None = None,
    *,
    require_slack: bool = True,
    dotenv: Path | None = Path(".env"),
    with_emulator: bool = False,
) -> Settings:
    """Read settings; a `.env` file fills variables the environment does not set.

    `with_emulator` (or TUNING_WITH_EMULATOR=1) means the process runs the Vertex emulator
    itself: the project defaults to the emulator's and the client is pointed at it."""
    env: dict[str, str] = {}
    if dotenv is not None and dotenv.is_file():
        from dotenv import dotenv_values

        env.update({k: v for k, v in dotenv_values(dotenv).items() if v is not None})
    env.update(os.environ if environ is None else environ)

    bot_token, app_token, secret = _slack(env, require_slack)
    built_in = _with_emulator(env, with_emulator)
    emulator = env.get("VERTEX_EMULATOR_HOST", "").strip() or None
    if emulator is not None and not _HOST_PORT.fullmatch(emulator):
        raise ConfigError("VERTEX_EMULATOR_HOST", "expected host:port, e.g. 127.0.0.1:8089")
    if built_in and emulator is None:
        emulator = BUILT_IN_EMULATOR_HOST
    project = env.get("GOOGLE_CLOUD_PROJECT", "").strip()
    if not project:
        if emulator is None:
            raise ConfigError(
                "GOOGLE_CLOUD_PROJECT",
                "missing: set your Google Cloud project id (or, to try the bot without one, "
                "run `tuning-bot --with-emulator`, or set VERTEX_EMULATOR_HOST to the address "
                "of `tuning-bot emulator`)",
            )
        project = EMULATOR_PROJECT
    elif not _PROJECT.fullmatch(project):
        raise ConfigError(
            "GOOGLE_CLOUD_PROJECT", "expected a project id: 6-30 lower-case letters, digits, dashes"
        )
    region = env.get("TUNING_REGION", "").strip() or "us-central1"
    if not _REGION.fullmatch(region):
        raise ConfigError("TUNING_REGION", "expected a region such as us-central1")
    storage = env.get("STORAGE_EMULATOR_HOST", "").strip() or None
    if storage is not None and not re.fullmatch(r"https?://[^\s/]+/?", storage):
        raise ConfigError("STORAGE_EMULATOR_HOST", "expected a URL such as http://127.0.0.1:4443")
    database_url = _database_url(env)
    slack_api_url = env.get("SLACK_API_URL", "").strip() or "https://slack.com/api/"
    if not re.fullmatch(r"https?://\S+", slack_api_url):
        raise ConfigError("SLACK_API_URL", "expected a URL such as https://slack.com/api/")
    if not slack_api_url.endswith("/"):
        slack_api_url += "/"
    log_level = env.get("LOG_LEVEL", "").strip().upper() or "INFO"
    if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ConfigError("LOG_LEVEL", "expected DEBUG, INFO, WARNING or ERROR")
    return Settings(
        slack_bot_token=bot_token,
        slack_app_token=app_token,
        slack_signing_secret=secret,
        slack_api_url=slack_api_url,
        google_cloud_project=project,
        tuning_region=region,
        vertex_emulator_host=emulator,
        storage_emulator_host=storage.rstrip("/") if storage else None,
        database_url=database_url,
        poll_interval_seconds=_number(env, "POLL_INTERVAL_SECONDS", 60.0, 0.2, 86400.0),
        port=_integer(env, "PORT", 3000, 1, 65535),
        admins=_ids(env, "TUNING_ADMINS", _USER_ID, "U012ABCDEF"),
        allowed_users=_ids(env, "TUNING_ALLOWED_USERS", _USER_ID, "U012ABCDEF"),
        allowed_channels=_ids(env, "TUNING_ALLOWED_CHANNELS", _CHANNEL_ID, "C012ABCDEF"),
        allowed_buckets=_buckets(env),
        vertex_requests_per_minute=_integer(env, "VERTEX_REQUESTS_PER_MINUTE", 60, 1, 600),
        metrics_interval_seconds=_number(env, "METRICS_INTERVAL_SECONDS", 300.0, 0.2, 86400.0),
        log_level=log_level,
        allowed_projects=_projects(env),
        with_emulator=built_in,
        tuning_service_account=_service_account(env),
        tuning_kms_key=_kms_key(env, region),
    )
