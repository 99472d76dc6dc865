"""Google's JSON error shape, so every refusal reads as Vertex's own would.

Clients (the bot, google-genai, the GAPIC REST transport) parse `{"error": {...}}`; a plain
text error page would make them fail differently from production.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

# Google's canonical status names by HTTP status, for injected faults and unknown routes.
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

_DEFAULT_MESSAGES = {
    400: "Request contains an invalid argument.",
    401: "Request had invalid authentication credentials.",
    403: "Permission 'aiplatform.tuningJobs.create' denied on resource (or it may not exist).",
    404: "The requested resource was not found.",
    429: "Quota exceeded for aiplatform.googleapis.com/concurrent_tuning_jobs.",
    500: "Internal error encountered.",
    503: "The service is currently unavailable.",
    504: "The request timed out.",
}


class ApiError(Exception):
    """An answer in Google's error shape."""

    def __init__(
        self,
        code: int,
        message: str,
        status: str | None = None,
        *,
        retry_after: float | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or STATUS_NAMES.get(code, "UNKNOWN")
        self.retry_after = retry_after
        self.details = details or []

    def response(self) -> JSONResponse:
        """Google's `{"error": {code, message, status, details}}` body."""
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.details:
            error["details"] = self.details
        headers = {}
        if self.retry_after is not None:
            headers["Retry-After"] = f"{self.retry_after:g}"
        return JSONResponse({"error": error}, status_code=self.code, headers=headers)


def invalid(message: str, field_path: str | None = None) -> ApiError:
    """A 400 INVALID_ARGUMENT, with a BadRequest field violation when the field is known."""
    details = None
    if field_path is not None:
        details = [
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{"field": field_path, "description": message}],
            }
        ]
    return ApiError(400, message, "INVALID_ARGUMENT", details=details)


def not_found(message: str) -> ApiError:
    """A 404 NOT_FOUND."""
    return ApiError(404, message, "NOT_FOUND")


# The permission a refused read names, for methods other than the tuning-job ones.
_PERMISSIONS = {
    "experiment": "aiplatform.contexts.get",
    "tensorboard_runs": "aiplatform.tensorboardRuns.list",
    "tensorboard_series": "aiplatform.tensorboardTimeSeries.list",
    "tensorboard_batch_read": "aiplatform.tensorboardTimeSeries.batchRead",
    "tensorboard_read": "aiplatform.tensorboardTimeSeries.read",
}


def default_message(status: int, method: str | None = None) -> str:
    """The message Google typically sends with `status`, for faults injected without one; a
    403 names the permission of `method` when it is not a tuning-job method."""
    if status == 403 and method in _PERMISSIONS:
        return f"Permission '{_PERMISSIONS[method]}' denied on resource (or it may not exist)."
    return _DEFAULT_MESSAGES.get(status, "Error.")
