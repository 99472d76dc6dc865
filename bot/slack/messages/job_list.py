"""`/tune list`: a page of jobs, newest first, and the "More" button that brings the next."""

from __future__ import annotations

import datetime as dt
import json

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.i18n import translate
from bot.slack import ids
from bot.slack.messages.shared import (
    MAX_BUTTON_VALUE,
    MAX_MESSAGE_TEXT,
    MAX_TITLE,
    Message,
    job_title,
    message,
    section,
    state_label,
)
from bot.slack.mrkdwn import code, format_duration, literal, slack_date, truncate
from bot.tuning.job import TuningJob

MAX_LIST_LINES = 40  # a reply holds up to two of Google's pages when a state filter thins them
LIST_FILTER_KEYS: dict[str, str] = {
    "active": "list.active",
    "succeeded": "list.succeeded",
    "failed": "list.failed",
    "cancelled": "list.cancelled",
    "all": "list.all",
}


def _list_line(job: TuningJob, language: str, now: dt.datetime) -> str:
    title = literal(truncate(job.display_name, MAX_TITLE)) if job.display_name else job_title(job)
    parts = [f"{state_label(job.state, language)}  *{title}*"]
    parts.append(code(truncate(job.base_model, MAX_TITLE)) if job.base_model else "—")
    if job.create_time is not None:
        parts.append(slack_date(job.create_time))
    elapsed = job.duration(now)
    if elapsed is not None:
        parts.append(format_duration(elapsed, language))
    return "  ·  ".join(parts[:1]) + "\n" + "  ·  ".join([*parts[1:], code(job.ref.job_id)])


def _empty_text(filter_word: str, word: str, next_page_token: str | None, language: str) -> str:
    # Say what is empty and where to look next, rather than an empty page's bare "no jobs".
    if next_page_token:
        return translate(language, "list.empty_page", filter=word)
    if filter_word == "active":
        return translate(language, "list.empty_active")
    if filter_word in LIST_FILTER_KEYS and filter_word != "all":
        return translate(language, "list.empty_filtered", filter=word)
    return translate(language, "list.empty_all")


def list_message(
    jobs: list[TuningJob],
    *,
    filter_word: str,
    next_page_token: str | None,
    language: str,
    now: dt.datetime,
) -> Message:
    """A page of jobs, newest first, with a "More" button while Google has more pages."""
    # The filter word comes back in a button's value: a word we do not know reads as "all".
    word = translate(language, LIST_FILTER_KEYS.get(filter_word, "list.all"))
    heading = translate(language, "list.title", filter=word)
    blocks: list[Block] = [section(f"*{heading}*")]
    if not jobs:
        blocks.append(section(_empty_text(filter_word, word, next_page_token, language)))
    budget = MAX_MESSAGE_TEXT - len(heading)
    for job in jobs[:MAX_LIST_LINES]:
        line = _list_line(job, language, now)
        budget -= len(line)
        if budget < 0:
            break
        blocks.append(section(line))
    value = json.dumps({"f": filter_word, "t": next_page_token}) if next_page_token else ""
    if value and len(value) <= MAX_BUTTON_VALUE:
        blocks.append(
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text=translate(language, "list.more"),
                        action_id=ids.LIST_MORE,
                        value=value,
                    )
                ]
            )
        )
    return message(heading, blocks)


def parse_more_value(value: str) -> tuple[str, str] | None:
    """The filter and page token a "More" button carries; None when it is malformed."""
    try:
        data = json.loads(value)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    filter_word, token = data.get("f"), data.get("t")
    if not isinstance(filter_word, str) or not isinstance(token, str) or not token:
        return None
    return filter_word, token
