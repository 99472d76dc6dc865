"""TUNING_ALLOWED_PROJECTS opens more projects than the configured one."""

from __future__ import annotations

import pytest

from tests.slack.conftest import REGION, BotUnderTest

OTHER = "research-ml"


@pytest.fixture
def env_extra() -> dict[str, str]:
    return {"TUNING_ALLOWED_PROJECTS": OTHER}


def test_a_job_of_an_allowed_project_can_be_read(bot: BotUnderTest) -> None:
    name = bot.emulator.add_job(OTHER, REGION, display_name="theirs", state="JOB_STATE_RUNNING")
    job_id = name.rsplit("/", 1)[-1]
    bot.command(f"get projects/{OTHER}/locations/{REGION}/tuningJobs/{job_id}")
    assert "theirs" in str(bot.replies()[0])
    bot.command(f"get {name}", reply="r2")  # and by Google's name, once the number is known
    assert "theirs" in str(bot.replies("r2")[0])
