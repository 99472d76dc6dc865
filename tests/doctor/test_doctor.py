"""`tuning-bot doctor` against the stand-ins: all good, then one failure at a time, each a ✗
line with its fix and exit status 1; warnings alone keep 0."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.emulator import SUCCEEDED
from bot.watch.migrations import LATEST
from tests.doctor.conftest import (
    APP_TOKEN,
    BOT_TOKEN,
    BUCKET_PREFIX,
    PROJECT,
    REGION,
    TRAINED_JOB,
    Doctored,
    Installation,
    manifest_scopes,
)


def _findings(result: Doctored) -> list[str]:
    """The finding lines: neither the title, nor fixes, nor the verdict."""
    return [line for line in result.lines[1:-1] if not line.startswith("  ")]


def _set_schema_version(url: str, version: int) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE schema_version SET version = :v WHERE id = 1"), {"v": version})
    engine.dispose()


def _schema_version(url: str) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        version = conn.execute(sa.text("SELECT version FROM schema_version")).scalar_one()
    engine.dispose()
    return int(version)


def test_a_working_installation_passes_every_check(installation: Installation) -> None:
    result = installation.doctor()
    assert result.status == 0, result.out
    assert result.lines[0] == "tuning-bot doctor: checking this installation"
    findings = _findings(result)
    assert len(findings) == 9, result.out
    assert all(line.startswith("✓ ") for line in findings), result.out
    assert result.lines[-1] == "Nothing stops the bot."
    result.line("✓", "workspace Example, bot user tuning-bot")
    result.line("✓", f"all {len(manifest_scopes())} that manifest.yaml asks for are granted")
    result.line("✓", "Socket Mode: SLACK_APP_TOKEN is set and Slack accepts it")
    result.line("✓", f"schema v{LATEST}, current")
    result.line("✓", "not needed, VERTEX_EMULATOR_HOST points at an emulator")
    result.line("✓", f"emulator at {installation.emulator.host_port} answers (project {PROJECT}")
    result.line(
        "✓",
        f"Training curves: TensorBoard readable in project {PROJECT}, region {REGION} "
        f"(job {TRAINED_JOB}, 4 series)",
    )
    result.line("✓", f"Dataset bucket {BUCKET_PREFIX}: readable")
    result.line("✓", "Request budget: 60 per minute, within Google's 600")


def test_the_doctor_reads_with_the_bots_own_clients(installation: Installation) -> None:
    installation.doctor()
    # One auth.test with the bot token, one apps.connections.open with the app-level token.
    assert [c.token for c in installation.slack.calls_to("auth.test")] == [BOT_TOKEN]
    assert [c.token for c in installation.slack.calls_to("apps.connections.open")] == [APP_TOKEN]
    # One tuningJobs.list, then the trained job's chain to its curves without their points.
    assert dict(installation.emulator.emulator.counts) == {
        "list": 1,
        "experiment": 1,
        "tensorboard_runs": 1,
        "tensorboard_series": 1,
    }
    # One objects.list of at most one object under the prefix.
    (listing,) = [r for r in installation.gcs.requests if r.path.endswith("/o")]
    assert listing.path == "/storage/v1/b/team-data/o"
    assert listing.query["prefix"] == "sets"
    assert listing.query["maxResults"] == "1"


def test_an_invalid_bot_token_is_a_failure_with_its_fix(installation: Installation) -> None:
    installation.env["SLACK_BOT_TOKEN"] = "xoxb-revoked-token-0000"
    result = installation.doctor()
    assert result.status == 1
    line = result.line("✗", "Slack refused the bot token: invalid_auth")
    assert "Bot User OAuth Token" in result.fix_after(line)
    assert "OAuth & Permissions" in result.fix_after(line)
    # Scopes cannot be read without a working token: said, not failed twice.
    result.line("-", "Bot scopes not checked: the bot token does not work")


def test_a_missing_scope_is_named_with_the_fix(installation: Installation) -> None:
    installation.slack.granted_scopes = tuple(s for s in manifest_scopes() if s != "users:read")
    result = installation.doctor()
    assert result.status == 1
    line = result.line("✗", "Bot scopes missing: users:read")
    fix = result.fix_after(line)
    assert fix.startswith("fix: add users:read in the app's OAuth & Permissions")
    assert "reinstall the app" in fix


def test_every_scope_the_manifest_asks_for_is_checked(installation: Installation) -> None:
    # Whatever the manifest lists now: each one missing on its own is reported by name.
    for scope in manifest_scopes():
        installation.slack.granted_scopes = tuple(s for s in manifest_scopes() if s != scope)
        result = installation.doctor()
        assert result.status == 1
        result.line("✗", f"Bot scopes missing: {scope}")


def test_a_missing_app_token_is_a_failure_with_its_fix(installation: Installation) -> None:
    del installation.env["SLACK_APP_TOKEN"]
    result = installation.doctor()
    assert result.status == 1
    line = result.line("✗", "Socket Mode: SLACK_APP_TOKEN is not set")
    fix = result.fix_after(line)
    assert "App-Level Tokens" in fix
    assert "connections:write" in fix
    assert "SLACK_SIGNING_SECRET" in fix


def test_an_app_token_of_the_wrong_kind_is_a_failure(installation: Installation) -> None:
    installation.env["SLACK_APP_TOKEN"] = BOT_TOKEN
    result = installation.doctor()
    assert result.status == 1
    result.line("✗", "SLACK_APP_TOKEN is not an app-level token")


def test_http_mode_against_a_socket_mode_manifest_is_a_warning(
    installation: Installation,
) -> None:
    del installation.env["SLACK_APP_TOKEN"]
    installation.env["SLACK_SIGNING_SECRET"] = "doctor-signing-secret-3e8a1f0c5b7d"
    result = installation.doctor()
    assert result.status == 0, result.out
    line = result.line("!", "manifest.yaml turns Socket Mode on")
    assert "socket_mode_enabled: false" in result.fix_after(line)


def test_a_database_newer_than_the_code_is_a_failure(installation: Installation) -> None:
    _set_schema_version(installation.database_url, LATEST + 1)
    result = installation.doctor()
    assert result.status == 1
    line = result.line("✗", f"schema v{LATEST + 1} is newer than this release")
    assert "DATABASE_URL" in result.fix_after(line)


def test_an_older_schema_is_reported_and_left_alone(installation: Installation) -> None:
    _set_schema_version(installation.database_url, LATEST - 1)
    result = installation.doctor()
    assert result.status == 0, result.out
    result.line("!", f"will be upgraded from v{LATEST - 1} to v{LATEST} at start")
    assert _schema_version(installation.database_url) == LATEST - 1


def test_a_database_not_created_yet_is_not_created_by_the_doctor(
    installation: Installation, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/fresh.db"
    installation.env["DATABASE_URL"] = url
    result = installation.doctor()
    assert result.status == 0, result.out
    result.line("✓", f"empty; the bot creates its tables (schema v{LATEST}) at start")
    assert not (tmp_path / "fresh.db").exists()


def test_a_vertex_permission_error_shows_googles_reason(installation: Installation) -> None:
    reason = "Permission 'aiplatform.tuningJobs.list' denied on resource"
    installation.emulator.emulator.inject(
        "list", 403, message=reason, google_status="PERMISSION_DENIED"
    )
    result = installation.doctor()
    assert result.status == 1
    line = result.line("✗", "Google answered 403 PERMISSION_DENIED")
    assert reason in line
    assert "roles/aiplatform.user" in result.fix_after(line)
    result.line("-", "Training curves: not checked, Vertex AI tuning does not answer")


def test_a_vertex_quota_answer_is_reported_at_once(installation: Installation) -> None:
    installation.emulator.emulator.inject("list", 429, times=10, message="Quota exceeded")
    result = installation.doctor()
    assert result.status == 1
    line = result.line("✗", "Google answered 429 RESOURCE_EXHAUSTED: Quota exceeded")
    assert "VERTEX_REQUESTS_PER_MINUTE" in result.fix_after(line)
    assert installation.emulator.emulator.counts["list"] == 1  # no backoff, no retries


def test_an_unreadable_bucket_is_a_failure_with_its_fix(installation: Installation) -> None:
    installation.gcs.forbid_bucket("team-data")
    result = installation.doctor()
    assert result.status == 1
    line = result.line("✗", f"Dataset bucket {BUCKET_PREFIX}: the bot may not list it")
    assert "`roles/storage.objectViewer` on gs://team-data" in result.fix_after(line)


def test_a_bucket_that_does_not_exist_is_a_failure(installation: Installation) -> None:
    installation.env["TUNING_ALLOWED_BUCKETS"] = f"{BUCKET_PREFIX},gs://no-such-bucket"
    result = installation.doctor()
    assert result.status == 1
    result.line("✓", f"Dataset bucket {BUCKET_PREFIX}: readable")
    result.line("✗", "Dataset bucket gs://no-such-bucket: the bucket does not exist")


def test_a_setting_that_does_not_parse_is_one_failure(installation: Installation) -> None:
    installation.env["TUNING_REGION"] = "Mars"
    result = installation.doctor()
    assert result.status == 1
    result.line("✗", "Settings: TUNING_REGION: expected a region such as us-central1")


def test_japanese_with_lang(installation: Installation) -> None:
    installation.env["LANG"] = "ja_JP.UTF-8"
    installation.slack.granted_scopes = ("commands",)
    result = installation.doctor()
    assert result.status == 1
    assert result.lines[0] == "tuning-bot doctor：インストールを確認しています"
    line = result.line("✗", "不足しているボットのスコープ：")
    assert "chat:write" in line
    assert result.fix_after(line).startswith("対処：アプリの OAuth & Permissions")
    result.line("✓", "データベース")
    assert "上の 1 件の問題でボットが動きません" in result.lines[-1]


def test_japanese_with_the_option(installation: Installation) -> None:
    result = installation.doctor("--lang", "ja")
    assert result.status == 0, result.out
    assert result.lines[-1] == "ボットの動作を妨げる問題はありません。"
    assert all(line.startswith("✓ ") for line in _findings(result)), result.out


def test_a_vertex_not_found_answer_points_at_project_and_region(
    installation: Installation,
) -> None:
    installation.emulator.emulator.inject(
        "list", 404, message="Location europe-north9 is not found.", google_status="NOT_FOUND"
    )
    result = installation.doctor()
    assert result.status == 1
    line = result.line("✗", "Google answered 404 NOT_FOUND: Location europe-north9 is not found.")
    assert "GOOGLE_CLOUD_PROJECT and TUNING_REGION" in result.fix_after(line)


def test_a_user_token_in_place_of_the_bot_token_is_refused(installation: Installation) -> None:
    installation.env["SLACK_BOT_TOKEN"] = "xoxp-a-user-token-1234"
    result = installation.doctor()
    assert result.status == 1
    line = result.line("✗", "SLACK_BOT_TOKEN is not a bot token")
    assert "xoxp-a-user-token" not in result.out
    assert "Bot User OAuth Token" in result.fix_after(line)
    assert installation.slack.calls_to("auth.test") == []  # never sent anywhere


def test_credentials_are_looked_up_when_a_bucket_needs_them(
    installation: Installation, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Vertex is emulated but Cloud Storage is Google's: the bot needs its own credentials.
    # google-auth reads its variable from the process environment, as the bot's start-up does.
    del installation.env["STORAGE_EMULATOR_HOST"]
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "no-such-key.json"))
    result = installation.doctor()
    assert result.status == 1
    line = result.line("✗", "Google credentials: none found (DefaultCredentialsError)")
    assert "gcloud auth application-default login" in result.fix_after(line)
    result.line("✗", f"Dataset bucket {BUCKET_PREFIX}: not checked, no Google credentials")
    assert installation.gcs.requests == []


def test_a_sqlite_file_in_a_missing_directory_is_a_failure(
    installation: Installation, tmp_path: Path
) -> None:
    installation.env["DATABASE_URL"] = f"sqlite:///{tmp_path}/gone/watch.db"
    result = installation.doctor()
    assert result.status == 1
    line = result.line("✗", f"the directory {tmp_path}/gone does not exist")
    assert "DATABASE_URL" in result.fix_after(line)
    assert not (tmp_path / "gone").exists()


def test_a_tensorboard_refusal_is_a_warning_that_says_what_is_lost(
    installation: Installation,
) -> None:
    reason = "Permission 'aiplatform.tensorboardRuns.list' denied on resource"
    installation.emulator.emulator.inject(
        "tensorboard", 403, message=reason, google_status="PERMISSION_DENIED"
    )
    result = installation.doctor()
    assert result.status == 0, result.out  # jobs still run: nothing stops the bot
    line = result.line("!", "Training curves in project test-project, region us-central1")
    assert f"Google answered 403 PERMISSION_DENIED: {reason}" in line
    assert "cards show no progress and `/tune chart` draws nothing" in line
    assert "`roles/aiplatform.viewer` (or `roles/aiplatform.user`) in test-project" in (
        result.fix_after(line)
    )


def test_a_tensorboard_refusal_in_japanese(installation: Installation) -> None:
    installation.emulator.emulator.inject("tensorboard", 403, google_status="PERMISSION_DENIED")
    result = installation.doctor("--lang", "ja")
    assert result.status == 0, result.out
    line = result.line("!", "学習曲線（プロジェクト test-project、リージョン us-central1）")
    assert "403 PERMISSION_DENIED" in line
    assert "`/tune chart` はグラフを描けません" in line
    assert "`roles/aiplatform.viewer`（または `roles/aiplatform.user`）を付与" in result.fix_after(
        line
    )


def test_a_newer_job_without_a_run_yet_is_passed_over(installation: Installation) -> None:
    emulator = installation.emulator.emulator
    starting = emulator.add_job(PROJECT, REGION, display_name="starting-now", state=SUCCEEDED)
    emulator.set_curves(starting, runs=False)  # its TensorBoard has no run to read yet
    result = installation.doctor()
    assert result.status == 0, result.out
    result.line("✓", f"(job {TRAINED_JOB}, 4 series)")
    assert emulator.counts["tensorboard_runs"] == 2


def test_no_job_that_has_trained_means_nothing_to_check(installation: Installation) -> None:
    emulator = installation.emulator.emulator
    emulator.reset()
    result = installation.doctor()
    assert result.status == 0, result.out
    result.line(
        "-",
        f"Training curves: not checked, no recent job in project {PROJECT}, region {REGION} "
        "has started training",
    )
    assert "experiment" not in emulator.counts


def test_jobs_that_have_recorded_nothing_are_said_to_be_so(installation: Installation) -> None:
    emulator = installation.emulator.emulator
    emulator.reset()
    for _ in range(5):
        emulator.set_curves(emulator.add_job(PROJECT, REGION, state=SUCCEEDED), runs=False)
    result = installation.doctor()
    assert result.status == 0, result.out
    result.line("-", "the 3 newest jobs in project test-project, region us-central1 have recorded")
    assert emulator.counts["tensorboard_runs"] == 3  # a few, not every job listed
