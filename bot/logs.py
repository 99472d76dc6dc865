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
_CLAMPED_LOGGERS = (
    "httpx",
    "httpcore",
    "slack_sdk",
    "slack_bolt",
    "urllib3",
    "apscheduler",
    "google",
    "google.auth",
    "sqlalchemy.engine",
    "aiohttp",
    "uvicorn.access",
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


def configure_logging(level: str = "INFO") -> None:
    """Send all logs to stderr as JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Library debug output can echo request headers, URLs and SQL parameters; keep it at INFO
    # or above.
    for noisy in _CLAMPED_LOGGERS:
        logging.getLogger(noisy).setLevel(max(logging.INFO, logging.getLevelName(level)))
