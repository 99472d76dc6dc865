"""Hostile input: no string makes a parser fail with anything but a Problem users can read."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.i18n import CATALOGUES, placeholders, render
from bot.tuning.catalogue import default_catalogue
from bot.tuning.dataset_uris import GcsUri, parse_gcs_uri, uri_allowed, validate_dataset_uri
from bot.tuning.problems import DomainError, Problem
from bot.tuning.refs import JobRef, Location, parse_job_ref
from bot.tuning.spec import FIELDS, MAX_DISPLAY_NAME, validate_form
from bot.vertex.wire import spec_to_body

HOME = Location("my-project", "us-central1")
TODAY = dt.date(2026, 11, 25)
MANY = settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Pieces that have broken parsers elsewhere: Slack's mrkdwn controls, invisible and
# right-to-left marks, NUL, lone surrogates, full-width digits, and fragments of valid input.
FRAGMENTS = st.sampled_from(
    [
        "<!channel>", "<!here>", "<@U0123ABCD>", "<#C0123|general>", "<https://x.test|y>",
        "&lt;", "&gt;", "&amp;", "`", "```", "*", "_", "~", "\x00", "\x07", "\x1b[31m", "\x7f",
        "\u200b", "\u200d", "\u200e", "\u200f", "\u202e", "\u2028", "\ufeff", "\ud800", "\udfff",
        "🚀", "👩‍💻", "🏳️‍🌈", "日本語", "ｇｓ：／／", "１２３", "²", "٣", "\n", "\r\n", "\t", " ",
        "\u3000", "gs://", "gs://team-data/", "train.jsonl", "projects/", "my-project",
        "/locations/", "us-central1", "/tuningJobs/", "/datasets/", "1234567890", "..", "/",
        "*", "?", "[", "{", "}", "{uri}", "%s", "goog", "google", "192.168.0.1", "-", ".",
    ]
)  # fmt: skip
ANY_CHAR = st.characters(exclude_categories=())  # surrogates included
HUGE = st.builds(lambda piece, n: piece * n, st.one_of(FRAGMENTS, ANY_CHAR), st.integers(1, 10_000))
HOSTILE = st.one_of(
    st.text(ANY_CHAR, max_size=60),
    st.lists(st.one_of(FRAGMENTS, st.text(ANY_CHAR, max_size=4)), max_size=10).map("".join),
    HUGE,
)


def assert_readable(problem: Problem) -> None:
    """The key exists in every catalogue and every placeholder of it has a value."""
    for language, catalogue in CATALOGUES.items():
        assert problem.key in catalogue, (language, problem.key)
        assert placeholders(catalogue[problem.key]) <= set(problem.params), problem
        assert render(language, problem)


def parses_or_explains(parser: object, text: str) -> object:
    try:
        return parser(text)  # type: ignore[operator]
    except DomainError as exc:
        assert_readable(exc.problem)
        return None


@MANY
@given(HOSTILE)
@example("\ud800")
@example("1" * 10_000)
@example("`" * 3 + "1234" + "`" * 3)
def test_parse_job_ref(text: str) -> None:
    ref = parses_or_explains(lambda t: parse_job_ref(t, HOME), text)
    if ref is not None:
        assert isinstance(ref, JobRef)
        assert JobRef.from_name(ref.name) == ref
        assert ref.job_id.isascii()
        assert ref.job_id.isdigit()


@MANY
@given(HOSTILE)
def test_job_ref_from_name(text: str) -> None:
    ref = parses_or_explains(JobRef.from_name, text)
    if ref is not None:
        assert isinstance(ref, JobRef)
        assert ref.name == text.strip()


@MANY
@given(HOSTILE)
@example("gs://team-data/" + "\ud800")
@example("gs://team-data/" + "x" * 10_000)
def test_validate_dataset_uri(text: str) -> None:
    uri = parses_or_explains(validate_dataset_uri, text)
    if uri is not None:
        assert isinstance(uri, str)
        assert uri == text.strip()
        assert not any(c.isspace() for c in uri)
        uri.encode("utf-8")  # Google gets UTF-8; a lone surrogate would fail here
        assert validate_dataset_uri(uri) == uri
        assert uri_allowed(uri, ()) is True


@MANY
@given(HOSTILE)
def test_parse_gcs_uri(text: str) -> None:
    uri = parses_or_explains(parse_gcs_uri, text)
    if uri is not None:
        assert isinstance(uri, GcsUri)
        assert str(uri) == text
        assert len(uri.object_name.encode("utf-8")) <= 1024


FORM = st.fixed_dictionaries(
    {},
    optional={
        name: st.one_of(st.none(), HOSTILE, st.sampled_from(["", "3", "4", "1.0", "valid"]))
        for name in FIELDS
    },
)
MODELS = st.sampled_from([m.model_id for m in default_catalogue()])
DATASETS = st.sampled_from(["gs://team-data/train.jsonl", "gs://team-data/valid.jsonl"])


@MANY
@given(
    form=FORM,
    model=st.one_of(st.none(), MODELS),
    dataset=st.one_of(st.none(), DATASETS),
    region=st.sampled_from(["us-central1", "europe-west4", "asia-northeast1"]),
    allowed=st.sampled_from([(), ("gs://team-data",), ("gs://team-data/sub/",)]),
)
def test_validate_form_never_raises(
    form: dict[str, str | None],
    model: str | None,
    dataset: str | None,
    region: str,
    allowed: tuple[str, ...],
) -> None:
    # Mixing in valid values lets the other fields' checks be reached with hostile text.
    if model is not None:
        form = {**form, "base_model": model}
    if dataset is not None:
        form = {**form, "training_dataset": dataset}
    result = validate_form(
        form, catalogue=default_catalogue(), region=region, today=TODAY, allowed_buckets=allowed
    )
    assert set(result.errors) <= set(FIELDS)
    for problem in [*result.errors.values(), *result.warnings]:
        assert_readable(problem)
    if not result.ok:
        assert result.spec is None
        return
    spec = result.spec
    assert spec is not None
    assert spec.base_model in default_catalogue()
    assert spec.epochs is None or 1 <= spec.epochs <= 100
    assert spec.learning_rate_multiplier is None or 0 < spec.learning_rate_multiplier <= 100
    if spec.display_name is not None:
        assert len(spec.display_name) <= MAX_DISPLAY_NAME
        assert not any(
            unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") for c in spec.display_name
        )
    # What was accepted can always be sent to Google as strict JSON in UTF-8.
    json.dumps(spec_to_body(spec), ensure_ascii=False, allow_nan=False).encode("utf-8")
