"""Correctly signed but malformed requests: a 4xx and a log line, never a 500 or a traceback.

Slack itself never sends these; a 4xx tells whoever did that the request was not understood.
The one exception is a well-formed `view_submission` whose form state is odd: Slack requires a
200 for every submission (anything else shows the user "We had some trouble connecting"), so
that one is answered 200 with the form's errors and nothing is sent to Google.
"""

from __future__ import annotations

import json
import logging
import urllib.parse
from typing import Any

import httpx
import pytest

from tests.fakes.slack_signing import command_body, interaction_body, sign
from tests.slack.conftest import CHANNEL, SECRET, BotUnderTest


@pytest.fixture
def over_http() -> bool:
    """These tests are about what goes over the wire: serve the bot with uvicorn."""
    return True


USER = "U0ALICE01"


def _view(**overrides: Any) -> dict[str, Any]:
    view = {
        "id": "V0ODD0001",
        "type": "modal",
        "callback_id": "tuning_job_create",
        "hash": "h1",
        "private_metadata": json.dumps({"c": CHANNEL, "l": "en"}),
        "state": {"values": {}},
    }
    return {**view, **overrides}


def _submission(**overrides: Any) -> dict[str, Any]:
    payload = {"type": "view_submission", "user": {"id": USER}, "view": _view()}
    return {**payload, **overrides}


def _command_without(field: str) -> bytes:
    fields = dict(urllib.parse.parse_qsl(command_body("list").decode()))
    del fields[field]
    return urllib.parse.urlencode(fields).encode()


def _without(payload: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k != key}


REFUSED_BODIES = {
    "payload is not JSON": urllib.parse.urlencode({"payload": "{not json"}).encode(),
    "payload is a JSON list": urllib.parse.urlencode({"payload": "[1, 2]"}).encode(),
    "payload is a JSON string": urllib.parse.urlencode({"payload": '"view_submission"'}).encode(),
    "payload without type": interaction_body(_without(_submission(), "type")),
    "type is a number": interaction_body(_submission(type=7)),
    "submission without user": interaction_body(_without(_submission(), "user")),
    "user is a string": interaction_body(_submission(user=USER)),
    "user id is a number": interaction_body(_submission(user={"id": 42})),
    "submission without view": interaction_body(_without(_submission(), "view")),
    "view is a list": interaction_body(_submission(view=[_view()])),
    "view without id": interaction_body(_submission(view=_without(_view(), "id"))),
    "view closed without view": interaction_body({"type": "view_closed", "user": {"id": USER}}),
    "actions is not a list": interaction_body(
        {"type": "block_actions", "user": {"id": USER}, "actions": {"action_id": "x"}}
    ),
    "action without action_id": interaction_body(
        {"type": "block_actions", "user": {"id": USER}, "actions": [{"value": "1"}]}
    ),
    "block action whose channel is a string (cancel)": interaction_body(
        {
            "type": "block_actions",
            "user": {"id": USER},
            "channel": "C0TUNING1",
            "actions": [{"action_id": "job_cancel", "value": "x"}],
        }
    ),
    "block action whose channel is a string (more)": interaction_body(
        {
            "type": "block_actions",
            "user": {"id": USER},
            "channel": "C0TUNING1",
            "actions": [{"action_id": "jobs_list_more", "value": "{}"}],
        }
    ),
    "block action whose channel has no id": interaction_body(
        {
            "type": "block_actions",
            "user": {"id": USER},
            "channel": {"name": "tuning"},
            "actions": [{"action_id": "job_cancel", "value": "x"}],
        }
    ),
    "command without user_id": _command_without("user_id"),
    "command without channel_id": _command_without("channel_id"),
    "command without trigger_id": _command_without("trigger_id"),
    "command without response_url": _command_without("response_url"),
    "empty body": b"",
    "not UTF-8": b"payload=\xff\xfe",
    "only an equals sign": b"=",
}


def _refusals(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage() == "slack request refused"]


def _assert_refused(response: httpx.Response, case: str) -> None:
    assert 400 <= response.status_code < 500, (case, response.status_code, response.text)
    assert "Traceback" not in response.text, case
    assert 'File "' not in response.text, case


# One bot serves every case of a group: starting one per case would cost more than the cases.
def test_malformed_requests_are_refused_with_a_4xx_and_a_log_line(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.slack.http")
    for case, body in REFUSED_BODIES.items():
        caplog.clear()
        response = bot.post(body)
        _assert_refused(response, case)
        records = _refusals(caplog)
        assert len(records) == 1, case
        assert vars(records[0])["status"] == response.status_code, case
        assert vars(records[0])["reason"], case
    assert bot.emulator.counts.total() == 0
    assert bot.slack.calls == []
    assert bot.slack.response_url_posts == []


NON_FORM = {
    "JSON that is not an event": ("application/json", b'{"hello": "world"}'),
    "JSON list": ("application/json", b"[1, 2, 3]"),
    "broken JSON": ("application/json", b'{"type": '),
    "plain text": ("text/plain", b"/tune list"),
    "multipart": ("multipart/form-data; boundary=xyz", b"--xyz\r\n\r\nhi\r\n--xyz--\r\n"),
}


def test_other_content_types_are_refused_with_a_4xx(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.slack.http")
    for case, (content_type, body) in NON_FORM.items():
        caplog.clear()
        headers = {**sign(SECRET, body), "Content-Type": content_type}
        response = bot.http.post(f"{bot.url}/slack/events", content=body, headers=headers)
        _assert_refused(response, case)
        assert _refusals(caplog), case
    assert bot.emulator.counts.total() == 0
    assert bot.slack.calls == []


ODD_STATES: dict[str, Any] = {
    "values is a list": {"values": [{"training_dataset": {}}]},
    "values is a string": {"values": "training_dataset"},
    "values is null": {"values": None},
    "state is a number": 3,
    "block is a list": {"values": {"training_dataset": [{"value": "gs://team-data/x.jsonl"}]}},
    "element value is a number": {
        "values": {"training_dataset": {"training_dataset": {"type": "x", "value": 7}}}
    },
    "selected option is a string": {
        "values": {"base_model": {"base_model": {"selected_option": "gemini-3.5-flash"}}}
    },
}


def test_submission_with_an_odd_form_state_gets_its_errors_and_reaches_nobody(
    bot: BotUnderTest,
) -> None:
    for n, (case, state) in enumerate(ODD_STATES.items()):
        view = _view(id=f"V0ODD{n:04d}", state=state)
        response = bot.interact(_submission(view=view))
        assert response.status_code == 200, case
        answer = response.json()
        assert answer["response_action"] == "errors", case
        assert "training_dataset" in answer["errors"], case
    assert bot.emulator.counts["create"] == 0


FOREIGN_METADATA = {
    "missing": None,
    "empty": "",
    "not JSON": "not json",
    "a list": "[]",
    "channel is a number": '{"c": 5}',
    "no channel": '{"l": "en"}',
    "language is a list": '{"c": "C0TUNING1", "l": ["en"]}',
}


def test_submission_with_foreign_metadata_is_answered_and_creates_nothing(
    bot: BotUnderTest,
) -> None:
    for n, (case, metadata) in enumerate(FOREIGN_METADATA.items()):
        view = _view(id=f"V0META{n:03d}", private_metadata=metadata)
        if metadata is None:
            view = _without(view, "private_metadata")
        response = bot.interact(_submission(view=view))
        assert response.status_code == 200, case
        assert "Traceback" not in response.text, case
    assert bot.emulator.counts["create"] == 0


def test_submission_with_deeply_nested_metadata_is_answered(bot: BotUnderTest) -> None:
    response = bot.interact(_submission(view=_view(private_metadata="[" * 2900)))
    assert response.status_code == 200
    assert bot.emulator.counts["create"] == 0


def test_the_bot_still_answers_after_malformed_requests(bot: BotUnderTest) -> None:
    for body in REFUSED_BODIES.values():
        bot.post(body)
    bot.command("help")
    assert "/tune" in bot.replies()[0]["text"]
    assert bot.http.get(f"{bot.url}/healthz").status_code == 200
