"""The `tuning-bot` command as an operator meets it: help, a typo, a missing setting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Variables the bot reads; a developer's own values must not leak into these runs.
BOT_VARIABLES = (
    "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_API_URL",
    "GOOGLE_CLOUD_PROJECT", "TUNING_REGION", "VERTEX_EMULATOR_HOST", "STORAGE_EMULATOR_HOST",
    "DATABASE_URL", "POLL_INTERVAL_SECONDS", "PORT", "TUNING_ADMINS", "TUNING_ALLOWED_USERS",
    "TUNING_ALLOWED_CHANNELS", "TUNING_ALLOWED_BUCKETS", "LOG_LEVEL",
)  # fmt: skip


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS` in an empty directory (so no `.env` is picked up)."""
    clean = {k: v for k, v in os.environ.items() if k not in BOT_VARIABLES}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("args", [["--help"], ["-h"], ["help"], ["run", "--help"]])
def test_help_exits_0_with_usage(args: list[str], tmp_path: Path) -> None:
    result = run(args, tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("usage: tuning-bot")
    for command in ("emulator", "check-dataset", "doctor", "--with-emulator"):
        assert command in result.stdout
    assert result.stderr == ""


def test_an_unknown_command_exits_2_and_shows_usage(tmp_path: Path) -> None:
    result = run(["frobnicate"], tmp_path)
    assert result.returncode == 2
    assert "unknown command 'frobnicate'" in result.stderr
    assert "usage: tuning-bot" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_bot_token_is_one_line_on_stderr(tmp_path: Path) -> None:
    result = run(
        [],
        tmp_path,
        SLACK_SIGNING_SECRET="8f14e45fceea167a5a36dedd4bea2543",
        GOOGLE_CLOUD_PROJECT="my-project",
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "SLACK_BOT_TOKEN" in lines[0]


@pytest.mark.parametrize("command", [["watcher"], None])
def test_the_watcher_alone_needs_only_a_bot_token(
    command: list[str] | None, tmp_path: Path
) -> None:
    # `tuning-bot watcher` and its earlier name `python -m bot.watch` are one process.
    env = {"GOOGLE_CLOUD_PROJECT": "my-project", "SLACK_BOT_TOKEN": "xoxp-a-user-token"}
    if command is None:
        clean = {k: v for k, v in os.environ.items() if k not in BOT_VARIABLES}
        result = subprocess.run(
            [sys.executable, "-m", "bot.watch"],
            cwd=tmp_path,
            env={**clean, **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    else:
        result = run(command, tmp_path, **env)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "tuning-bot watcher: SLACK_BOT_TOKEN: must be a bot token starting with xoxb-"
    )


def test_the_watcher_refuses_arguments_it_does_not_take(tmp_path: Path) -> None:
    result = run(["watcher", "--port", "3000"], tmp_path, SLACK_BOT_TOKEN="xoxb-1")
    assert result.returncode == 2
    assert "unexpected arguments '--port 3000'" in result.stderr


def test_the_console_script_is_installed_and_runs(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("tuning-bot")
    if not script.exists():
        pytest.skip("the package is not installed with its console script in this environment")
    result = subprocess.run(
        [str(script), "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout.startswith("usage: tuning-bot")
