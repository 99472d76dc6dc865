"""`tuning-bot check-dataset` run as a real process: output and exit status."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.datasets.conftest import gemini_example, jsonl
from tests.fakes.gcs import FakeGcs

pytestmark = pytest.mark.slow


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "STORAGE_EMULATOR_HOST"}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", "check-dataset", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )


def test_good_local_file_exits_zero_and_prints_totals(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_bytes(jsonl(*[gemini_example()] * 120))
    result = _run(str(path), "--model", "gemini-2.5-flash", "--epochs", "2")
    assert result.returncode == 0, result.stderr
    assert "No problems found." in result.stdout
    assert "Checked against the limits of Gemini 2.5 Flash." in result.stdout
    assert "120 examples" in result.stdout
    assert "billable tokens over 2 epoch(s)" in result.stdout


def test_file_with_errors_exits_one_and_names_the_lines(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_bytes(jsonl(*[gemini_example()] * 120) + b"{broken\n")
    result = _run(str(path), "--lang", "ja")
    assert result.returncode == 1
    assert "121 行目: JSON として正しくありません" in result.stdout


def test_warnings_alone_exit_zero(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_bytes(jsonl(*[gemini_example()] * 10))
    result = _run(str(path))
    assert result.returncode == 0
    assert "Google recommends 100 to 500" in result.stdout


def test_cloud_storage_object_through_the_emulator(fake_gcs: FakeGcs) -> None:
    fake_gcs.put("team-data", "val.jsonl", jsonl(*[gemini_example()] * 300))
    env = {"STORAGE_EMULATOR_HOST": fake_gcs.base_url}
    result = _run(
        "gs://team-data/val.jsonl", "--model", "gemini-1.5-pro-002", "--validation", env=env
    )
    assert result.returncode == 1
    assert "300 validation examples; Gemini 1.5 Pro" in result.stdout
    missing = _run("gs://team-data/none.jsonl", env=env)
    assert missing.returncode == 1
    assert "gs://team-data/none.jsonl does not exist" in missing.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x.jsonl", "--model", "gpt-4"], "`gpt-4` is not a model this bot knows"),
        (["gs://ab/x.jsonl"], "Bucket name `ab` must be 3 to 63 characters"),
        (["https://example.com/x.jsonl"], "is not a Cloud Storage URI"),
        (["x.jsonl", "--epochs", "0"], "must be 1 or more"),
        ([], "PATH_OR_GS_URI"),
    ],
)
def test_usage_errors_exit_two(args: list[str], message: str) -> None:
    result = _run(*args)
    assert result.returncode == 2
    assert message in result.stderr


def test_missing_google_credentials_exit_two_with_what_to_do(tmp_path: Path) -> None:
    env = {"GOOGLE_APPLICATION_CREDENTIALS": str(tmp_path / "missing.json")}
    result = _run("gs://team-data/train.jsonl", env=env)
    assert result.returncode == 2
    assert "gcloud auth application-default login" in result.stderr


def test_an_object_the_bot_may_not_read_fails_the_pipeline_with_the_role_to_grant(
    fake_gcs: FakeGcs,
) -> None:
    fake_gcs.put("team-data", "secret.jsonl", jsonl(*[gemini_example()] * 120))
    fake_gcs.forbid("team-data", "secret.jsonl")
    result = _run("gs://team-data/secret.jsonl", env={"STORAGE_EMULATOR_HOST": fake_gcs.base_url})
    assert result.returncode == 1
    assert "Not checked" in result.stdout
    assert "roles/storage.objectViewer" in result.stdout
