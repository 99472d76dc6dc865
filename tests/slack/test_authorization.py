"""Allow-lists: who may create, read and cancel; refusals are polite, private and audited."""

from __future__ import annotations

import json
import time

import pytest

from tests.slack.conftest import ADMIN, BotUnderTest
from tests.slack.test_create_modal import submission

ALLOWED = "U0BOB0001"


@pytest.fixture
def env_extra() -> dict[str, str]:
    return {"TUNING_ALLOWED_USERS": ALLOWED}


def _outcomes(bot: BotUnderTest) -> list[tuple[str, str, str]]:
    return [(e.actor, e.action, e.outcome) for e in bot.store.audit_entries()]


def _wait_for_audit(bot: BotUnderTest, count: int) -> None:
    deadline = time.monotonic() + 10
    while len(bot.store.audit_entries()) < count:
        assert time.monotonic() < deadline, "audit entry missing"
        time.sleep(0.01)


def test_submission_from_a_user_not_allowed_is_refused(bot: BotUnderTest) -> None:
    answer = bot.interact(submission()).json()
    assert answer["response_action"] == "update"
    assert "not on this bot's list" in json.dumps(answer["view"])
    _wait_for_audit(bot, 1)
    assert _outcomes(bot) == [("U0ALICE01", "create", "refused")]
    assert bot.emulator.counts["create"] == 0


def test_reading_follows_the_allow_lists(bot: BotUnderTest) -> None:
    bot.command("list")
    reply = bot.replies()[0]
    assert reply["response_type"] == "ephemeral"
    assert "not on this bot's list" in reply["text"]
    assert bot.emulator.counts["list"] == 0
    bot.command("cancel 1", reply="r2")
    assert "not on this bot's list" in bot.replies("r2")[0]["text"]
    assert bot.emulator.counts["cancel"] == 0
    _wait_for_audit(bot, 2)
    assert _outcomes(bot) == [("U0ALICE01", "read", "refused"), ("U0ALICE01", "cancel", "refused")]


def test_refusal_in_japanese(bot: BotUnderTest) -> None:
    bot.slack.locales["U0HANAKO1"] = "ja-JP"
    bot.command("watch 1", user="U0HANAKO1")
    text = bot.replies()[0]["text"]
    assert "申し訳" in text or "管理者" in text
    assert bot.emulator.counts["get"] == 0


def test_allowed_user_and_admin_get_through(bot: BotUnderTest) -> None:
    bot.command("", user=ALLOWED)
    bot.command("", user=ADMIN)
    assert len(bot.slack.wait_for("views.open", 2)) == 2
    bot.command("list", user=ALLOWED)
    assert "not on this bot's list" not in bot.replies()[0]["text"]
    assert bot.emulator.counts["list"] == 1
