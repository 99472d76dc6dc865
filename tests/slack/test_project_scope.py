"""The bot acts with one service account for everyone: only configured projects are reachable,
and watching a job gives no right to cancel it."""

from __future__ import annotations

import pytest

from bot.tuning.refs import JobRef
from tests.slack.conftest import CHANNEL, PROJECT, REGION, BotUnderTest

OTHER = "someone-elses-ml"


def _text(reply: dict[str, object]) -> str:
    return str(reply.get("text", "")) + str(reply.get("blocks", ""))


@pytest.mark.parametrize("verb", ["get", "watch"])
def test_a_job_of_another_project_is_refused_before_google_is_asked(
    bot: BotUnderTest, verb: str
) -> None:
    name = bot.emulator.add_job(OTHER, REGION, state="JOB_STATE_RUNNING")
    bot.command(
        f"{verb} projects/{OTHER}/locations/{REGION}/tuningJobs/{JobRef.from_name(name).job_id}"
    )
    text = _text(bot.replies()[0])
    assert f"does not act in project `{OTHER}`" in text
    assert bot.emulator.counts["get"] + bot.emulator.counts["cancel"] == 0
    refused = [e for e in bot.store.audit_entries() if e.outcome == "refused"]
    assert refused[-1].detail == "auth.project_not_allowed"


def test_cancelling_a_job_of_another_project_is_refused(bot: BotUnderTest) -> None:
    name = bot.emulator.add_job(OTHER, REGION, state="JOB_STATE_RUNNING")
    bot.command(f"cancel {name}", user="U0ADMIN01")  # even an admin: not a project of ours
    assert "does not act in project" in _text(bot.replies()[0])
    assert bot.emulator.counts["cancel"] == 0


def test_a_project_number_is_ours_only_when_google_says_so(bot: BotUnderTest) -> None:
    theirs = bot.emulator.add_job(OTHER, REGION, state="JOB_STATE_RUNNING")
    bot.command(f"watch {theirs}")  # Google's own name, by the other project's number
    assert "does not act in project" in _text(bot.replies()[0])
    assert bot.slack.calls_to("chat.postMessage") == []
    ours = bot.emulator.add_job(PROJECT, REGION, state="JOB_STATE_RUNNING")
    bot.command(f"watch {ours}", reply="r2")  # our project, by a number not seen before
    assert "now follows" in _text(bot.replies("r2")[0])


def test_watching_someone_elses_job_does_not_let_you_cancel_it(bot: BotUnderTest) -> None:
    name = bot.emulator.add_job(PROJECT, REGION, state="JOB_STATE_RUNNING")
    bot.command(f"watch {name}", user="U0MALLORY")
    assert "now follows" in _text(bot.replies()[0])
    bot.command(f"cancel {name}", user="U0MALLORY", reply="r2")
    assert "only the person who started this job from Slack" in _text(bot.replies("r2")[0])
    assert bot.emulator.counts["cancel"] == 0
    payload = {
        "type": "block_actions",
        "user": {"id": "U0MALLORY"},
        "channel": {"id": CHANNEL},
        "response_url": bot.slack.response_url("button"),
        "actions": [{"action_id": "job_cancel", "value": name, "type": "button"}],
    }
    bot.interact(payload)
    assert "only the person" in _text(bot.replies("button")[0])
    assert bot.emulator.counts["cancel"] == 0
