"""Google's errors become typed exceptions, and each one tells the user what to do."""

from __future__ import annotations

import re

import pytest

from bot.i18n import CATALOGUES, render
from bot.vertex.errors import (
    CreateOutcomeUnknown,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
    Unavailable,
    VertexError,
    error_for,
    problem_for,
)

NAME = "projects/my-project/locations/us-central1/tuningJobs/42"


def _google(code: int, status: str, message: str) -> bytes:
    return (
        f'{{"error": {{"code": {code}, "message": "{message}", "status": "{status}", '
        '"details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "X"}]}}'
    ).encode()


@pytest.mark.parametrize(
    ("code", "status", "cls"),
    [
        (400, "INVALID_ARGUMENT", InvalidArgument),
        (400, "FAILED_PRECONDITION", FailedPrecondition),
        (409, "FAILED_PRECONDITION", FailedPrecondition),
        (403, "PERMISSION_DENIED", PermissionDenied),
        (404, "NOT_FOUND", NotFound),
        (429, "RESOURCE_EXHAUSTED", QuotaExceeded),
        (500, "INTERNAL", VertexError),
    ],
)
def test_google_error_json_is_parsed(code: int, status: str, cls: type[VertexError]) -> None:
    error = error_for(code, _google(code, status, "what Google said"))
    assert type(error) is cls
    assert error.http_status == code
    assert error.status == status
    assert error.message == "what Google said"
    assert error.details[0]["reason"] == "X"


@pytest.mark.parametrize(
    "body", [b"<html><body>502 Bad Gateway</body></html>", b"", b"[1, 2]", b'{"error": 3}']
)
def test_bodies_that_are_not_googles_json_still_give_an_error(body: bytes) -> None:
    error = error_for(502, body)
    assert error.http_status == 502
    assert error.message
    assert error.status == "UNKNOWN"


def test_long_messages_are_cut() -> None:
    assert len(error_for(400, b"x" * 10_000).message) <= 500


@pytest.mark.parametrize(
    ("error", "key", "must_mention"),
    [
        (
            InvalidArgument(400, "The adapter size is not supported."),
            "google.invalid_argument",
            ["adapter size"],
        ),
        (
            PermissionDenied(403, "denied"),
            "google.permission_denied",
            ["my-project", "roles/aiplatform.user"],
        ),
        (NotFound(404, "gone"), "google.not_found", [NAME]),
        (QuotaExceeded(429, "Quota exceeded."), "google.quota", ["Quota exceeded."]),
        (FailedPrecondition(400, "job has ended"), "google.failed_precondition", ["job has ended"]),
        (Unavailable(503, "down", attempts=5), "google.unavailable", ["5"]),
        (
            Unavailable(429, "Quota exceeded for read requests", attempts=5),
            "google.rate_limited",
            ["5", "Quota exceeded for read requests"],
        ),
        (CreateOutcomeUnknown(0, "reset"), "google.create_unknown", ["/tune list"]),
        (
            VertexError(500, "Internal error.", "INTERNAL"),
            "google.other",
            ["INTERNAL", "Internal error."],
        ),
    ],
)
def test_each_error_tells_the_user_what_happened_in_both_languages(
    error: VertexError, key: str, must_mention: list[str]
) -> None:
    problem = problem_for(error, project="my-project", name=NAME)
    assert problem.key == key
    for language in ("en", "ja"):
        assert key in CATALOGUES[language]
        text = render(language, problem)
        assert not re.search(r"\{[a-z_]+\}", text), text  # every placeholder was filled
        for fragment in must_mention:
            assert fragment in text
