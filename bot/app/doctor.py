"""`tuning-bot doctor [--lang en|ja] [--manifest PATH] [--with-emulator]`: builds the clients
the bot would use and runs the checks of `bot.doctor` with them.

Exit status: 0 when nothing found stops the bot (warnings allowed), 1 when something does,
2 when the command line itself is wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx
from slack_sdk.web.async_client import AsyncWebClient

from bot.app.wiring import google_http, register_secrets, tuning_client
from bot.config import ConfigError, Settings, load_settings
from bot.datasets.sources import DatasetOpener
from bot.doctor.budget import check_budget
from bot.doctor.curves import check_curves
from bot.doctor.database import check_database
from bot.doctor.google import (
    CredentialsFinder,
    check_buckets,
    check_credentials,
    check_vertex,
    default_credentials,
)
from bot.doctor.manifest import AppManifest, ManifestUnreadable, find_manifest, read_manifest
from bot.doctor.report import report_lines
from bot.doctor.results import CheckResult, Status, exit_status
from bot.doctor.slack import check_bot_token, check_mode, check_scopes
from bot.i18n import language_for
from bot.tuning.problems import Problem
from bot.vertex.auth import GoogleAuth
from bot.vertex.retry import RetryPolicy

_SLACK_TIMEOUT = 15
# One attempt: the doctor reports Google's answer as it is, rather than waiting out backoff.
_ONE_TRY = RetryPolicy(max_attempts=1)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tuning-bot doctor",
        description="Check this installation: Slack, the database, Google; say how to fix it.",
    )
    parser.add_argument(
        "--lang", choices=("en", "ja"), help="report language (default: from LC_ALL or LANG)"
    )
    parser.add_argument(
        "--manifest",
        type=Path,
        help="the app's manifest.yaml (default: ./manifest.yaml, else the bot's own)",
    )
    parser.add_argument(
        "--with-emulator", action="store_true", help="check as `tuning-bot --with-emulator` runs"
    )
    return parser


def _manifest(explicit: Path | None) -> tuple[AppManifest | None, str | None]:
    path = find_manifest(explicit)
    if path is None:
        return None, "manifest.yaml"
    try:
        return read_manifest(path), None
    except ManifestUnreadable as exc:
        return None, f"{path.name}: {exc}"


async def run_checks(
    settings: Settings,
    manifest: AppManifest | None,
    manifest_problem: str | None = None,
    *,
    find_credentials: CredentialsFinder = default_credentials,
) -> list[CheckResult]:
    """Every check, in the order an installer fixes things: Slack, database, Google."""
    results: list[CheckResult] = []
    if settings.with_emulator:
        results.append(
            CheckResult.warn(
                Problem.of("doctor.with_emulator_on"), Problem.of("doctor.with_emulator_fix")
            )
        )
    slack = AsyncWebClient(
        token=settings.slack_bot_token or None,
        base_url=settings.slack_api_url,
        timeout=_SLACK_TIMEOUT,
    )
    token = await check_bot_token(slack, settings.slack_bot_token)
    results += [token.result, check_scopes(manifest, manifest_problem, token)]
    app_slack = AsyncWebClient(base_url=settings.slack_api_url, timeout=_SLACK_TIMEOUT)
    results.append(
        await check_mode(
            app_slack, settings.slack_app_token, settings.slack_signing_secret, manifest
        )
    )
    results.append(await asyncio.to_thread(check_database, settings.database_url))
    emulator = settings.vertex_emulator_host is not None
    storage_auth = None if settings.storage_emulator_host else GoogleAuth()
    results.append(
        await check_credentials(
            find_credentials,
            emulator=emulator,
            built_in=settings.with_emulator,
            storage_needs_them=bool(settings.allowed_buckets) and storage_auth is not None,
        )
    )
    http, built_in = google_http(settings, timeout=httpx.Timeout(20.0, connect=10.0))
    try:
        client = tuning_client(settings, http, retry=_ONE_TRY)
        vertex, recent = await check_vertex(
            client,
            settings.default_location,
            settings.vertex_emulator_host,
            built_in=settings.with_emulator,
        )
        results.append(vertex)
        if vertex.status is Status.OK:
            results.append(await check_curves(client, recent, settings.default_location))
        else:
            results.append(CheckResult.skip("doctor.curves_skipped"))
        opener = DatasetOpener(http, storage_auth, settings.storage_emulator_host)
        results += await check_buckets(opener, settings.allowed_buckets)
    finally:
        await http.aclose()
        if built_in is not None:
            built_in.stop()
    results.append(check_budget(settings.vertex_requests_per_minute))
    return results


def main(
    argv: Sequence[str],
    environ: Mapping[str, str] | None = None,
    *,
    dotenv: Path | None = Path(".env"),
    find_credentials: CredentialsFinder = default_credentials,
) -> int:
    """Run every check, print the report, return the exit status."""
    try:
        args = _parser().parse_args(list(argv))
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 for --help
        return int(exc.code or 0)
    env = os.environ if environ is None else environ
    language = args.lang or language_for(env.get("LC_ALL") or env.get("LANG"))
    try:
        settings = load_settings(
            environ, require_slack=False, dotenv=dotenv, with_emulator=args.with_emulator
        )
    except ConfigError as exc:
        # Without settings no other check can run; the message names the variable, not a value.
        result = CheckResult.fail(
            Problem.of("doctor.config_invalid", error=str(exc)), Problem.of("doctor.config_fix")
        )
        print("\n".join(report_lines([result], language)))
        return 1
    register_secrets(settings)
    manifest, problem = _manifest(args.manifest)
    results = asyncio.run(
        run_checks(settings, manifest, problem, find_credentials=find_credentials)
    )
    print("\n".join(report_lines(results, language)), flush=True)
    return exit_status(results)
