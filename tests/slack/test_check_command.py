"""`/tune check`: the dataset pre-flight as an ephemeral report; no job is created."""

from __future__ import annotations

import json

import pytest

from tests.fakes.gcs import FakeGcs
from tests.fakes.watcher_processes import wait_until
from tests.slack.conftest import BotUnderTest

GOOD_LINE = {
    "contents": [
        {"role": "user", "parts": [{"text": "Hello"}]},
        {"role": "model", "parts": [{"text": "Hi, how can I help?"}]},
    ]
}


def test_check_reports_on_the_file(bot: BotUnderTest, gcs: FakeGcs) -> None:
    lines = [json.dumps(GOOD_LINE)] * 3 + ["{broken"]
    gcs.put("team-data", "train.jsonl", ("\n".join(lines) + "\n").encode())
    bot.command("check gs://team-data/train.jsonl")
    replies = bot.replies(count=2)
    assert all(r["response_type"] == "ephemeral" for r in replies)
    report = replies[1]["text"]
    assert "Line 4: not valid JSON" in report
    assert "3 examples" in report
    assert bot.emulator.counts["create"] == 0


def test_check_of_a_missing_file_says_so(bot: BotUnderTest, gcs: FakeGcs) -> None:
    bot.command("check gs://team-data/absent.jsonl")
    replies = bot.replies(count=2)
    assert "absent.jsonl" in replies[1]["text"]


def test_a_dataset_named_payload_is_checked_like_any_other(bot: BotUnderTest, gcs: FakeGcs) -> None:
    # Bolt's own body parser mistakes any form body containing "payload" for an interaction.
    gcs.put("team-data", "payload.jsonl", (json.dumps(GOOD_LINE) + "\n").encode())
    response = bot.command("check gs://team-data/payload.jsonl")
    assert response.status_code == 200
    replies = bot.replies(count=2)
    assert "payload.jsonl" in replies[1]["text"]
    assert gcs.requests, "the object was never read"


class TestBucketAllowList:
    @pytest.fixture
    def env_extra(self) -> dict[str, str]:
        return {"TUNING_ALLOWED_BUCKETS": "gs://team-data"}

    def test_a_check_outside_the_allowed_buckets_reads_nothing(
        self, bot: BotUnderTest, gcs: FakeGcs
    ) -> None:
        gcs.put("payroll-secrets", "salaries.jsonl", (json.dumps(GOOD_LINE) + "\n").encode())
        bot.command("check gs://payroll-secrets/salaries.jsonl")
        reply = bot.replies()[0]
        assert reply["response_type"] == "ephemeral"
        assert "Datasets must come from: gs://team-data" in reply["text"]
        assert gcs.requests == []
        # The refusal is audited just after the reply is sent: wait for the row.
        wait_until(
            lambda: any(e.outcome == "refused" for e in bot.store.audit_entries()),
            10,
            "the refusal audited",
        )
        refused = [e for e in bot.store.audit_entries() if e.outcome == "refused"]
        assert [(e.action, e.actor) for e in refused] == [("check", "U0ALICE01")]

    def test_a_check_inside_the_allowed_buckets_runs(self, bot: BotUnderTest, gcs: FakeGcs) -> None:
        gcs.put("team-data", "ok.jsonl", (json.dumps(GOOD_LINE) + "\n").encode())
        bot.command("check gs://team-data/ok.jsonl")
        assert "ok.jsonl" in bot.replies(count=2)[1]["text"]


def test_a_check_of_a_web_address_is_refused_with_the_reason(
    bot: BotUnderTest, gcs: FakeGcs
) -> None:
    bot.command("check https://example.com/train.jsonl")
    assert "is not a Cloud Storage URI" in bot.replies()[0]["text"]
    assert gcs.requests == []
