"""Structured JSON logs, one event per line, with secrets scrubbed before anything is written."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
from typing import Any

# Slack tokens, Google OAuth access tokens, bearer headers and signatures.
_SECRET_PATTERNS = re.compile(
    r"(xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|ya29\.[A-Za-z0-9._\-]+"
    r"|(?i:bearer)\s+[A-Za-z0-9._\-~+/]+=*|v0=[0-9a-f]{64})"
)
# Libraries whose INFO lines are chatter to an operator (SQLAlchemy logs every statement with
# its parameters, APScheduler two lines per cycle); at DEBUG their debug output could echo
# request headers and bodies, so they never go below INFO.
_LIBRARY_LOGGERS = (
    "httpx",
    "httpcore",
    "slack_sdk",
    "slack_bolt",
    "urllib3",
    "apscheduler",
    "google",
    "sqlalchemy",
    "aiohttp",
    "uvicorn",
    "asyncio",
)
_RESERVED = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}
_known_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Make a configured secret (e.g. the signing secret) redacted wherever it would appear."""
    if value and len(value) >= 8:
        _known_secrets.add(value)


def register_url_password(url: str | None) -> None:
    """Redact the password of a connection URL (e.g. DATABASE_URL) wherever it would appear."""
    if not url:
        return
    from urllib.parse import unquote, urlsplit

    try:
        raw = urlsplit(url).password
    except ValueError:
        return
    if raw:
        # Both spellings: the URL itself shows it percent-encoded, drivers see it decoded.
        register_secret(raw)
        register_secret(unquote(raw))


def scrub(text: str) -> str:
    """Text with every token-like value and registered secret replaced by `[redacted]`."""
    for secret in _known_secrets:
        if secret in text:
            text = text.replace(secret, "[redacted]")
    return _SECRET_PATTERNS.sub("[redacted]", text)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, event, and the record's extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one scrubbed JSON line."""
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return scrub(json.dumps(entry, default=str, ensure_ascii=False))


class _OwnEventsOnly(logging.Filter):
    """Below WARNING, only the bot's own loggers pass (whatever library logs at INFO)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or record.name.split(".")[0] == "bot"


def configure_logging(level: str = "INFO") -> None:
    """Send logs to stderr as JSON lines: the bot's events at `level`, libraries' only from
    WARNING (from INFO when `level` is DEBUG)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    debug = logging.getLevelName(level) <= logging.DEBUG
    if not debug:
        handler.addFilter(_OwnEventsOnly())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for library in _LIBRARY_LOGGERS:
        logging.getLogger(library).setLevel(logging.INFO if debug else logging.WARNING)
