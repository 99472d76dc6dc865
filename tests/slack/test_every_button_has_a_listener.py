"""Every interactive element in every message the bot can send reaches a listener.

Slack sends `block_actions` for every button, link buttons included; one that no listener
acknowledges shows the user a failure. The messages are rendered here in both languages and
each element's `action_id` is clicked through the signed HTTP endpoint of the running bot.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from bot.handlers.home import Home, HomeJob
from bot.slack.messages.create_again import create_again_blocks
from bot.slack.messages.create_form import ModalMetadata, create_modal, message_modal
from bot.slack.messages.ending import ending_message, gone_message
from bot.slack.messages.help import help_message
from bot.slack.messages.home import home_view
from bot.slack.messages.job_detail import job_detail_message
from bot.slack.messages.job_list import list_message
from bot.slack.messages.replies import notice
from bot.slack.messages.status_card import render_status_card
from bot.slack.messages.try_form import TryMetadata, try_modal
from bot.slack.messages.try_result import try_result_message
from bot.tuning.catalogue import default_catalogue
from bot.tuning.job import Checkpoint, DataStats, JobError, TunedModel, TuningJob
from bot.tuning.refs import JobRef, Location
from bot.tuning.states import JobState
from bot.tuning.trying import ModelAnswer, Prompt, SideResult, Tried
from tests.slack.conftest import CHANNEL, BotUnderTest

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
PARENT = "projects/123456789012/locations/us-central1"


def _job(state: JobState) -> TuningJob:
    return TuningJob(
        ref=JobRef("123456789012", "us-central1", "4242"),
        state=state,
        base_model="gemini-3.5-flash",
        display_name="support-bot",
        training_dataset_uri="gs://team-data/train.jsonl",
        create_time=NOW - dt.timedelta(hours=1),
        end_time=NOW if state.has_ended else None,
        tuned_model=TunedModel(
            f"{PARENT}/models/7@1",
            f"{PARENT}/endpoints/2",
            (
                Checkpoint("1", 1, 10, f"{PARENT}/endpoints/1"),
                Checkpoint("2", 2, 20, f"{PARENT}/endpoints/2"),
            ),
        )
        if state.succeeded
        else None,
        error=JobError(3, "bad data") if state is JobState.FAILED else None,
        data_stats=DataStats(example_count=500, dropped_examples=3, dropped_reasons=("too long",)),
    )


def every_message(language: str) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(what, blocks) for each message and modal the bot sends."""
    for state in JobState:
        yield (
            f"card {state.name}",
            render_status_card(_job(state), started_by="U0ALICE01", language=language)[1],
        )
        if state.has_ended:
            yield (
                f"ending {state.name}",
                ending_message(_job(state), started_by="U0ALICE01", language=language)[1],
            )
        yield f"detail {state.name}", job_detail_message(_job(state), language=language, now=NOW)[1]
    yield "gone", gone_message(f"{PARENT}/tuningJobs/1", display_name="x", language=language)[1]
    jobs = [_job(JobState.RUNNING), _job(JobState.SUCCEEDED)]
    yield (
        "list",
        list_message(jobs, filter_word="all", next_page_token="token", language=language, now=NOW)[
            1
        ],
    )
    yield "help", help_message(language)[1]
    yield "notice", notice("hello")[1]
    modal = create_modal(
        language,
        catalogue=default_catalogue(),
        today=NOW.date(),
        metadata=ModalMetadata(CHANNEL, language),
        location=Location("test-project", "us-central1"),
    )
    yield "create form", modal["blocks"]
    from_shortcut = create_modal(
        language,
        catalogue=default_catalogue(),
        today=NOW.date(),
        metadata=ModalMetadata("", language, choose_channel=True),
        location=Location("test-project", "us-central1"),
    )
    yield "create form from a shortcut", from_shortcut["blocks"]
    yield "message modal", message_modal(language, "creating…")["blocks"]
    yield "create again", create_again_blocks(language, "not listed", "token")
    succeeded = _job(JobState.SUCCEEDED)
    yield "try form", try_modal(succeeded, TryMetadata(succeeded.name, CHANNEL, language))["blocks"]
    answered = SideResult("e", 0.3, answer=ModelAnswer("hi", "STOP", None, 1, 1, 2))
    tried = Tried(succeeded, Prompt("hello"), answered, answered)
    yield (
        "try result",
        try_result_message(tried, user="U0ALICE01", language=language, only_me=False).blocks,
    )
    running, ended = _job(JobState.RUNNING), _job(JobState.SUCCEEDED)
    home = Home(
        "U0ALICE01",
        Location("test-project", "us-central1"),
        can_create=True,
        active=(HomeJob(running.name, running.state, "mine", running, can_cancel=True),),
        ended=(HomeJob(ended.name, ended.state, "done", ended),),
        team=(running,),
    )
    yield "home", home_view(home, language=language, channel_id="D0ALICE01")["blocks"]


def interactive_ids(blocks: list[dict[str, Any]]) -> set[str]:
    """action_ids of elements that send `block_actions` when used."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if "action_id" in value:
                found.add(value["action_id"])
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    for block in blocks:
        # Inputs send their values with the form, unless they dispatch actions themselves.
        if block.get("type") == "input" and not block.get("dispatch_action"):
            continue
        walk(block)
    return found


def test_every_rendered_action_id_has_a_listener(bot: BotUnderTest) -> None:
    ids = {
        action_id
        for language in ("en", "ja")
        for _, blocks in every_message(language)
        for action_id in interactive_ids(blocks)
    }
    # The list is not empty by accident: the card, the ending, the list and the form all act.
    assert {"job_cancel", "ending_open_console", "jobs_list_more", "job_create_again"} <= ids
    assert {"home_new_job", "home_job_get"} <= ids
    for action_id in sorted(ids):
        payload = {
            "type": "block_actions",
            "user": {"id": "U0ALICE01"},
            "channel": {"id": CHANNEL},
            "team": {"id": "T0000TEST"},
            "api_app_id": "A0TUNINGBOT",
            "response_url": bot.slack.response_url(f"click-{action_id}"),
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": "b",
                    "value": f"{PARENT}/tuningJobs/4242",
                    "action_ts": "1.2",
                }
            ],
        }
        response = bot.interact(payload)
        assert response.status_code == 200, f"{action_id}: no listener answered"


def test_every_rendered_action_id_is_declared_in_one_place_and_each_declared_one_is_used() -> None:
    from bot.slack import ids

    declared = {ids.CARD_CANCEL, ids.CARD_CONSOLE, ids.ENDING_CONSOLE, ids.LIST_MORE}
    declared |= {ids.CREATE_AGAIN, ids.HOME_NEW_JOB, ids.HOME_JOB_GET, ids.TRY_MODEL}
    declared |= {ids.ADVANCED_OPEN, ids.JOB_RERUN, ids.JOB_CONTINUE}
    rendered = {
        action_id
        for language in ("en", "ja")
        for _, blocks in every_message(language)
        for action_id in interactive_ids(blocks)
    }
    # Form inputs dispatching actions (the model select) carry their block ids as action ids.
    assert declared <= rendered
    assert rendered - declared <= {"base_model"}, rendered - declared
    assert (
        create_modal(
            "en",
            catalogue=default_catalogue(),
            today=NOW.date(),
            metadata=ModalMetadata(CHANNEL, "en"),
            location=Location("test-project", "us-central1"),
        )["callback_id"]
        == ids.CREATE_FORM
    )


def test_every_shortcut_reaches_a_listener_and_the_channel_choice_is_rendered(
    bot: BotUnderTest,
) -> None:
    from bot.slack import ids

    for kind, callback_id in (
        ("shortcut", ids.NEW_JOB_SHORTCUT),
        ("message_action", ids.WATCH_MESSAGE_SHORTCUT),
    ):
        payload: dict[str, Any] = {
            "type": kind,
            "callback_id": callback_id,
            "user": {"id": "U0ALICE01"},
            "team": {"id": "T0000TEST"},
            "action_ts": "1.2",
        }
        if kind == "message_action":
            payload["channel"] = {"id": CHANNEL}
            payload["response_url"] = bot.slack.response_url(f"shortcut-{callback_id}")
            payload["message"] = {"type": "message", "text": "hello", "ts": "1.1"}
        response = bot.interact(payload)
        assert response.status_code == 200, f"{callback_id}: no listener answered"
    block_ids = {
        block.get("block_id")
        for language in ("en", "ja")
        for _, blocks in every_message(language)
        for block in blocks
    }
    assert ids.POST_IN in block_ids
