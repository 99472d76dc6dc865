"""The checks' pure parts: verdicts, header parsing, credential kinds, the report's layout."""

from __future__ import annotations

from pathlib import Path

import pytest
from google.auth import compute_engine
from google.oauth2 import credentials as user_credentials
from google.oauth2 import service_account

from bot.doctor.budget import check_budget
from bot.doctor.database import SchemaFound, schema_verdict
from bot.doctor.google import describe_credentials
from bot.doctor.manifest import ManifestUnreadable, missing_scopes, read_manifest
from bot.doctor.report import report_lines
from bot.doctor.results import CheckResult, Status, exit_status
from bot.doctor.slack import granted_scopes
from bot.tuning.problems import Problem
from tests.doctor.conftest import MANIFEST


@pytest.mark.parametrize(
    ("rate", "status"), [(1, Status.OK), (60, Status.OK), (599, Status.OK), (600, Status.WARN)]
)
def test_the_budget_is_compared_with_googles_quota(rate: int, status: Status) -> None:
    assert check_budget(rate).status is status


def test_a_budget_above_the_quota_is_a_warning_not_a_failure() -> None:
    result = check_budget(900)
    assert result.status is Status.WARN
    assert result.message.key == "doctor.budget_above"
    assert exit_status([result]) == 0


@pytest.mark.parametrize(
    ("headers", "scopes"),
    [
        ({"x-oauth-scopes": "commands,chat:write"}, ("commands", "chat:write")),
        ({"X-OAuth-Scopes": "commands, users:read"}, ("commands", "users:read")),
        ({"x-oauth-scopes": ""}, ()),
        ({"content-type": "application/json"}, None),
        (None, None),
    ],
)
def test_granted_scopes_come_from_the_header(
    headers: dict[str, str] | None, scopes: tuple[str, ...] | None
) -> None:
    assert granted_scopes(headers) == scopes


def test_missing_scopes_keep_the_manifests_order() -> None:
    assert missing_scopes(["a", "b", "c"], ["b"]) == ["a", "c"]


def test_the_manifest_is_read_for_scopes_and_mode() -> None:
    manifest = read_manifest(MANIFEST)
    assert "commands" in manifest.bot_scopes
    assert manifest.socket_mode is True


def test_a_manifest_without_scopes_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "manifest.yaml"
    path.write_text("oauth_config:\n  scopes:\n    bot: commands\n")
    with pytest.raises(ManifestUnreadable):
        read_manifest(path)


@pytest.mark.parametrize(
    ("found", "status", "key"),
    [
        (SchemaFound(0, exists=False), Status.OK, "doctor.db_new"),
        (SchemaFound(3), Status.WARN, "doctor.db_upgrade"),
        (SchemaFound(5), Status.OK, "doctor.db_ok"),
        (SchemaFound(6), Status.FAIL, "doctor.db_too_new"),
    ],
)
def test_schema_verdicts(found: SchemaFound, status: Status, key: str) -> None:
    result = schema_verdict("sqlite:///watch.db", found, latest=5)
    assert (result.status, result.message.key) == (status, key)


def test_a_database_password_is_never_shown() -> None:
    url = "postgresql+psycopg://bot:s3cret-pw@db.internal/tuning"
    result = schema_verdict(url, SchemaFound(9), latest=5)
    assert "s3cret-pw" not in "\n".join(report_lines([result], "en"))


def test_a_service_account_key_names_its_account() -> None:
    found = service_account.Credentials(
        signer=None,
        service_account_email="tuning-bot@acme-ml.iam.gserviceaccount.com",
        token_uri="https://oauth2.googleapis.com/token",
    )
    result = describe_credentials(found)
    assert result.message == Problem.of(
        "doctor.credentials_service_account", account="tuning-bot@acme-ml.iam.gserviceaccount.com"
    )


def test_the_metadata_server_is_workload_identity() -> None:
    result = describe_credentials(compute_engine.Credentials())
    assert result.message == Problem.of("doctor.credentials_metadata", account="default")


def test_gcloud_user_credentials_are_named_as_such() -> None:
    result = describe_credentials(user_credentials.Credentials(token=None))
    assert result.message.key in ("doctor.credentials_user", "doctor.credentials_user_unnamed")


def test_the_report_marks_each_line_and_shows_fixes_of_problems_only() -> None:
    results = [
        CheckResult.ok("doctor.socket_mode_ok"),
        CheckResult.warn(Problem.of("doctor.scopes_unknown")),
        CheckResult.fail(
            Problem.of("doctor.bot_token_missing"), Problem.of("doctor.bot_token_fix")
        ),
        CheckResult.skip("doctor.buckets_any"),
    ]
    lines = report_lines(results, "en")
    assert [line[:2] for line in lines[1:-1]] == ["✓ ", "! ", "✗ ", "  ", "- "]
    assert lines[4].startswith("  fix: copy the Bot User OAuth Token")
    assert exit_status(results) == 1
    assert exit_status(results[:2]) == 0
