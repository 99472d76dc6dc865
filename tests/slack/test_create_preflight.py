"""The dataset pre-flight on submission: errors stop the job, warnings ask once."""

from __future__ import annotations

import json
import time

from tests.fakes.gcs import FakeGcs
from tests.slack.conftest import BotUnderTest, jsonl
from tests.slack.test_create_modal import submission


def _final_update(bot: BotUnderTest, count: int = 1) -> dict[str, object]:
    view = bot.slack.wait_for("views.update", count)[-1].args["view"]
    assert isinstance(view, dict)
    return view


def test_broken_data_stops_the_job_and_keeps_the_form(bot: BotUnderTest, gcs: FakeGcs) -> None:
    gcs.put("team-data", "broken.jsonl", jsonl(120) + b"{not json\n")
    answer = bot.interact(
        submission(training_dataset="gs://team-data/broken.jsonl", display_name="kept")
    ).json()
    assert "Checking the dataset" in json.dumps(answer["view"])
    view = _final_update(bot)
    text = json.dumps(view, ensure_ascii=False)
    assert "found problems" in text
    assert "121" in text  # the broken line is named
    by_id = {b.get("block_id"): b for b in view["blocks"]}  # type: ignore[union-attr]
    assert by_id["display_name"]["element"]["initial_value"] == "kept"
    time.sleep(0.2)
    assert bot.emulator.counts["create"] == 0
    assert bot.emulator.counts["list"] == 0


def test_missing_file_is_reported_before_google_is_asked(bot: BotUnderTest) -> None:
    bot.interact(submission(training_dataset="gs://team-data/absent.jsonl"))
    text = json.dumps(_final_update(bot), ensure_ascii=False)
    assert "found problems" in text
    assert bot.emulator.counts["create"] == 0


def test_warnings_ask_once_and_the_second_submit_starts_the_job(
    bot: BotUnderTest, gcs: FakeGcs
) -> None:
    gcs.put("team-data", "small.jsonl", jsonl(5))
    first = submission(view_id="V0WARN001", training_dataset="gs://team-data/small.jsonl")
    bot.interact(first)
    view = _final_update(bot)
    assert "has warnings" in json.dumps(view)
    assert bot.emulator.counts["create"] == 0
    again = submission(view_id="V0WARN001", training_dataset="gs://team-data/small.jsonl")
    again["view"]["private_metadata"] = view["private_metadata"]
    answer = bot.interact(again).json()
    assert "Creating the tuning job" in json.dumps(answer["view"])
    bot.slack.wait_for("chat.postMessage")
    assert bot.emulator.counts["create"] == 1


def test_changing_the_file_after_warnings_checks_again(bot: BotUnderTest, gcs: FakeGcs) -> None:
    gcs.put("team-data", "small.jsonl", jsonl(5))
    gcs.put("team-data", "broken.jsonl", b"{not json\n")
    bot.interact(submission(view_id="V0WARN002", training_dataset="gs://team-data/small.jsonl"))
    view = _final_update(bot)
    again = submission(view_id="V0WARN002", training_dataset="gs://team-data/broken.jsonl")
    again["view"]["private_metadata"] = view["private_metadata"]
    bot.interact(again)
    assert "found problems" in json.dumps(_final_update(bot, 2))
    assert bot.emulator.counts["create"] == 0


def test_a_clean_check_puts_its_summary_on_the_status_card(bot: BotUnderTest) -> None:
    bot.interact(submission())
    card = json.dumps(bot.slack.wait_for("chat.postMessage")[0].args["blocks"])
    assert "120" in card


def test_a_dataset_the_bot_may_not_read_warns_and_the_next_submit_starts_the_job(
    bot: BotUnderTest, gcs: FakeGcs
) -> None:
    gcs.forbid("team-data", "train.jsonl")
    first = submission(view_id="V0FORBID1")
    bot.interact(first)
    view = _final_update(bot)
    text = json.dumps(view, ensure_ascii=False)
    assert "has warnings" in text
    assert "roles/storage.objectViewer" in text
    assert bot.emulator.counts["create"] == 0
    again = submission(view_id="V0FORBID1")
    again["view"]["private_metadata"] = view["private_metadata"]
    bot.interact(again)
    bot.slack.wait_for("chat.postMessage")
    assert bot.emulator.counts["create"] == 1


def test_warnings_after_the_form_was_closed_say_the_job_was_not_started(
    bot: BotUnderTest, gcs: FakeGcs
) -> None:
    gcs.put("team-data", "small.jsonl", jsonl(5))
    # Slack answers views.update with not_found once the user has closed the modal.
    bot.slack.fail("views.update", "not_found", times=5)
    bot.interact(submission(training_dataset="gs://team-data/small.jsonl"))
    note = bot.slack.wait_for("chat.postEphemeral")[0].args["text"]
    # No Start anyway button is left to press: the note says how to go on instead.
    assert "The job was not started" in note
    assert "open `/tune` again" in note
    assert bot.emulator.counts["create"] == 0
