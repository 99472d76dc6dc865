"""Dataset reports as a user reads them in Slack: verdict first, bold headings over bullets,
the model whose limits applied, no zero counts, and a missing file said as such."""

from __future__ import annotations

import re

import pytest

from bot.datasets import PreflightReport, Severity
from bot.datasets.preflight import run_preflight
from bot.datasets.sources import DatasetOpener
from bot.datasets.text import Outcome, report_lines, report_text
from bot.slack.messages.dataset_report import report_mrkdwn, reports_mrkdwn
from bot.tuning.catalogue import default_catalogue
from bot.tuning.problems import Problem
from tests.fakes.gcs import FakeGcs

# "0 errors", 「警告が 0 件」: a count of nothing, which the report never states.
ZERO_COUNT = re.compile(r"(?<![\d,])0 (?:errors?|warnings?|件)")
FLASH = default_catalogue().get("gemini-3.5-flash")
assert FLASH is not None


def _report(**fields: object) -> PreflightReport:
    report = PreflightReport(
        source="gs://team-data/train.jsonl", validation=False, model="Gemini 3.5 Flash"
    )
    for name, value in fields.items():
        setattr(report, name, value)
    return report


def _with_warnings() -> PreflightReport:
    report = _report(example_count=20, estimated_tokens=900)
    report.add(Severity.WARNING, None, Problem.of("preflight.few_examples", count=20))
    report.add(Severity.WARNING, 3, Problem.of("preflight.blank_line"))
    return report


def test_warnings_only_never_mention_zero_errors() -> None:
    en = report_mrkdwn(report_text(_with_warnings(), "en"))
    ja = report_mrkdwn(report_text(_with_warnings(), "ja"))
    assert "No errors, 2 warnings" in en
    assert not ZERO_COUNT.search(en)
    assert "エラーはありません。警告が 2 件あります。" in ja
    assert not ZERO_COUNT.search(ja)


def test_errors_only_never_mention_zero_warnings() -> None:
    report = _report(example_count=20)
    report.add(Severity.ERROR, 4, Problem.of("preflight.blank_line"))
    en = report_mrkdwn(report_text(report, "en"))
    ja = report_mrkdwn(report_text(report, "ja"))
    assert "1 error found: Vertex AI would reject this file" in en
    assert "warning" not in en.split("\n")[1]
    assert "エラーが 1 件あります。" in ja
    assert "警告が 0 件" not in ja
    assert not ZERO_COUNT.search(ja)


def test_both_counts_are_joined_when_both_are_there() -> None:
    report = _with_warnings()
    report.add(Severity.ERROR, 5, Problem.of("preflight.blank_line"))
    report.add(Severity.ERROR, 6, Problem.of("preflight.blank_line"))
    assert "2 errors and 2 warnings found" in report_mrkdwn(report_text(report, "en"))
    assert "エラーが 2 件、警告が 2 件あります。" in report_mrkdwn(report_text(report, "ja"))


@pytest.mark.parametrize(
    ("language", "headings"),
    [
        ("en", ("*Training data*", "*Warnings*", "*About the data*")),
        ("ja", ("*トレーニング データ*", "*警告*", "*データの概要*")),
    ],
)
def test_headings_are_bold_and_items_are_bullets(language: str, headings: tuple[str, ...]) -> None:
    text = report_mrkdwn(report_text(_with_warnings(), language))
    lines = text.split("\n")
    assert lines[0].startswith(":warning: " + headings[0])
    assert "`gs://team-data/train.jsonl`" in lines[0]
    for heading in headings[1:]:
        assert heading in lines
    # Everything under a heading is a bullet.
    under = lines[lines.index(headings[1]) + 1 :]
    assert under[0].startswith("• ")
    assert all(line.startswith(("• ", "*")) for line in under)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Checked against the limits of Gemini 3.5 Flash."),
        ("ja", "Gemini 3.5 Flash の上限に基づいて確認しました。"),
    ],
)
def test_the_report_names_the_model_whose_limits_were_used(language: str, expected: str) -> None:
    assert expected in report_mrkdwn(report_text(_with_warnings(), language))


def test_text_from_the_file_cannot_ping_or_link() -> None:
    report = _report(example_count=10)
    report.add(Severity.WARNING, 2, Problem.of("preflight.unknown_key", name="<!channel>"))
    text = report_mrkdwn(report_text(report, "en"))
    assert "<!channel>" not in text
    assert "&lt;!channel&gt;" in text


def test_several_reports_stay_within_a_section_block() -> None:
    report = _report(example_count=10)
    for line in range(1, 200):
        report.add(Severity.ERROR, line, Problem.of("preflight.role_missing", turn=line))
    text = reports_mrkdwn([report_text(report, "en")] * 3, lead="*Lead*")
    assert len(text) <= 3000
    assert text.startswith("*Lead*\n\n:x: *Training data*")


@pytest.mark.parametrize(
    ("language", "verdict", "check"),
    [
        ("en", "The file was not found", "Check the bucket name and the path to the file"),
        ("ja", "ファイルが見つからない", "バケット名とファイルのパスが正しいか"),
    ],
)
async def test_a_missing_object_says_not_found_and_what_to_check(
    fake_gcs: FakeGcs, opener: DatasetOpener, language: str, verdict: str, check: str
) -> None:
    assert FLASH is not None
    report = await run_preflight(
        "gs://team-data/nothing.jsonl", model=FLASH, validation=False, opener=opener
    )
    parts = report_text(report, language)
    assert parts.outcome is Outcome.MISSING
    text = report_mrkdwn(parts)
    assert verdict in text
    assert check in text
    assert "Vertex AI would reject" not in text
    assert "受け付けない" not in text
    # Nothing was read, so no model's limits were applied.
    assert "Gemini 3.5 Flash" not in text
    plain = "\n".join(report_lines(report, language))
    assert verdict in plain
    assert "Vertex AI would reject" not in plain


def test_a_failing_cloud_storage_is_not_blamed_on_the_file() -> None:
    report = _report(unreadable=True)
    report.add(Severity.ERROR, None, Problem.of("preflight.storage_error", status=503))
    en = report_mrkdwn(report_text(report, "en"))
    assert "could not be read" in en
    assert "*What to check*\n• Cloud Storage answered with HTTP 503" in en
    assert "Vertex AI would reject" not in en
    assert "1 error" not in en
    ja = report_mrkdwn(report_text(report, "ja"))
    assert "読み取れなかった" in ja
    assert "*確認すること*" in ja
