"""The Home tab as a user sees it, within Slack's limits for a Home view."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from slack_sdk.models.views import View

from bot.handlers.home import Home, HomeJob
from bot.slack import ids
from bot.slack.messages.home import home_channel, home_view
from bot.tuning.job import TuningJob
from bot.tuning.problems import Problem
from bot.tuning.refs import JobRef, Location
from bot.tuning.states import JobState

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
WHERE = Location("test-project", "us-central1")
LONG = "<!channel> " + "名前" * 400


def _job(i: int, state: JobState, name: str | None = "support-bot") -> TuningJob:
    return TuningJob(
        ref=JobRef("test-project", "us-central1", str(1000 + i)),
        state=state,
        base_model="gemini-3.5-flash",
        display_name=name,
        create_time=NOW - dt.timedelta(hours=1, minutes=5),
        end_time=NOW if state.has_ended else None,
    )


def _entry(i: int, state: JobState, **kw: Any) -> HomeJob:
    job = _job(i, state, kw.pop("display_name", "support-bot"))
    return HomeJob(job.name, state, job.display_name, job, **kw)


def _texts(view: dict[str, Any]) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def _mrkdwn(value: Any) -> str:
    """Every mrkdwn text in the view: where `<!channel>` would ping (plain text never does)."""
    if isinstance(value, dict):
        own = value["text"] if value.get("type") == "mrkdwn" else ""
        return own + "".join(_mrkdwn(v) for v in value.values())
    if isinstance(value, list):
        return "".join(_mrkdwn(v) for v in value)
    return ""


def _action_ids(view: dict[str, Any]) -> list[str]:
    found = []
    for block in view["blocks"]:
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if "action_id" in element:
                found.append(element["action_id"])
    return found


def _valid(view: dict[str, Any]) -> None:
    View(**view).validate_json()  # slack_sdk's own checks: 100 blocks, text lengths
    assert len(view["blocks"]) <= 100
    assert len(json.dumps(view)) < 250_000  # views.publish refuses larger views


@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_home_shows_my_jobs_and_the_teams_with_their_buttons(language: str) -> None:
    home = Home(
        "U0ALICE01",
        WHERE,
        can_create=True,
        active=(_entry(1, JobState.RUNNING, can_cancel=True),),
        ended=(_entry(2, JobState.SUCCEEDED),),
        team=(_job(3, JobState.PENDING, "teammate-run"),),
    )
    view = home_view(home, language=language, channel_id="D0ALICE01")
    _valid(view)
    text = _texts(view)
    assert view["type"] == "home"
    assert home_channel(view) == "D0ALICE01"
    assert "support-bot" in text
    assert "teammate-run" in text
    assert "gemini-3.5-flash" in text
    created = int((NOW - dt.timedelta(hours=1, minutes=5)).timestamp())
    assert f"<!date^{created}^" in text  # rendered by each reader's client, never stale
    took = "1h 05m" if language == "en" else "1時間05分"
    assert text.count(took) == 1  # the ended job only: a running one has no duration yet
    assert _action_ids(view) == [
        ids.HOME_NEW_JOB,
        ids.HOME_JOB_GET,
        ids.CARD_CANCEL,
        ids.HOME_JOB_GET,
        ids.HOME_JOB_GET,
    ]
    cancel = next(
        e
        for b in view["blocks"]
        for e in b.get("elements", [])
        if e.get("action_id") == ids.CARD_CANCEL
    )
    assert cancel["value"] == _job(1, JobState.RUNNING).name
    assert cancel["confirm"]["style"] == "danger"
    if language == "ja":
        assert "自分のジョブ" in text
        assert "新しいチューニング ジョブ" in text
    else:
        assert "My jobs" in text
        assert "New tuning job" in text


def test_no_cancel_without_the_right_and_no_new_job_where_the_user_may_not_create() -> None:
    home = Home("U0ALICE01", WHERE, active=(_entry(1, JobState.RUNNING),))
    view = home_view(home, language="en", channel_id="D0ALICE01")
    assert _action_ids(view) == [ids.HOME_JOB_GET]


def test_names_are_shown_as_typed_and_cannot_ping_anyone() -> None:
    home = Home(
        "U0ALICE01",
        WHERE,
        active=(_entry(1, JobState.RUNNING, display_name=LONG, can_cancel=True),),
        team=(_job(2, JobState.RUNNING, LONG),),
    )
    view = home_view(home, language="en", channel_id="D0ALICE01")
    _valid(view)
    assert "<!channel>" not in _mrkdwn(view["blocks"])
    assert "&lt;!channel&gt;" in _mrkdwn(view["blocks"])


@pytest.mark.parametrize("language", ["en", "ja"])
def test_many_jobs_stay_within_a_hundred_blocks(language: str) -> None:
    home = Home(
        "U0ALICE01",
        WHERE,
        can_create=True,
        active=tuple(
            _entry(i, JobState.RUNNING, display_name=LONG, can_cancel=True) for i in range(20)
        ),
        ended=tuple(_entry(100 + i, JobState.FAILED, display_name=LONG) for i in range(10)),
        team=tuple(_job(200 + i, JobState.RUNNING, LONG) for i in range(25)),
        team_more=True,
    )
    view = home_view(home, language=language, channel_id="D0ALICE01")
    _valid(view)
    more = "/tune list active"
    assert more in _texts(view)  # what did not fit is a command away


@pytest.mark.parametrize("language", ["en", "ja"])
def test_a_refused_user_sees_why_and_nothing_else(language: str) -> None:
    home = Home("U0MALLORY", WHERE, refusal=Problem.of("auth.user_not_allowed"))
    view = home_view(home, language=language, channel_id="D0MALLORY")
    _valid(view)
    assert _action_ids(view) == []
    assert "TUNING_ALLOWED_USERS" in _texts(view)
    assert "tuningJobs" not in _texts(view)


def test_an_empty_home_says_how_to_start() -> None:
    view = home_view(Home("U0ALICE01", WHERE, can_create=True), language="en", channel_id="D1")
    text = _texts(view)
    assert "Nothing yet" in text
    assert "No active job in this project" in text
