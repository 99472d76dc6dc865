"""Links a user clicks or pastes: the console page and the tuned endpoint's REST URL."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.tuning.job import TuningJob, console_url, generate_content_url
from bot.tuning.refs import JobRef
from bot.tuning.states import JobState


@pytest.mark.parametrize(
    ("endpoint", "url"),
    [
        (
            "projects/p/locations/us-central1/endpoints/123",
            "https://us-central1-aiplatform.googleapis.com/v1/"
            "projects/p/locations/us-central1/endpoints/123:generateContent",
        ),
        (
            "projects/p/locations/europe-west4/endpoints/9",
            "https://europe-west4-aiplatform.googleapis.com/v1/"
            "projects/p/locations/europe-west4/endpoints/9:generateContent",
        ),
        (
            "projects/p/locations/us/endpoints/123",
            "https://aiplatform.us.rep.googleapis.com/v1/"
            "projects/p/locations/us/endpoints/123:generateContent",
        ),
        (
            "projects/p/locations/eu/endpoints/123",
            "https://aiplatform.eu.rep.googleapis.com/v1/"
            "projects/p/locations/eu/endpoints/123:generateContent",
        ),
        (
            "projects/p/locations/global/endpoints/123",
            "https://aiplatform.googleapis.com/v1/"
            "projects/p/locations/global/endpoints/123:generateContent",
        ),
    ],
)
def test_generate_content_url(endpoint: str, url: str) -> None:
    assert generate_content_url(endpoint) == url


def test_console_url() -> None:
    ref = JobRef("my-project", "europe-west4", "4242")
    assert console_url(ref) == (
        "https://console.cloud.google.com/vertex-ai/generative/language/locations/europe-west4/"
        "tuning/tuningJobDetail/4242/monitor?project=my-project"
    )


def test_duration_runs_until_now_then_stops_at_the_end() -> None:
    start = dt.datetime(2026, 11, 1, 10, 0, tzinfo=dt.UTC)
    now = start + dt.timedelta(hours=3)
    ref = JobRef("my-project", "us-central1", "1")
    running = TuningJob(ref, JobState.RUNNING, create_time=start)
    assert running.duration(now) == dt.timedelta(hours=3)
    ended = TuningJob(
        ref, JobState.SUCCEEDED, create_time=start, end_time=start + dt.timedelta(hours=1)
    )
    assert ended.duration(now) == dt.timedelta(hours=1)
    assert TuningJob(ref, JobState.QUEUED).duration(now) is None
    assert running.name == "projects/my-project/locations/us-central1/tuningJobs/1"
