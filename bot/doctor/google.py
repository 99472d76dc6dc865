"""Google checks: which credentials the bot would use, Vertex AI tuning, the dataset buckets.

Vertex AI is asked through the bot's own `TuningClient` and Cloud Storage through its own
`DatasetOpener`, so a passing check means the bot's requests pass too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from bot.datasets.sources import DatasetOpener, SourceUnavailable
from bot.doctor.results import CheckResult
from bot.tuning.job import TuningJob
from bot.tuning.problems import Problem
from bot.tuning.refs import Location
from bot.vertex.client import TuningClient
from bot.vertex.errors import (
    CredentialsUnavailable,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
    Unauthenticated,
    Unavailable,
    VertexError,
)

CredentialsFinder = Callable[[], Any]
_MAX_REASON = 300
# Enough of the newest jobs for the TensorBoard check to find one that has started training.
LISTED_JOBS = 10
_CREDENTIALS_FIX = Problem.of("doctor.credentials_fix")


def default_credentials() -> Any:
    """Application Default Credentials, found as the bot finds them (nothing is refreshed)."""
    import google.auth

    from bot.vertex.auth import SCOPES

    credentials, _ = google.auth.default(scopes=list(SCOPES))
    return credentials


def describe_credentials(credentials: Any) -> CheckResult:
    """Which kind of credentials these are and, when they say, for which account."""
    from google.auth import compute_engine, external_account, impersonated_credentials
    from google.oauth2 import credentials as user_credentials
    from google.oauth2 import service_account

    email = str(getattr(credentials, "service_account_email", "") or "")
    if isinstance(credentials, service_account.Credentials):
        return CheckResult.ok("doctor.credentials_service_account", account=email or "?")
    if isinstance(credentials, compute_engine.Credentials):
        # The metadata server names the account only once a token is asked for.
        return CheckResult.ok("doctor.credentials_metadata", account=email or "default")
    if isinstance(credentials, impersonated_credentials.Credentials):
        return CheckResult.ok("doctor.credentials_impersonated", account=email or "?")
    if isinstance(credentials, external_account.Credentials):
        return CheckResult.ok("doctor.credentials_external", account=email or "?")
    if isinstance(credentials, user_credentials.Credentials):
        account = str(getattr(credentials, "account", "") or "")
        if account:
            return CheckResult.ok("doctor.credentials_user", account=account)
        return CheckResult.ok("doctor.credentials_user_unnamed")
    return CheckResult.ok("doctor.credentials_other", kind=type(credentials).__name__)


async def check_credentials(
    find: CredentialsFinder, *, emulator: bool, built_in: bool, storage_needs_them: bool
) -> CheckResult:
    """Application Default Credentials are found (skipped when only emulators are used)."""
    if emulator and not storage_needs_them:
        # Nothing to find, and nothing missing: a pass that says why.
        key = "doctor.credentials_built_in" if built_in else "doctor.credentials_emulator"
        return CheckResult.ok(key)
    import google.auth.exceptions

    try:
        # Finding them may read files or ask the metadata server: off the event loop.
        credentials = await asyncio.to_thread(find)
    except google.auth.exceptions.GoogleAuthError as exc:
        # Only the class name: google-auth's messages may quote paths or answers.
        return CheckResult.fail(
            Problem.of("doctor.credentials_missing", error=type(exc).__name__), _CREDENTIALS_FIX
        )
    return describe_credentials(credentials)


def refusal_reason(error: VertexError) -> str:
    """Google's message, cut to what fits on a report line."""
    return error.message[:_MAX_REASON]


def is_rate_limited(error: VertexError) -> bool:
    """Google answered 429, whichever class the client gave it."""
    return isinstance(error, QuotaExceeded) or (
        isinstance(error, Unavailable) and error.http_status == 429
    )


def vertex_verdict(error: VertexError, location: Location) -> CheckResult:
    """Google's refusal of `tuningJobs.list` as a line and its fix."""
    where: dict[str, str | int] = {"project": location.project, "region": location.region}
    said = {"status": error.status, "message": refusal_reason(error), **where}
    if isinstance(error, CredentialsUnavailable):
        return CheckResult.fail(
            Problem.of("doctor.credentials_missing", error=error.message), _CREDENTIALS_FIX
        )
    if is_rate_limited(error):
        return CheckResult.fail(
            Problem.of("doctor.vertex_refused", code=429, **said),
            Problem.of("doctor.vertex_quota_fix"),
        )
    if isinstance(error, Unavailable) and error.http_status == 0:
        return CheckResult.fail(
            Problem.of("doctor.vertex_unreachable", message=refusal_reason(error), **where),
            Problem.of("doctor.vertex_unreachable_fix"),
        )
    if isinstance(error, PermissionDenied):
        return CheckResult.fail(
            Problem.of("doctor.vertex_refused", code=403, **said),
            Problem.of("doctor.vertex_denied_fix", project=location.project),
        )
    if isinstance(error, NotFound):
        return CheckResult.fail(
            Problem.of("doctor.vertex_refused", code=404, **said),
            Problem.of("doctor.vertex_not_found_fix"),
        )
    if isinstance(error, Unauthenticated):
        return CheckResult.fail(
            Problem.of("doctor.vertex_refused", code=error.http_status or 401, **said),
            _CREDENTIALS_FIX,
        )
    return CheckResult.fail(
        Problem.of("doctor.vertex_refused", code=error.http_status, **said),
        Problem.of("doctor.vertex_other_fix"),
    )


async def check_vertex(
    client: TuningClient, location: Location, emulator_host: str | None, *, built_in: bool
) -> tuple[CheckResult, list[TuningJob]]:
    """One `tuningJobs.list` of the newest jobs in the configured project and region; the
    verdict, and the jobs listed for the checks that follow."""
    jobs: list[TuningJob] = []
    try:
        async for page in client.list_pages(location, page_size=LISTED_JOBS):
            jobs = page.jobs
            break
    except VertexError as exc:
        return vertex_verdict(exc, location), []
    where = {"project": location.project, "region": location.region}
    if built_in:
        return CheckResult.ok("doctor.vertex_ok_built_in", **where), jobs
    if emulator_host:
        return CheckResult.ok("doctor.vertex_ok_emulator", host=emulator_host, **where), jobs
    return CheckResult.ok("doctor.vertex_ok", **where), jobs


def _split(prefix: str) -> tuple[str, str]:
    bucket, _, path = prefix.removeprefix("gs://").partition("/")
    return bucket, path


async def check_bucket(opener: DatasetOpener, prefix: str) -> CheckResult:
    """The bot may list objects under one TUNING_ALLOWED_BUCKETS prefix."""
    bucket, path = _split(prefix)
    try:
        await opener.probe_prefix(bucket, path)
    except SourceUnavailable as exc:
        if exc.problem.key == "preflight.credentials":
            return CheckResult.fail(
                Problem.of("doctor.bucket_no_credentials", prefix=prefix), _CREDENTIALS_FIX
            )
        if exc.missing:
            return CheckResult.fail(
                Problem.of("doctor.bucket_missing", prefix=prefix),
                Problem.of("doctor.bucket_missing_fix"),
            )
        if exc.bot_lacks_access:
            return CheckResult.fail(
                Problem.of("doctor.bucket_denied", prefix=prefix),
                Problem.of("doctor.bucket_denied_fix", bucket=bucket),
            )
        return CheckResult.fail(exc.problem, Problem.of("doctor.bucket_other_fix"))
    return CheckResult.ok("doctor.bucket_ok", prefix=prefix)


async def check_buckets(opener: DatasetOpener, prefixes: tuple[str, ...]) -> list[CheckResult]:
    """Each allowed prefix, or one note that datasets may come from anywhere."""
    if not prefixes:
        return [CheckResult.skip("doctor.buckets_any")]
    return [await check_bucket(opener, prefix) for prefix in prefixes]
