"""Job references as users type them and as Google returns them."""

from __future__ import annotations

import pytest

from bot.i18n import render
from bot.tuning.problems import DomainError
from bot.tuning.refs import JobRef, Location, parse_job_ref

HOME = Location("my-project", "us-central1")
FULL = "projects/other-project/locations/europe-west4/tuningJobs/4242"
CONSOLE = (
    "https://console.cloud.google.com/vertex-ai/generative/language/locations/us-central1/"
    "tuning/tuningJobDetail/123/monitor?project=my-project"
)
API_URL = "https://us-central1-aiplatform.googleapis.com/v1/" + FULL
HOW = (
    "Use the job's number (e.g. `1234567890`) or its full name "
    "`projects/PROJECT/locations/REGION/tuningJobs/ID`."
)


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("1234567890", JobRef("my-project", "us-central1", "1234567890")),
        ("  1234567890\n", JobRef("my-project", "us-central1", "1234567890")),
        ("`1234`", JobRef("my-project", "us-central1", "1234")),
        ("```1234```", JobRef("my-project", "us-central1", "1234")),
        (" ` 1234 ` ", JobRef("my-project", "us-central1", "1234")),
        # As the bot's own messages name an unnamed job, so that it can be copied back.
        ("#1234", JobRef("my-project", "us-central1", "1234")),
        ("`#1234`", JobRef("my-project", "us-central1", "1234")),
        ("1" * 30, JobRef("my-project", "us-central1", "1" * 30)),
        (FULL, JobRef("other-project", "europe-west4", "4242")),
        (f"`{FULL}`", JobRef("other-project", "europe-west4", "4242")),
        (
            "projects/123456789012/locations/us-central1/tuningJobs/7",
            JobRef("123456789012", "us-central1", "7"),
        ),
    ],
)
def test_parse_job_ref_accepts(text: str, ref: JobRef) -> None:
    assert parse_job_ref(text, HOME) == ref


@pytest.mark.parametrize("text", ["", "   ", "``", "``` ```", "\n\t"])
def test_parse_job_ref_empty(text: str) -> None:
    with pytest.raises(DomainError) as caught:
        parse_job_ref(text, HOME)
    assert render("en", caught.value.problem) == (
        "Say which job: its number (e.g. `1234567890`) or its full name "
        "`projects/PROJECT/locations/REGION/tuningJobs/ID`."
    )


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("abc", "abc"),
        ("12 34", "12 34"),
        ("-5", "-5"),
        ("0x1f", "0x1f"),
        ("1" * 31, "1" * 31),
        ("１２３", "１２３"),
        ("<@U123ABC>", "<@U123ABC>"),
        ("<!channel>", "<!channel>"),
        (CONSOLE, CONSOLE[:80]),
        (API_URL, API_URL[:80]),
        (
            "projects/abc/locations/us-central1/tuningJobs/1",
            "projects/abc/locations/us-central1/tuningJobs/1",
        ),
        (
            "projects/My-Project/locations/us-central1/tuningJobs/1",
            "projects/My-Project/locations/us-central1/tuningJobs/1",
        ),
        (FULL + "/extra", FULL + "/extra"),
        (FULL.replace("tuningJobs", "endpoints"), FULL.replace("tuningJobs", "endpoints")),
        ("x" * 500, "x" * 80),
        ("1" * 401, "1" * 80),
    ],
)
def test_parse_job_ref_refuses_and_quotes_at_most_80_characters(text: str, shown: str) -> None:
    with pytest.raises(DomainError) as caught:
        parse_job_ref(text, HOME)
    problem = caught.value.problem
    assert problem.key == "ref.invalid"
    assert problem.params["text"] == shown
    assert render("en", problem) == f"`{shown}` is not a tuning job. {HOW}"


def test_parse_job_ref_message_in_japanese() -> None:
    with pytest.raises(DomainError) as caught:
        parse_job_ref("abc", HOME)
    assert render("ja", caught.value.problem) == (
        "`abc` はチューニング ジョブではありません。ジョブ番号（例: `1234567890`）または完全な"
        "リソース名 `projects/PROJECT/locations/REGION/tuningJobs/ID` を指定してください。"
    )


def test_from_name_round_trips() -> None:
    ref = JobRef.from_name(FULL)
    assert ref == JobRef("other-project", "europe-west4", "4242")
    assert ref.name == FULL
    assert ref.location == Location("other-project", "europe-west4")
    assert ref.location.parent == "projects/other-project/locations/europe-west4"
    assert JobRef.from_name(f"  {FULL}\n") == ref


@pytest.mark.parametrize(
    "name", ["", "4242", "projects/p/locations/r/tuningJobs/x", FULL + "/", f"v1/{FULL}"]
)
def test_from_name_refuses_what_is_not_a_job_name(name: str) -> None:
    with pytest.raises(DomainError) as caught:
        JobRef.from_name(name)
    assert caught.value.problem.key == "ref.invalid"


def test_refs_sort_by_project_region_then_id() -> None:
    refs = [JobRef("b-proj", "r", "1"), JobRef("a-proj", "s", "2"), JobRef("a-proj", "r", "3")]
    assert sorted(refs)[0] == JobRef("a-proj", "r", "3")
