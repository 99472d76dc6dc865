"""Report rendering: verdicts, grouped findings, the status-card summary, in both languages."""

from __future__ import annotations

from bot.datasets import PreflightReport, Severity, report_lines, summary_line
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
        "例 1,234 件、約 567,890 トークン、3 エポックで課金対象は約 1,703,670 トークン"
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
    assert lines[0].startswith("Training dataset gs://team-data/train.jsonl: 11 error(s)")
    assert lines[1] == "Errors:"
    assert lines[2] == (
        "  Lines 10, 11, 12, 13, 14 and 4 more: the conversation does not end with a `model` "
        "turn; the last turn is what the model learns to answer."
    )
    assert lines[3] == "  Line 40: turn 2 has empty text."
    assert lines[4] == "  …and 1 more error(s)."


def test_japanese_report_uses_japanese_throughout() -> None:
    report = _report(example_count=20)
    report.add(Severity.WARNING, None, Problem.of("preflight.few_examples", count=20))
    report.add(Severity.WARNING, 3, Problem.of("preflight.blank_line"))
    lines = report_lines(report, "ja")
    assert lines[0] == (
        "トレーニング データセット gs://team-data/train.jsonl: エラーはありません。"
        "警告が 2 件あります。"
    )
    assert lines[1] == "警告:"
    assert "100～500 件が推奨" in lines[2]
    assert lines[3].startswith("  3 行目: 空行です。")


def test_clean_validation_report_is_short() -> None:
    report = PreflightReport(source="v.jsonl", validation=True, example_count=50)
    lines = report_lines(report, "en")
    assert lines[0] == "Validation dataset v.jsonl: no problems found."
    assert not any("epochs" in line for line in lines)
