"""HTTP mode: Slack's signature on every request, malformed payloads, health and metrics."""

from __future__ import annotations

import json
import logging
import time
import urllib.parse
from collections.abc import Iterator

import pytest

from tests.fakes.slack_signing import command_body, interaction_body, sign
from tests.slack.conftest import SECRET, BotUnderTest


@pytest.fixture
def over_http() -> bool:
    """These tests are about what goes over the wire: serve the bot with uvicorn."""
    return True


def test_unsigned_request_is_refused(bot: BotUnderTest) -> None:
    response = bot.post(command_body("help"), headers={})
    assert response.status_code == 401
    assert bot.slack.response_url_posts == []


def test_forged_signature_is_refused(bot: BotUnderTest) -> None:
    body = command_body("help")
    response = bot.post(body, headers=sign("not-the-secret-at-all", body))
    assert response.status_code == 401


def test_stale_request_is_refused(bot: BotUnderTest) -> None:
    body = command_body("help")
    response = bot.post(body, headers=sign(SECRET, body, timestamp=int(time.time()) - 6 * 60))
    assert response.status_code == 401


def test_signature_over_a_different_body_is_refused(bot: BotUnderTest) -> None:
    headers = sign(SECRET, command_body("help"))
    response = bot.post(command_body("cancel 1"), headers=headers)
    assert response.status_code == 401
    assert bot.emulator.counts["cancel"] == 0


def test_malformed_payloads_get_a_4xx_not_a_500(bot: BotUnderTest) -> None:
    bad_json = urllib.parse.urlencode({"payload": "{not json"}).encode()
    no_type = interaction_body({"user": {"id": "U0ALICE01"}})
    wrong_types = interaction_body({"type": "block_actions", "user": "U0ALICE01", "actions": 3})
    no_user = urllib.parse.urlencode({"command": "/tune", "text": "help"}).encode()
    for body in (bad_json, no_type, wrong_types, no_user, b"\xff\xfe", b""):
        response = bot.post(body)
        assert 400 <= response.status_code < 500, body
        assert "Traceback" not in response.text


def test_view_submission_with_odd_state_is_answered(bot: BotUnderTest) -> None:
    payload = {
        "type": "view_submission",
        "user": {"id": "U0ALICE01"},
        "view": {
            "id": "V1",
            "type": "modal",
            "callback_id": "tuning_job_create",
            "private_metadata": '{"c": "C0TUNING1", "l": "en"}',
            "state": "oops",
        },
    }
    response = bot.interact(payload)
    assert response.status_code == 200
    assert bot.emulator.counts["create"] == 0


def test_health_ready_and_metrics(bot: BotUnderTest) -> None:
    assert bot.http.get(f"{bot.url}/healthz").status_code == 200
    assert bot.http.get(f"{bot.url}/readyz").status_code == 200
    bot.command("help")
    bot.replies()
    # A command is counted once its ack is on its way, so the count can trail the reply.
    sample = 'tuning_bot_commands_total{kind="tune.help",outcome="ok"}'
    deadline = time.monotonic() + 10
    while sample not in bot.http.get(f"{bot.url}/metrics").text:
        assert time.monotonic() < deadline, "the help command never showed in /metrics"
        time.sleep(0.02)


def test_readiness_fails_when_slack_rejects_the_token(bot: BotUnderTest) -> None:
    bot.slack.fail("auth.test", "invalid_auth")
    assert bot.http.get(f"{bot.url}/readyz").status_code == 503


def _log_messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in list(caplog.records)]


def test_replayed_command_runs_once(bot: BotUnderTest, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.slack.surface")
    caplog.set_level(logging.INFO, logger="bot.slack.app")
    body = command_body(
        "list", trigger_id="same.trigger", response_url=bot.slack.response_url("r1")
    )
    headers = sign(SECRET, body)
    assert bot.post(body, headers=headers).status_code == 200
    assert bot.post(body, headers=headers).status_code == 200
    bot.replies()
    # The replay was turned away before any work began, and the original's handling has ended
    # (its one "command" line): from here on nothing more can arrive.
    deadline = time.monotonic() + 10
    while not (
        "repeated delivery ignored" in _log_messages(caplog) and "command" in _log_messages(caplog)
    ):
        assert time.monotonic() < deadline, "the replay was not recognised as a repeat"
        time.sleep(0.01)
    assert _log_messages(caplog).count("command") == 1
    assert len([n for n, _ in bot.slack.response_url_posts if n == "r1"]) == 1
    assert bot.emulator.counts["list"] == 1


def test_no_token_reaches_the_logs(bot: BotUnderTest, caplog: object) -> None:
    bot.command("help")
    bot.replies()
    text = json.dumps([r.getMessage() for r in caplog.records])  # type: ignore[attr-defined]
    assert bot.slack.bot_token not in text
    assert SECRET not in text


def test_each_command_leaves_one_structured_log_line(bot: BotUnderTest, caplog: object) -> None:
    import logging

    caplog.set_level(logging.INFO, logger="bot.slack.surface")  # type: ignore[attr-defined]
    bot.command("get 42")
    bot.replies()
    deadline = time.monotonic() + 5
    records: list[logging.LogRecord] = []
    while not records and time.monotonic() < deadline:
        records = [r for r in caplog.records if r.getMessage() == "command"]  # type: ignore[attr-defined]
        time.sleep(0.01)
    (record,) = records
    fields = vars(record)
    assert fields["command"] == "tune.get"
    assert fields["user"] == "U0ALICE01"
    assert fields["outcome"] == "google_error"
    assert fields["job"].endswith("/tuningJobs/42")
    assert isinstance(fields["latency_ms"], float)


def test_help_answered_in_the_ack_is_still_logged_and_counted(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.metrics import REGISTRY

    caplog.set_level(logging.INFO, logger="bot.slack.surface")
    bot.command("help")
    bot.replies()  # the user's language is cached from here on
    # The first help is recorded after its ack too: let it land before counting from here.
    deadline = time.monotonic() + 10
    while _log_messages(caplog).count("command") == 0:
        assert time.monotonic() < deadline, "the first help was never logged"
        time.sleep(0.01)
    labels = {"kind": "tune.help", "outcome": "ok"}
    before = REGISTRY.get_sample_value("tuning_bot_commands_total", labels) or 0.0
    lines = _log_messages(caplog).count("command")
    response = bot.command("help", reply="r2")
    assert "/tune list" in json.dumps(response.json())
    # Recorded once the ack is on its way, not before it.
    deadline = time.monotonic() + 10
    while (REGISTRY.get_sample_value("tuning_bot_commands_total", labels) or 0.0) == before:
        assert time.monotonic() < deadline, "the help in the ack was never counted"
        time.sleep(0.01)
    assert REGISTRY.get_sample_value("tuning_bot_commands_total", labels) == before + 1
    while _log_messages(caplog).count("command") == lines:
        assert time.monotonic() < deadline, "the help in the ack was never logged"
        time.sleep(0.01)
    assert _log_messages(caplog).count("command") == lines + 1
    assert [n for n, _ in bot.slack.response_url_posts if n == "r2"] == []


def test_slack_rate_limit_is_waited_out(bot: BotUnderTest) -> None:
    name = bot.emulator.add_job("test-project", "us-central1", state="JOB_STATE_RUNNING")
    bot.slack.rate_limit("chat.postMessage", retry_after=1)
    bot.command(f"watch {name}")
    assert "now follows" in bot.replies(timeout=15)[0]["text"]
    assert len(bot.slack.calls_to("chat.postMessage")) == 2


def test_an_answer_that_cannot_reach_the_user_is_still_logged_and_counted(
    bot: BotUnderTest,
) -> None:
    from bot.metrics import REGISTRY
    from tests.conftest import free_port

    labels = {"kind": "tune.list", "outcome": "slack_error"}
    before = REGISTRY.get_sample_value("tuning_bot_commands_total", labels) or 0.0
    dead_url = f"http://127.0.0.1:{free_port()}/nobody-listens"
    response = bot.post(command_body("list", response_url=dead_url, trigger_id="trigger.dead"))
    assert response.status_code == 200
    deadline = time.monotonic() + 10
    while (REGISTRY.get_sample_value("tuning_bot_commands_total", labels) or 0.0) == before:
        assert time.monotonic() < deadline, "the failed answer was never recorded"
        time.sleep(0.05)
    # The bot goes on answering.
    bot.command("get 123", reply="after")
    assert "Google has no such job" in json.dumps(bot.replies("after")[0])


def test_an_oversized_body_is_refused_before_it_is_read(bot: BotUnderTest) -> None:
    from bot.slack.http import MAX_BODY

    huge = b"text=" + b"x" * (MAX_BODY + 10)
    # Declared size over the limit: refused without reading (and without a valid signature).
    response = bot.http.post(
        f"{bot.url}/slack/events",
        content=huge,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413

    # Streamed without a declared size: refused once the limit is passed.
    def chunks() -> Iterator[bytes]:
        for start in range(0, len(huge), 65536):
            yield huge[start : start + 65536]

    streamed = bot.http.post(
        f"{bot.url}/slack/events",
        content=chunks(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert streamed.status_code == 413


def test_a_command_cut_short_by_shutdown_tells_the_user_to_try_again(bot: BotUnderTest) -> None:
    bot.runtime.surface.drain_seconds = 0.2
    held = bot.emulator.hold("get")
    try:
        bot.command("get 4242")
        deadline = time.monotonic() + 10
        while bot.emulator.counts["get"] == 0:  # the request is at Google, held there
            assert time.monotonic() < deadline, "the get never reached the emulator"
            time.sleep(0.01)
        bot.stop()  # what SIGTERM does: uvicorn's graceful shutdown, then the lifespan's end
    finally:
        held.set()
    (reply,) = bot.replies()
    assert reply["response_type"] == "ephemeral"
    assert "restarting" in reply["text"]
