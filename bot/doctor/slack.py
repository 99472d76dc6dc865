"""Slack checks: the bot token (`auth.test`), its scopes against the manifest, the mode secrets.

Slack puts the scopes a token was granted in the `x-oauth-scopes` header of every Web API
answer, so the `auth.test` that proves the token works also says what it may do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.doctor.manifest import AppManifest, missing_scopes
from bot.doctor.results import CheckResult
from bot.tuning.problems import Problem

_TOKEN_FIX = Problem.of("doctor.bot_token_fix")
_APP_TOKEN_FIX = Problem.of("doctor.app_token_fix")


@dataclass(frozen=True)
class TokenCheck:
    """The bot token's line, and the scopes Slack reported (None when it reported none)."""

    result: CheckResult
    granted: tuple[str, ...] | None
    works: bool


def granted_scopes(headers: Mapping[str, Any] | None) -> tuple[str, ...] | None:
    """The scopes in an `x-oauth-scopes` header (any letter case), None when it is absent."""
    for name, value in (headers or {}).items():
        if name.lower() == "x-oauth-scopes":
            text = value[0] if isinstance(value, list) and value else value
            return tuple(s.strip() for s in str(text).split(",") if s.strip())
    return None


async def check_bot_token(slack: Any, token: str) -> TokenCheck:
    """`auth.test` with the bot token: does Slack accept it, for which workspace and bot."""
    if not token:
        return TokenCheck(
            CheckResult.fail(Problem.of("doctor.bot_token_missing"), _TOKEN_FIX), None, False
        )
    if not token.startswith("xoxb-"):
        return TokenCheck(
            CheckResult.fail(Problem.of("doctor.bot_token_kind"), _TOKEN_FIX), None, False
        )
    try:
        response = await slack.auth_test()
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "unknown")
        fail = CheckResult.fail(Problem.of("doctor.bot_token_refused", error=error), _TOKEN_FIX)
        return TokenCheck(fail, None, False)
    except Exception as exc:  # any transport failure reads the same: Slack did not answer
        unreachable = CheckResult.fail(
            Problem.of("doctor.slack_unreachable", error=type(exc).__name__),
            Problem.of("doctor.slack_unreachable_fix"),
        )
        return TokenCheck(unreachable, None, False)
    data = response.data if isinstance(response.data, dict) else {}
    ok = CheckResult.ok(
        "doctor.bot_token_ok", team=str(data.get("team") or "?"), user=str(data.get("user") or "?")
    )
    return TokenCheck(ok, granted_scopes(response.headers), True)


def check_scopes(
    manifest: AppManifest | None, manifest_problem: str | None, token: TokenCheck
) -> CheckResult:
    """Every bot scope the manifest asks for is granted to the token."""
    if not token.works:
        return CheckResult.skip("doctor.scopes_skipped")
    if manifest is None:
        return CheckResult.warn(
            Problem.of("doctor.manifest_missing", error=manifest_problem or "manifest.yaml"),
            Problem.of("doctor.manifest_missing_fix"),
        )
    if token.granted is None:
        return CheckResult.warn(Problem.of("doctor.scopes_unknown"))
    missing = missing_scopes(manifest.bot_scopes, token.granted)
    if missing:
        scopes = ", ".join(missing)
        return CheckResult.fail(
            Problem.of("doctor.scopes_missing", scopes=scopes),
            Problem.of("doctor.scopes_missing_fix", scopes=scopes),
        )
    return CheckResult.ok("doctor.scopes_ok", count=len(manifest.bot_scopes))


async def check_mode(
    slack: Any,
    app_token: str | None,
    signing_secret: str | None,
    manifest: AppManifest | None,
) -> CheckResult:
    """Socket Mode needs a working app-level token; HTTP mode needs the signing secret.

    As the bot decides: an app-level token means Socket Mode, none means HTTP mode."""
    if app_token:
        if not app_token.startswith("xapp-"):
            return CheckResult.fail(Problem.of("doctor.app_token_kind"), _APP_TOKEN_FIX)
        try:
            # Issues a connection URL without connecting: proves the token and its scope.
            await slack.apps_connections_open(app_token=app_token)
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "unknown")
            return CheckResult.fail(
                Problem.of("doctor.app_token_refused", error=error), _APP_TOKEN_FIX
            )
        except Exception as exc:  # as for auth.test: Slack did not answer
            return CheckResult.fail(
                Problem.of("doctor.slack_unreachable", error=type(exc).__name__),
                Problem.of("doctor.slack_unreachable_fix"),
            )
        return CheckResult.ok("doctor.socket_mode_ok")
    if not signing_secret:
        return CheckResult.fail(
            Problem.of("doctor.app_token_missing"), Problem.of("doctor.app_token_missing_fix")
        )
    if manifest is not None and manifest.socket_mode:
        return CheckResult.warn(
            Problem.of("doctor.http_mode_manifest_socket"),
            Problem.of("doctor.http_mode_manifest_socket_fix"),
        )
    return CheckResult.ok("doctor.http_mode_ok")
