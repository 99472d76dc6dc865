"""The form body parser reads exactly what `urllib.parse.parse_qsl` reads, faster."""

from __future__ import annotations

import urllib.parse

from hypothesis import example, given
from hypothesis import strategies as st

from bot.slack.http import form_fields, parse_slack_body
from tests.fakes.slack_signing import command_body, interaction_body

# Separators, escapes (good and broken) and non-ASCII text, so that every branch is drawn.
_PIECES = [*"&=+%;aZ09.-_~", "%2", "%41", "%e3%81%82", "%e3%81", "%ff", "あ", " "]
_FORM_TEXT = st.lists(st.sampled_from(_PIECES), max_size=40).map("".join)


@given(_FORM_TEXT)
@example("")
@example("a=b=c&a=d")
@example("%e3%81=%zz&+=%2B")
@example("&&payload&")
def test_form_fields_match_parse_qsl(text: str) -> None:
    assert form_fields(text) == dict(urllib.parse.parse_qsl(text, keep_blank_values=True))


def test_a_slash_command_keeps_every_field() -> None:
    body = command_body("check gs://b/payload file+1.jsonl", response_url="https://h/c?x=1&y=%")
    fields = parse_slack_body(body.decode(), "application/x-www-form-urlencoded")
    assert fields["text"] == "check gs://b/payload file+1.jsonl"
    assert fields["response_url"] == "https://h/c?x=1&y=%"
    assert fields["command"] == "/tune"


def test_an_interaction_is_its_payload() -> None:
    body = interaction_body({"type": "block_actions", "user": {"id": "U1"}, "text": "a&b=c"})
    parsed = parse_slack_body(body.decode(), "application/x-www-form-urlencoded")
    assert parsed == {"type": "block_actions", "user": {"id": "U1"}, "text": "a&b=c"}
