"""Report rendering: verdicts, grouped findings, the status-card summary, in both languages."""

from __future__ import annotations

import pytest

from bot.datasets import PreflightReport, Severity, report_lines, summary_line
from bot.datasets.checks import check_line
from bot.tuning.catalogue import DatasetFormat
from bot.tuning.problems import Problem


def _report(**fields: object) -> PreflightReport:
    report = PreflightReport(source="gs://team-data/train.jsonl", validation=False)
    for name, value in fields.items():
        setattr(report, name, value)
    return report


def test_summary_line_gives_examples_tokens_and_billable_tokens() -> None:
    report = _report(example_count=1234, estimated_tokens=567_890, epochs=3)
    assert summary_line(report, "en") == (
        "1,234 examples, about 567,890 tokens, about 1,703,670 billable tokens over 3 epoch(s)"
    )
    assert summary_line(report, "ja") == (
        "1,234 件の例、約 567,890 トークン、3 エポックで課金対象は約 1,703,670 トークン"
    )


def test_unknown_epochs_say_that_google_chooses() -> None:
    report = _report(example_count=200, estimated_tokens=1000)
    assert report.estimated_billable_tokens is None
    assert summary_line(report, "en") == "200 examples, about 1,000 tokens"
    assert any("Google chooses the number of epochs" in line for line in report_lines(report, "en"))


def test_same_problem_on_many_lines_is_one_entry_with_a_count() -> None:
    report = _report(example_count=300)
    for line in range(10, 19):
        report.add(Severity.ERROR, line, Problem.of("preflight.last_not_model"))
    report.add(Severity.ERROR, 40, Problem.of("preflight.empty_text", turn=2))
    report.add(Severity.ERROR, 41, Problem.of("preflight.empty_text", turn=3))
    lines = report_lines(report, "en", max_findings=2)
    assert lines[0].startswith("Training data gs://team-data/train.jsonl: 11 errors found")
    assert lines[1] == "Errors:"
    assert lines[2] == (
        "  - Lines 10, 11, 12, 13, 14 and 4 more: the conversation does not end with a `model` "
        "turn; the last turn is what the model learns to answer."
    )
    assert lines[3] == "  - Line 40: turn 2 has empty text."
    assert lines[4] == "  - …and 1 more."


def test_japanese_report_uses_japanese_throughout() -> None:
    report = _report(example_count=20)
    report.add(Severity.WARNING, None, Problem.of("preflight.few_examples", count=20))
    report.add(Severity.WARNING, 3, Problem.of("preflight.blank_line"))
    lines = report_lines(report, "ja")
    assert lines[0] == (
        "トレーニング データ gs://team-data/train.jsonl: エラーはありません。警告が 2 件あります。"
    )
    assert lines[1] == "警告:"
    assert "100〜500 件が推奨" in lines[2]
    assert lines[3].startswith("  - 3 行目: 空行です。")


def test_clean_validation_report_is_short() -> None:
    report = PreflightReport(source="v.jsonl", validation=True, example_count=50)
    lines = report_lines(report, "en")
    assert lines[0] == "Validation data v.jsonl: No problems found."
    assert not any("epochs" in line for line in lines)


@pytest.mark.parametrize(
    ("raw", "english", "japanese"),
    [
        (b"[1, 2, 3]", "a JSON array, not an object.", "オブジェクトではなく JSON の配列です。"),
        (b'"hello"', "a JSON string, not an object.", "オブジェクトではなく JSON の文字列です。"),
        (b"42", "a JSON number, not an object.", "オブジェクトではなく JSON の数値です。"),
        (b"true", "a JSON boolean, not an object.", "オブジェクトではなく JSON の真偽値です。"),
        (b"null", "a JSON null, not an object.", "オブジェクトではなく JSON の null 値です。"),
    ],
)
def test_a_line_that_is_not_an_object_names_its_json_type_in_the_reader_language(
    raw: bytes, english: str, japanese: str
) -> None:
    report = _report(example_count=10)
    [(severity, problem)] = check_line(raw, DatasetFormat.GEMINI).problems
    report.add(severity, 7, problem)
    assert report_lines(report, "en")[2].startswith("  - Line 7: " + english)
    assert report_lines(report, "ja")[2].startswith("  - 7 行目: " + japanese)


def test_japanese_line_numbers_are_listed_with_the_japanese_separator() -> None:
    report = _report(example_count=300)
    for line in (4, 9, 12):
        report.add(Severity.WARNING, line, Problem.of("preflight.blank_line"))
    assert report_lines(report, "ja")[2].startswith("  - 4、9、12 行目: 空行です。")
    assert report_lines(report, "en")[2].startswith("  - Lines 4, 9, 12: blank line.")
