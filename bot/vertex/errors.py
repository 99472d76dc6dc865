"""Errors from the Vertex AI tuning API, parsed from Google's JSON error shape."""

from __future__ import annotations

import json
from typing import Any

from bot.tuning.problems import Problem

_MAX_MESSAGE = 500


class VertexError(Exception):
    """Google answered with an error (or did not answer); `status` is Google's canonical name."""

    default_status = "UNKNOWN"

    def __init__(
        self,
        http_status: int,
        message: str,
        status: str | None = None,
        details: list[Any] | None = None,
    ) -> None:
        super().__init__(f"{http_status} {status or self.default_status}: {message}")
        self.http_status = http_status
        self.status = status or self.default_status
        self.message = message
        self.details = details or []


class InvalidArgument(VertexError):
    """400 INVALID_ARGUMENT: the request itself is wrong; retrying will not help."""

    default_status = "INVALID_ARGUMENT"


class PermissionDenied(VertexError):
    """403 PERMISSION_DENIED: missing IAM role or API not enabled."""

    default_status = "PERMISSION_DENIED"


class Unauthenticated(VertexError):
    """401 UNAUTHENTICATED even after a fresh token."""

    default_status = "UNAUTHENTICATED"


class CredentialsUnavailable(Unauthenticated):
    """No usable Google credentials (none found, or a refresh failed): nothing was sent."""


class NotFound(VertexError):
    """404 NOT_FOUND: no such job (or no access to see it)."""

    default_status = "NOT_FOUND"


class FailedPrecondition(VertexError):
    """400/409 FAILED_PRECONDITION: e.g. cancelling a job that has ended."""

    default_status = "FAILED_PRECONDITION"


class QuotaExceeded(VertexError):
    """429 RESOURCE_EXHAUSTED that outlived the retries (or on create, which is not retried)."""

    default_status = "RESOURCE_EXHAUSTED"


class Unavailable(VertexError):
    """The retry budget ran out on 429/5xx answers or connection errors."""

    default_status = "UNAVAILABLE"

    def __init__(
        self, http_status: int, message: str, status: str | None = None, *, attempts: int
    ) -> None:
        super().__init__(http_status, message, status)
        self.attempts = attempts


class CreateOutcomeUnknown(VertexError):
    """A create may have reached Google but its answer was lost: look it up before retrying."""

    default_status = "UNKNOWN"


def parse_error_body(content: bytes) -> tuple[str | None, str, list[Any]]:
    """(status, message, details) from Google's `{"error": {...}}`; other bodies are the message."""
    text = content.decode("utf-8", errors="replace")
    try:
        data = json.loads(text)
    except ValueError:
        return None, text.strip()[:_MAX_MESSAGE], []
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        status = error.get("status")
        message = error.get("message")
        details = error.get("details")
        return (
            status if isinstance(status, str) and status else None,
            str(message)[:_MAX_MESSAGE] if message else "",
            details if isinstance(details, list) else [],
        )
    if isinstance(error, str):  # OAuth-style `{"error": "invalid_grant", ...}`
        return None, error[:_MAX_MESSAGE], []
    return None, text.strip()[:_MAX_MESSAGE], []


def error_for(http_status: int, content: bytes) -> VertexError:
    """The VertexError subclass for an HTTP error answer."""
    status, message, details = parse_error_body(content)
    message = message or f"HTTP {http_status}"
    cls: type[VertexError]
    if status == "FAILED_PRECONDITION" or (http_status == 409 and status is None):
        cls = FailedPrecondition
    elif http_status == 400:
        cls = InvalidArgument
    elif http_status == 401:
        cls = Unauthenticated
    elif http_status == 403:
        cls = PermissionDenied
    elif http_status == 404:
        cls = NotFound
    elif http_status == 429:
        cls = QuotaExceeded
    else:
        cls = VertexError
    return cls(http_status, message, status, details)


def problem_for(error: VertexError, *, project: str, name: str | None = None) -> Problem:
    """The user-facing problem (i18n key `google.*`) that says what went wrong and what to do."""
    message = error.message
    if isinstance(error, CredentialsUnavailable):
        return Problem.of("google.credentials", reason=message)
    if isinstance(error, Unavailable):
        if error.http_status == 429:
            # Google did answer, every time: it is limiting requests, not failing to answer.
            return Problem.of("google.rate_limited", attempts=error.attempts, message=message)
        return Problem.of("google.unavailable", attempts=error.attempts)
    if isinstance(error, FailedPrecondition):
        return Problem.of("google.failed_precondition", message=message)
    if isinstance(error, InvalidArgument):
        return Problem.of("google.invalid_argument", message=message)
    if isinstance(error, PermissionDenied | Unauthenticated):
        return Problem.of("google.permission_denied", message=message, project=project)
    if isinstance(error, NotFound):
        return Problem.of("google.not_found", name=name or message)
    if isinstance(error, QuotaExceeded):
        return Problem.of("google.quota", message=message)
    if isinstance(error, CreateOutcomeUnknown):
        return Problem.of("google.create_unknown")
    return Problem.of("google.other", status=error.status, message=message)
