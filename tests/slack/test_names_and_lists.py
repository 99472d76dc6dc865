"""Names users chose read as typed, and an empty list says what to do next."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import pytest

from bot.slack.messages.ending import ending_message
from bot.slack.messages.job_list import list_message
from bot.slack.messages.status_card import render_status_card
from bot.tuning.job import TuningJob
from bot.tuning.refs import JobRef
from bot.tuning.states import JobState

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
NAME = "*urgent* _v2_ ~old~ `x` a&b"
ZWSP = "\u200b"


def _texts(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [value["text"]] if value.get("type") == "mrkdwn" else []
        return found + [t for inner in value.values() for t in _texts(inner)]
    if isinstance(value, list):
        return [t for inner in value for t in _texts(inner)]
    return []


def _job(state: JobState = JobState.RUNNING) -> TuningJob:
    return TuningJob(
        ref=JobRef("test-project", "us-central1", "4242"),
        state=state,
        base_model="gemini-2.5-flash",
        display_name=NAME,
        create_time=NOW - dt.timedelta(hours=1),
    )


def _marks_pair_up(text: str) -> bool:
    """Whether Slack could read a formatting mark as the start or end of bold, italics,
    strike-through or code: a mark directly against a visible character."""
    return re.search(r"[*_~`][^\s\u200b*_~`]|[^\s\u200b*_~`][*_~`]", text) is not None


def _name_line(texts: list[str]) -> str:
    [line] = [t for text in texts for t in text.split("\n") if "urgent" in t]
    return line


@pytest.mark.parametrize("language", ["en", "ja"])
def test_a_display_name_with_formatting_marks_shows_as_typed(language: str) -> None:
    _, card = render_status_card(_job(), started_by="U0ALICE01", language=language)
    _, listing = list_message(
        [_job()], filter_word="all", next_page_token=None, language=language, now=NOW
    )
    _, ending = ending_message(_job(JobState.CANCELLED), started_by="U0ALICE01", language=language)

    for blocks in (card, listing, ending):
        line = _name_line(_texts(blocks))
        # Only the card's own bold around the whole title may touch the name.
        inner = line[line.index("urgent") - 2 : line.index("a&amp;b") + len("a&amp;b")]
        assert not _marks_pair_up(inner), line
        assert NAME in html.unescape(line.replace(ZWSP, ""))


@pytest.mark.parametrize(
    ("filter_word", "token", "en", "ja"),
    [
        ("active", None, "`/tune list all`", "`/tune list all`"),
        ("failed", None, "No failed jobs", "「失敗」"),
        ("all", None, "`/tune` starts one", "`/tune` で開始"),
        ("succeeded", "next-page", "*More*", "「さらに表示」"),
    ],
)
def test_an_empty_list_says_what_is_empty_and_where_to_look(
    filter_word: str, token: str | None, en: str, ja: str
) -> None:
    for language, expected in (("en", en), ("ja", ja)):
        _, blocks = list_message(
            [], filter_word=filter_word, next_page_token=token, language=language, now=NOW
        )
        body = "\n".join(_texts(blocks))
        assert expected in body
        assert "this page" not in body or token  # the page is only mentioned when there are more
        assert ("More" in body or "さらに表示" in body) == (token is not None)
