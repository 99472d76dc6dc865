"""Dataset locations on their own: parsing `gs://` URIs and matching allowed prefixes."""

from __future__ import annotations

import pytest

from bot.tuning.dataset_uris import GcsUri, parse_gcs_uri, uri_allowed, validate_dataset_uri
from bot.tuning.problems import DomainError


def problem_key(call: object, text: str) -> str:
    with pytest.raises(DomainError) as caught:
        call(text)  # type: ignore[operator]
    return caught.value.problem.key


def test_parse_gcs_uri_splits_bucket_and_object() -> None:
    uri = parse_gcs_uri("gs://team-data/runs/2026/train.jsonl")
    assert uri == GcsUri("team-data", "runs/2026/train.jsonl")
    assert str(uri) == "gs://team-data/runs/2026/train.jsonl"


def test_object_names_may_hold_spaces_when_parsed_directly() -> None:
    # Cloud Storage allows spaces in object names; only the form refuses pasted whitespace.
    assert parse_gcs_uri("gs://team-data/my file.jsonl").object_name == "my file.jsonl"
    assert problem_key(validate_dataset_uri, "gs://team-data/my file.jsonl") == (
        "dataset.whitespace"
    )


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("", "dataset.scheme"),
        ("GS://team-data/x", "dataset.scheme"),
        ("gs:/team-data/x", "dataset.scheme"),
        ("s3://team-data/x", "dataset.scheme"),
        ("gs://", "dataset.bucket_length"),
        ("gs:///x", "dataset.bucket_length"),
        ("gs://" + ".".join(["a" * 63] * 4) + "/x", "dataset.bucket_length"),
        ("gs://ab_/x", "dataset.bucket_chars"),
        ("gs://ab c/x", "dataset.bucket_chars"),
        ("gs://tëam/x", "dataset.bucket_chars"),
        ("gs://1.2.3.4/x", "dataset.bucket_chars"),
        ("gs://google/x", "dataset.bucket_reserved"),
        ("gs://googdata/x", "dataset.bucket_reserved"),
        ("gs://my.google.bucket/x", "dataset.bucket_reserved"),
        ("gs://team-data/a?b", "dataset.wildcard"),
        ("gs://team-data/a\x00b", "dataset.object_chars"),
        ("gs://team-data/a\ud800b", "dataset.object_chars"),
        ("gs://team-data/.", "dataset.object_chars"),
    ],
)
def test_parse_gcs_uri_refusals(text: str, key: str) -> None:
    assert problem_key(parse_gcs_uri, text) == key


def test_dotted_bucket_names_may_be_longer_than_63() -> None:
    bucket = ".".join(["a" * 60] * 3)
    assert parse_gcs_uri(f"gs://{bucket}/x").bucket == bucket


def test_lone_surrogate_in_an_object_name_is_refused_not_a_crash() -> None:
    # JSON from Slack may carry "\\ud800"; it is not UTF-8, so it must not reach Google.
    assert problem_key(validate_dataset_uri, "gs://team-data/" + "\ud800" * 2000) == (
        "dataset.object_chars"
    )


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("  gs://team-data/x.jsonl \n", "gs://team-data/x.jsonl"),
        (
            "projects/p-1/locations/us-central1/datasets/9",
            "projects/p-1/locations/us-central1/datasets/9",
        ),
    ],
)
def test_validate_dataset_uri_returns_the_trimmed_uri(raw: str, cleaned: str) -> None:
    assert validate_dataset_uri(raw) == cleaned


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("", "dataset.missing"),
        ("   ", "dataset.missing"),
        ("gs://a\u00a0b/x", "dataset.whitespace"),
        ("gs://team-data/x\u2028y", "dataset.whitespace"),
        ("projects/P/locations/us-central1/datasets/1", "dataset.vertex_name"),
        ("projects/p/locations/us-central1/datasets/1/extra", "dataset.vertex_name"),
        ("projects/p/locations/us-central1/tuningJobs/1", "dataset.vertex_name"),
    ],
)
def test_validate_dataset_uri_refusals(text: str, key: str) -> None:
    assert problem_key(validate_dataset_uri, text) == key


@pytest.mark.parametrize(
    ("prefixes", "uri", "allowed"),
    [
        ((), "gs://anything/x", True),
        ((), "projects/p/locations/us-central1/datasets/1", True),
        (("gs://team-data",), "gs://team-data/x", True),
        (("gs://team-data",), "gs://team-data-evil/x", False),
        (("gs://team-data",), "gs://team-datax/x", False),
        (("gs://team-data/",), "gs://team-data-evil/x", False),
        (("gs://b/team/",), "gs://b/team/x.jsonl", True),
        (("gs://b/team/",), "gs://b/team-evil/x.jsonl", False),
        (("gs://b/team/",), "gs://b/teamx.jsonl", False),
        (("gs://b/team/run-",), "gs://b/team/run-1.jsonl", True),
        (("gs://b/team/run-",), "gs://b/team/walk-1.jsonl", False),
        (("gs://team-data",), "projects/p/locations/us-central1/datasets/1", False),
    ],
)
def test_uri_allowed(prefixes: tuple[str, ...], uri: str, allowed: bool) -> None:
    assert uri_allowed(uri, prefixes) is allowed
