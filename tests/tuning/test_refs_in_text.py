"""Finding a tuning job in a message: its console page, its resource name or its number."""

from __future__ import annotations

import pytest

from bot.tuning.job import console_url
from bot.tuning.refs import JobRef, Location, console_job_ref, find_job_ref

HOME = Location("my-project", "us-central1")
JOB = JobRef("other-project", "europe-west4", "1234567890123456789")
CONSOLE = console_url(JOB)


def test_the_bots_own_console_links_read_back_as_the_job() -> None:
    assert console_job_ref(CONSOLE, HOME) == JOB
    number = JobRef("123456789012", "us-central1", "42")
    assert console_job_ref(console_url(number), HOME) == number


@pytest.mark.parametrize(
    "url",
    [
        # Other tabs of the job's page, and extra query parameters in any order.
        "https://console.cloud.google.com/vertex-ai/generative/language/locations/europe-west4/"
        "tuning/tuningJobDetail/1234567890123456789/dataset?authuser=1&project=other-project",
        "https://console.cloud.google.com/vertex-ai/generative/language/locations/europe-west4/"
        "tuning/tuningJobDetail/1234567890123456789?project=other-project",
        # As Slack writes it inside a message: `&` escaped.
        "https://console.cloud.google.com/vertex-ai/generative/language/locations/europe-west4/"
        "tuning/tuningJobDetail/1234567890123456789/monitor?authuser=0&amp;project=other-project",
    ],
)
def test_other_forms_of_the_console_page(url: str) -> None:
    assert console_job_ref(url, HOME) == JOB


def test_a_console_page_without_a_project_is_read_in_the_default_project() -> None:
    url = (
        "https://console.cloud.google.com/vertex-ai/generative/language/locations/us-east1/"
        "tuning/tuningJobDetail/77/monitor"
    )
    assert console_job_ref(url, HOME) == JobRef("my-project", "us-east1", "77")


@pytest.mark.parametrize(
    "url",
    [
        "https://console.cloud.google.com/vertex-ai/models/locations/us-central1/models/7?project=p1234",
        "https://console.cloud.google.com/vertex-ai/generative/language/locations/us-central1/"
        "tuning?project=my-project",
        "https://evil.example.com/vertex-ai/generative/language/locations/us-central1/"
        "tuning/tuningJobDetail/77/monitor?project=my-project",
        "http://console.cloud.google.com/vertex-ai/generative/language/locations/us-central1/"
        "tuning/tuningJobDetail/77/monitor?project=my-project",
        # A project that cannot be one (upper case, too short) is not guessed at.
        "https://console.cloud.google.com/vertex-ai/generative/language/locations/us-central1/"
        "tuning/tuningJobDetail/77/monitor?project=Bad",
        "",
    ],
)
def test_other_addresses_are_not_jobs(url: str) -> None:
    assert console_job_ref(url, HOME) is None


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        (f"look at <{CONSOLE}|this job> please", JOB),
        (f"look at <{CONSOLE.replace('&', '&amp;')}>", JOB),
        (f"failed again: `{JOB.name}` :(", JOB),
        (f"https://europe-west4-aiplatform.googleapis.com/v1/{JOB.name}:cancel", JOB),
        ("job 1234567890123 is stuck", JobRef("my-project", "us-central1", "1234567890123")),
        ("card #12345678 ended", JobRef("my-project", "us-central1", "12345678")),
        # The console page wins over a name or a number elsewhere in the message.
        (f"1111111111 {JOB.name.replace('other', 'third')} {CONSOLE}", JOB),
        (
            f"1111111111 and {JOB.name}",
            JOB,
        ),
    ],
)
def test_a_reference_is_found_in_a_message(text: str, ref: JobRef) -> None:
    assert find_job_ref(text, HOME) == ref


@pytest.mark.parametrize(
    "text",
    [
        "",
        "the meeting is at 2026 in room 12",
        "call me at 0312345",  # seven digits: a phone extension, not a job
        "order 2026-12-04-12345678 shipped",
        "see https://example.com/jobs/123456789012 for details",
        "projects/p/locations/us-central1/tuningJobs/x",
        "v1.12345678",
    ],
)
def test_text_without_a_job_finds_none(text: str) -> None:
    assert find_job_ref(text, HOME) is None


def test_a_long_message_is_searched_within_bounds() -> None:
    text = "word " * 100_000 + JOB.name
    assert find_job_ref(text, HOME) is None
    assert find_job_ref(JOB.name + " word" * 100_000, HOME) == JOB
