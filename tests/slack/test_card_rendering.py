"""The status card as a channel sees it: times that stay true between edits, labelled figures,
and the job's whereabouts, laid out in two columns within Slack's limits."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from typing import Any

import pytest

from bot.slack.messages.status_card import render_status_card
from bot.tuning.job import DataStats, TuningJob, console_url
from bot.tuning.refs import JobRef
from bot.tuning.states import JobState

CREATED = dt.datetime(2026, 11, 25, 10, 54, 30, tzinfo=dt.UTC)
STARTED = CREATED + dt.timedelta(minutes=2)
ENDED = CREATED + dt.timedelta(hours=1, minutes=5)
ESTIMATE = "1,200 examples, about 340,000 tokens"
LANGUAGES = ["en", "ja"]


def _job(**changes: Any) -> TuningJob:
    job = TuningJob(
        ref=JobRef("team-tuning", "europe-west4", "1234567890"),
        state=JobState.RUNNING,
        base_model="gemini-2.5-flash",
        display_name="support-bot v3",
        training_dataset_uri="gs://team-data/support/train.jsonl",
        validation_dataset_uri="gs://team-data/support/validation.jsonl",
        epochs=3,
        create_time=CREATED,
        start_time=STARTED,
    )
    return dataclasses.replace(job, **changes)


def _card(job: TuningJob, language: str = "en", **kwargs: Any) -> list[dict[str, Any]]:
    kwargs.setdefault("started_by", "U0ALICE01")
    return render_status_card(job, language=language, **kwargs)[1]


def _fields(blocks: list[dict[str, Any]]) -> list[str]:
    return [f["text"] for b in blocks for f in b.get("fields", [])]


def _field(blocks: list[dict[str, Any]], label: str) -> str | None:
    """The value under `label`, or None when the card has no such field."""
    for text in _fields(blocks):
        head, _, value = text.partition("\n")
        if head == f"*{label}*":
            return value
    return None


def _text(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def _mrkdwn(value: Any) -> str:
    """Every mrkdwn text in the blocks: what Slack parses for mentions and links (plain text,
    such as the cancel dialog's, is shown as it is)."""
    if isinstance(value, dict):
        if value.get("type") == "mrkdwn":
            return str(value["text"])
        return "\n".join(_mrkdwn(v) for v in value.values())
    if isinstance(value, list):
        return "\n".join(_mrkdwn(v) for v in value)
    return ""


LABELS = {
    "en": {
        "created": "Created",
        "started": "Started",
        "duration": "Duration",
        "data": "Data",
        "estimate": "Pre-flight estimate",
        "validation": "Validation data",
        "location": "Project / region",
        "started_by": "Started by",
        "watched_by": "Watched by",
    },
    "ja": {
        "created": "作成日時",
        "started": "開始",
        "duration": "所要時間",
        "data": "データ",
        "estimate": "事前チェックの見積もり",
        "validation": "検証データ",
        "location": "プロジェクト / リージョン",
        "started_by": "実行者",
        "watched_by": "ウォッチ登録者",
    },
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_running_card_has_no_elapsed_time_frozen_at_drawing(language: str) -> None:
    label = LABELS[language]
    blocks = _card(_job(), language)

    created = _field(blocks, label["created"])
    assert created == (
        f"<!date^{int(CREATED.timestamp())}^{{date_short_pretty}} {{time}}|2026-11-25 10:54 UTC>"
    )
    # Slack's client renders "2 hours ago" and keeps it current between edits.
    assert _field(blocks, label["started"]) == (
        f"<!date^{int(STARTED.timestamp())}^{{ago}}|2026-11-25 10:56 UTC>"
    )
    assert _field(blocks, label["duration"]) is None
    text = _text(blocks)
    for frozen in ("elapsed", "経過", "1h", "時間", "0s", "秒"):
        assert frozen not in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_pending_card_says_when_it_was_created_and_nothing_about_a_start(language: str) -> None:
    blocks = _card(_job(state=JobState.PENDING, start_time=None), language)

    assert _field(blocks, LABELS[language]["created"]) is not None
    assert _field(blocks, LABELS[language]["started"]) is None
    assert "{ago}" not in _text(blocks)


@pytest.mark.parametrize(("language", "duration"), [("en", "1h 05m"), ("ja", "1時間05分")])
@pytest.mark.parametrize("state", [JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED])
def test_an_ended_card_shows_how_long_the_job_took(
    language: str, duration: str, state: JobState
) -> None:
    blocks = _card(_job(state=state, end_time=ENDED), language)

    assert _field(blocks, LABELS[language]["duration"]) == duration
    # An ended job is not "running since" anything.
    assert _field(blocks, LABELS[language]["started"]) is None
    assert "{ago}" not in _text(blocks)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_estimate_is_labelled_until_googles_figures_replace_it(language: str) -> None:
    label = LABELS[language]
    before = _card(_job(), language, preflight_summary=ESTIMATE)
    assert _field(before, label["estimate"]) == ESTIMATE
    assert _field(before, label["data"]) is None

    stats = DataStats(example_count=1187, billable_tokens=1_020_000)
    after = _card(_job(data_stats=stats), language, preflight_summary=ESTIMATE)
    assert _field(after, label["estimate"]) is None
    assert ESTIMATE not in _text(after)
    figures = _field(after, label["data"])
    assert figures is not None
    assert "1,187" in figures
    assert "1,020,000" in figures


def test_statistics_without_an_example_count_leave_the_estimate_in_place() -> None:
    # Google sometimes sends the stats object before it has counted anything.
    blocks = _card(_job(data_stats=DataStats()), preflight_summary=ESTIMATE)

    assert _field(blocks, "Pre-flight estimate") == ESTIMATE
    assert _field(blocks, "Data") is None


def test_the_estimate_is_escaped() -> None:
    blocks = _card(_job(), preflight_summary="<!channel> & friends")

    assert _field(blocks, "Pre-flight estimate") == "&lt;!channel&gt; &amp; friends"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_card_names_both_datasets_and_where_the_job_runs(language: str) -> None:
    label = LABELS[language]
    blocks = _card(_job(), language)

    assert _field(blocks, label["validation"]) == "`gs://team-data/support/validation.jsonl`"
    assert _field(blocks, label["location"]) == "`team-tuning` / `europe-west4`"


def test_a_job_without_validation_data_has_no_empty_field() -> None:
    blocks = _card(_job(validation_dataset_uri=None))

    assert _field(blocks, "Validation data") is None


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_watched_job_says_who_watches_it_not_who_started_it(language: str) -> None:
    label = LABELS[language]
    watched = _card(_job(), language, started_by=None, watched_by="U0BOB0001")
    assert _field(watched, label["watched_by"]) == "<@U0BOB0001>"
    assert _field(watched, label["started_by"]) is None

    created = _card(_job(), language, started_by="U0ALICE01")
    assert _field(created, label["started_by"]) == "<@U0ALICE01>"
    assert _field(created, label["watched_by"]) is None


def test_the_title_links_to_the_console_with_the_name_escaped() -> None:
    job = _job(display_name="R&D <v2> <!channel>")
    blocks = _card(job)

    heading = blocks[0]["text"]["text"]
    assert heading.startswith(f"*<{console_url(job.ref)}|R&amp;D &lt;v2&gt; &lt;!channel&gt;>*")
    assert "<!channel>" not in _mrkdwn(blocks)
    # One link, opening the job's own console page.
    assert re.findall(r"<(https://[^|>]+)\|", heading) == [console_url(job.ref)]


def test_a_job_without_a_name_is_titled_by_its_number() -> None:
    blocks = _card(_job(display_name=None))

    assert blocks[0]["text"]["text"].startswith(f"*<{console_url(_job().ref)}|#1234567890>*")


def _everything(language: str, name: str) -> list[dict[str, Any]]:
    job = _job(
        display_name=name,
        training_dataset_uri="gs://b/" + "x" * 3000 + ".jsonl",
        validation_dataset_uri="gs://b/" + "y" * 3000 + ".jsonl",
        adapter_size=4,
        learning_rate_multiplier=0.5,
        base_model="m" * 3000,
    )
    return _card(job, language, preflight_summary="<!channel> " + "名前" * 2000)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", ["&<>" * 50, "名前" * 2000])
def test_the_fields_stay_within_slacks_limits(language: str, name: str) -> None:
    blocks = _everything(language, name)

    [section] = [b for b in blocks if "fields" in b]
    assert len(section["fields"]) <= 10
    for field in section["fields"]:
        assert field["type"] == "mrkdwn"
        assert len(field["text"]) <= 2000
        # A long URI is cut inside its code span, so it stays one copyable span.
        assert field["text"].count("`") % 2 == 0
    assert len(blocks[0]["text"]["text"]) <= 3000
    assert "<!channel>" not in _mrkdwn(blocks)


def test_the_most_fields_a_card_can_have_fit_in_one_section() -> None:
    job = _job(data_stats=DataStats(example_count=10, billable_tokens=20))
    blocks = _card(job, preflight_summary=ESTIMATE)

    labels = [text.partition("\n")[0] for text in _fields(blocks)]
    assert len(labels) <= 10
    assert len(set(labels)) == len(labels)
    assert "*Validation data*" in labels
    assert "*Project / region*" in labels


# -- training progress -------------------------------------------------------------------------
def _progress_line(blocks: list[dict[str, Any]]) -> str | None:
    texts = [b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b]
    found = [t for t in texts if t.startswith(("*Progress*", "*進捗*"))]
    return found[0] if found else None


def test_a_running_card_shows_steps_done_of_those_planned_and_the_latest_losses() -> None:
    from bot.tuning.curves import Progress

    progress = Progress(step=576, planned_steps=800, train_loss=0.42131, eval_loss=0.51207)
    line = _progress_line(_card(_job(), progress=progress))
    assert line == (
        "*Progress*  `███████░░░`  72%  ·  step 576 of 800\n"
        "training loss 0.4213  ·  validation loss 0.5121"
    )
    ja = _progress_line(_card(_job(), "ja", progress=progress))
    assert ja == (
        "*進捗*  `███████░░░`  72%  ·  ステップ 576 / 800\n"
        "トレーニング損失 0.4213  ·  検証損失 0.5121"
    )


def test_a_validation_loss_from_an_earlier_step_says_which() -> None:
    from bot.tuning.curves import Progress

    progress = Progress(576, 800, 0.4213, 0.5121, eval_step=480)
    assert _progress_line(_card(_job(), progress=progress)).endswith(  # type: ignore[union-attr]
        "validation loss 0.5121 (step 480)"
    )
    assert _progress_line(_card(_job(), "ja", progress=progress)).endswith(  # type: ignore[union-attr]
        "検証損失 0.5121（ステップ 480）"
    )


def test_a_diverging_loss_is_shown_in_plain_digits() -> None:
    from bot.tuning.curves import Progress

    line = _progress_line(_card(_job(), progress=Progress(step=10, train_loss=12345.6)))
    assert line == "*Progress*  step 10\ntraining loss 12,346"


def test_progress_without_a_planned_count_or_validation_shows_what_there_is() -> None:
    from bot.tuning.curves import Progress

    line = _progress_line(_card(_job(), progress=Progress(step=1_204, train_loss=1.5)))
    assert line == "*Progress*  step 1,204\ntraining loss 1.5"


@pytest.mark.parametrize(
    "state", [JobState.PENDING, JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLING]
)
def test_progress_shows_only_while_the_job_runs(state: JobState) -> None:
    from bot.tuning.curves import Progress

    progress = Progress(step=800, planned_steps=800, train_loss=0.3)
    assert _progress_line(_card(_job(state=state), progress=progress)) is None
