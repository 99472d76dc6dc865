"""Run again and Continue tuning through the bot's HTTP app: the filled form, the job Google
receives, and the card that links back to the job it came from."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.slack.conftest import CHANNEL, BotUnderTest
from tests.slack.test_create_modal import _value, submission
from tests.vertex.discovery import validate

USER = "U0ALICE01"
TUNING_JOB = "GoogleCloudAiplatformV1TuningJob"
SOURCE_VIEW = "V0CREATE1"  # the form the source jobs are started from


@pytest.fixture
def seconds_per_state() -> float:
    return 0.3


@pytest.fixture
def run_watcher() -> bool:
    return True


@pytest.fixture
def env_extra() -> dict[str, str]:
    return {"POLL_INTERVAL_SECONDS": "0.2"}


def _wait(predicate: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def _button(blocks: list[dict[str, Any]], action_id: str) -> dict[str, Any] | None:
    for block in blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return dict(element)
    return None


def _view(call: Any) -> dict[str, Any]:
    view = call.args["view"]
    return view if isinstance(view, dict) else dict(json.loads(view))


def _opened_form(bot: BotUnderTest, opens_before: int = 0) -> tuple[str, dict[str, Any]]:
    """The view id and the view that replaced the "reading…" modal."""
    opened = bot.slack.wait_for("views.open", opens_before + 1)[opens_before]
    # The first update after it of a view other than the source job's form.
    update = _wait(
        lambda: [
            c
            for c in bot.slack.calls_to("views.update")
            if c.at >= opened.at and c.args["view_id"] != SOURCE_VIEW
        ]
    )[0]
    return str(update.args["view_id"]), _view(update)


def _element(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    for block in view["blocks"]:
        if block.get("block_id") == block_id:
            return dict(block["element"])
    raise AssertionError(f"no {block_id} in the form")


def _initial(view: dict[str, Any], block_id: str) -> str | None:
    element = _element(view, block_id)
    if "initial_option" in element:
        return str(element["initial_option"]["value"])
    value = element.get("initial_value")
    return str(value) if value is not None else None


def _submit(bot: BotUnderTest, view_id: str, view: dict[str, Any], **changes: str) -> None:
    """Submit the form as Slack would: its initial values, with `changes` typed over them."""
    fields = {
        block["block_id"]: _initial(view, block["block_id"])
        for block in view["blocks"]
        if block.get("type") == "input"
    }
    fields.update(changes)
    payload = {
        "type": "view_submission",
        "user": {"id": USER},
        "view": {
            "id": view_id,
            "type": "modal",
            "callback_id": "tuning_job_create",
            "hash": "h1",
            "private_metadata": view["private_metadata"],
            "state": {"values": {k: {k: _value(k, v)} for k, v in fields.items()}},
        },
    }
    response = bot.interact(payload)
    assert response.status_code == 200
    assert response.json().get("response_action") != "errors", response.json()


def _click(bot: BotUnderTest, action_id: str, value: str, user: str = USER) -> None:
    bot.interact(
        {
            "type": "block_actions",
            "user": {"id": user},
            "channel": {"id": CHANNEL},
            "response_url": bot.slack.response_url("button"),
            "actions": [{"action_id": action_id, "value": value, "type": "button"}],
        }
    )


def _created_bodies(bot: BotUnderTest) -> list[dict[str, Any]]:
    return [
        dict(body)
        for method, _, body in bot.emulator.received
        if method == "create" and isinstance(body, dict)
    ]


def _source_job(bot: BotUnderTest) -> tuple[str, list[dict[str, Any]]]:
    """A job started from the form, and its card's blocks."""
    bot.interact(
        submission(
            display_name="support-bot",
            validation_dataset="gs://team-data/val.jsonl",
            epochs="4",
            adapter_size="4",
            learning_rate_multiplier="0.5",
        )
    )
    card = bot.slack.wait_for("chat.postMessage")[0]
    name = bot.emulator.jobs()[0]["name"]
    return str(name), card.args["blocks"]


@pytest.mark.parametrize(("locale", "label"), [("en-US", "Run again"), ("ja-JP", "再実行")])
def test_run_again_from_the_card_fills_the_form_and_the_new_card_links_back(
    bot: BotUnderTest, locale: str, label: str
) -> None:
    bot.slack.locales[USER] = locale
    source, blocks = _source_job(bot)
    button = _button(blocks, "job_rerun")
    assert button is not None
    assert button["value"] == source

    _click(bot, "job_rerun", source)

    view_id, view = _opened_form(bot)
    assert view["callback_id"] == "tuning_job_create"
    assert _initial(view, "base_model") == "gemini-3.5-flash"
    assert _initial(view, "training_dataset") == "gs://team-data/train.jsonl"
    assert _initial(view, "validation_dataset") == "gs://team-data/val.jsonl"
    assert _initial(view, "epochs") == "4"
    assert _initial(view, "adapter_size") == "4"
    assert _initial(view, "learning_rate_multiplier") == "0.5"
    assert _initial(view, "display_name") == "support-bot-v2"
    banner = json.dumps(view["blocks"][0], ensure_ascii=False)
    source_id = source.rsplit("/", 1)[1]
    assert f"#{source_id}" in banner
    assert ("Run again of" if locale == "en-US" else "の再実行です") in banner
    assert json.loads(view["private_metadata"])["s"] == source

    _submit(bot, view_id, view, epochs="6")

    _wait(lambda: len(_created_bodies(bot)) == 2)
    body = _created_bodies(bot)[-1]
    assert validate(body, TUNING_JOB, request=True) == []
    supervised = body["supervisedTuningSpec"]
    assert supervised["hyperParameters"] == {
        "epochCount": "6",
        "adapterSize": "ADAPTER_SIZE_FOUR",
        "learningRateMultiplier": 0.5,
    }
    assert supervised["trainingDatasetUri"] == "gs://team-data/train.jsonl"
    assert supervised["validationDatasetUri"] == "gs://team-data/val.jsonl"
    assert body["baseModel"] == "gemini-3.5-flash"
    assert body["tunedModelDisplayName"] == "support-bot-v2"
    assert body["labels"]["rerun-of"] == source_id
    new_card = _wait(
        lambda: [
            c
            for c in bot.slack.calls_to("chat.postMessage")
            if not c.args.get("thread_ts") and "support-bot-v2" in json.dumps(c.args["blocks"])
        ]
    )[0]
    text = json.dumps(new_card.args["blocks"], ensure_ascii=False)
    field = "Run again of" if locale == "en-US" else "再実行元"
    assert field in text
    assert f"tuningJobDetail/{source_id}/" in text
    assert f"|#{source_id}>" in text
    assert _button(new_card.args["blocks"], "job_rerun")["text"]["text"] == label  # type: ignore[index]


def test_rerun_of_a_missing_job_says_so(bot: BotUnderTest) -> None:
    bot.command("rerun 999999")
    _, view = _opened_form(bot)
    text = json.dumps(view)
    assert "999999" in text
    assert all(b.get("type") != "input" for b in view["blocks"])
    assert sum(1 for m, _, _ in bot.emulator.received if m == "create") == 0


def _succeeded(bot: BotUnderTest, base_model: str) -> dict[str, Any]:
    _, project, _, region, *_ = bot.job_name("1").split("/")
    name = bot.emulator.add_job(
        project,
        region,
        base_model=base_model,
        display_name="faq",
        training_uri="gs://team-data/train.jsonl",
        state="JOB_STATE_SUCCEEDED",
    )
    return dict(bot.emulator.get(name))


def test_continue_tuning_sends_the_tuned_model_instead_of_the_base_model(
    bot: BotUnderTest,
) -> None:
    source = _succeeded(bot, "gemini-3.5-flash")
    source_id = source["name"].rsplit("/", 1)[1]

    bot.command(f"rerun {source_id} continue")

    view_id, view = _opened_form(bot)
    tuned = source["tunedModel"]["model"]
    assert json.loads(view["private_metadata"])["t"] == tuned
    assert tuned in json.dumps(view["blocks"][0])
    assert _initial(view, "display_name") == "faq-v2"
    _submit(bot, view_id, view, training_dataset="gs://team-data/typed.jsonl")

    _wait(lambda: _created_bodies(bot))
    body = _created_bodies(bot)[-1]
    assert validate(body, TUNING_JOB, request=True) == []
    assert "baseModel" not in body
    assert body["preTunedModel"] == {"tunedModelName": tuned}
    assert body["supervisedTuningSpec"]["trainingDatasetUri"] == "gs://team-data/typed.jsonl"
    created = bot.emulator.jobs()[0]
    assert created["preTunedModel"]["tunedModelName"] == tuned
    # Google reports the base model it derived from the tuned one.
    assert created["preTunedModel"]["baseModel"] == "gemini-3.5-flash"


def test_the_success_ending_offers_continue_tuning_and_opens_that_form(
    bot: BotUnderTest,
) -> None:
    source, _ = _source_job(bot)
    ending = _wait(
        lambda: [c for c in bot.slack.calls_to("chat.postMessage") if c.args.get("thread_ts")]
    )[0]
    assert _button(ending.args["blocks"], "job_rerun") is not None
    button = _button(ending.args["blocks"], "job_continue_tuning")
    assert button is not None
    assert button["value"] == source

    _click(bot, "job_continue_tuning", source)

    _, view = _opened_form(bot)
    tuned = bot.emulator.get(source)["tunedModel"]["model"]
    assert json.loads(view["private_metadata"])["t"] == tuned


@pytest.mark.parametrize(
    ("locale", "said"),
    [
        ("en-US", "does not support continuous tuning"),
        ("ja-JP", "継続チューニングに対応していない"),
    ],
)
def test_a_model_without_continuous_tuning_is_refused_clearly(
    bot: BotUnderTest, locale: str, said: str
) -> None:
    bot.slack.locales[USER] = locale
    source = _succeeded(bot, "gemini-2.0-flash-001")
    source_id = source["name"].rsplit("/", 1)[1]

    bot.command(f"rerun {source_id} continue")

    _, view = _opened_form(bot)
    text = json.dumps(view, ensure_ascii=False)
    assert said in text
    assert "gemini-3.5-flash" in text  # which models do support it
    assert all(b.get("type") != "input" for b in view["blocks"])
