"""`/tune check` replies: a formatted report in the asker's language, and a missing object said
as such (not as a file Vertex AI would reject)."""

from __future__ import annotations

import json

import pytest

from tests.fakes.gcs import FakeGcs
from tests.slack.conftest import BotUnderTest, jsonl

HANAKO = "U0HANAKO1"


def _report(bot: BotUnderTest, text: str, user: str = "U0ALICE01") -> str:
    bot.command(text, user=user)
    replies = bot.replies(count=2)
    assert all(r["response_type"] == "ephemeral" for r in replies)
    report = replies[1]["text"]
    assert isinstance(report, str)
    return report


def test_the_report_has_a_verdict_bold_headings_and_bullets(
    bot: BotUnderTest, gcs: FakeGcs
) -> None:
    gcs.put("team-data", "broken.jsonl", jsonl(120) + b"{broken\n")
    report = _report(bot, "check gs://team-data/broken.jsonl")
    lines = report.split("\n")
    assert lines[0] == ":x: *Training data* `gs://team-data/broken.jsonl`"
    assert lines[1] == "1 error found: Vertex AI would reject this file or fail the job."
    # The command checks against the form's preselected model and says so.
    assert "Checked against the limits of Gemini 3.5 Flash." in lines
    errors = lines.index("*Errors*")
    assert lines[errors + 1].startswith("• Line 121: not valid JSON")
    assert "*About the data*" in lines
    assert "• 120 examples, about" in report
    assert not any("0 warning" in line for line in lines)


@pytest.mark.parametrize(
    ("user", "found", "check"),
    [
        ("U0ALICE01", "The file was not found", "Check the bucket name and the path"),
        (HANAKO, "ファイルが見つからない", "バケット名とファイルのパス"),
    ],
)
def test_a_missing_object_is_not_found_not_rejected(
    bot: BotUnderTest, gcs: FakeGcs, user: str, found: str, check: str
) -> None:
    bot.slack.locales[HANAKO] = "ja-JP"
    report = _report(bot, "check gs://team-data/absent.jsonl", user=user)
    assert found in report
    assert check in report
    assert "`gs://team-data/absent.jsonl`" in report
    assert "reject" not in report
    assert "受け付けない" not in report


def test_a_clean_file_in_japanese_has_no_zero_counts(bot: BotUnderTest, gcs: FakeGcs) -> None:
    bot.slack.locales[HANAKO] = "ja-JP"
    report = _report(bot, "check gs://team-data/train.jsonl", user=HANAKO)
    assert report.startswith(":white_check_mark: *トレーニング データ*")
    assert "問題は見つかりませんでした。" in report
    assert "Gemini 3.5 Flash の上限に基づいて確認しました。" in report
    assert " 0 件" not in json.dumps(report, ensure_ascii=False)
