"""The chart under a successful ending: drawn from the job's curves and uploaded into the
ending's thread through Slack's external upload flow, once per channel, and never in the way
of the ending itself."""

from __future__ import annotations

import json
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.charts import SlackCharts
from bot.tuning.states import JobState
from tests.watch.conftest import Rig, thread_replies

PNG = b"\x89PNG\r\n\x1a\n"
CARD = "1700000000.000001"


@pytest.fixture
def charted(rig: Rig) -> tuple[Rig, SlackCharts]:
    slack = AsyncWebClient(token=rig.slack.bot_token, base_url=rig.slack.base_url)
    charts = SlackCharts(slack, rig.client)
    rig.charts = charts
    return rig, charts


def _completions(rig: Rig) -> list[dict[str, Any]]:
    done = []
    for call in rig.slack.calls_to("files.completeUploadExternal"):
        args = dict(call.args)
        files = args["files"]
        args["files"] = json.loads(files) if isinstance(files, str) else files
        done.append(args)
    return done


async def test_a_successful_ending_gets_the_chart_in_its_thread(
    charted: tuple[Rig, SlackCharts],
) -> None:
    rig, charts = charted
    job = rig.add_job(JobState.RUNNING, display_name="support-bot")
    rig.watch(job)
    rig.emulator.set_state(job, JobState.SUCCEEDED.value)
    await rig.cycle()
    await charts.settle()
    assert len(thread_replies(rig.slack, job)) == 1
    (done,) = _completions(rig)
    assert done["channel_id"] == "C0TEAM001"
    assert done["thread_ts"] == CARD
    file_id = done["files"][0]["id"]
    assert rig.slack.uploads[file_id].startswith(PNG)
    assert done["files"][0]["title"] == "Training curves: support-bot"
    # The chart follows the ending, never the other way round.
    methods = [c.method for c in rig.slack.calls]
    ending = next(
        i
        for i, c in enumerate(rig.slack.calls)
        if c.method == "chat.postMessage" and c.args.get("metadata")
    )
    assert methods.index("files.getUploadURLExternal") > ending


async def test_two_channels_each_get_one_chart_drawn_once(
    charted: tuple[Rig, SlackCharts],
) -> None:
    rig, charts = charted
    job = rig.add_job(JobState.RUNNING, display_name="support-bot")
    rig.watch(job, "C0TEAM001")
    rig.watch(job, "C0TEAM002", language="ja")
    rig.watch(job, "C0TEAM003")
    rig.emulator.set_state(job, JobState.SUCCEEDED.value)
    await rig.cycle()
    await charts.settle()
    done = _completions(rig)
    assert sorted(d["channel_id"] for d in done) == ["C0TEAM001", "C0TEAM002", "C0TEAM003"]
    titles = {d["channel_id"]: d["files"][0]["title"] for d in done}
    assert titles["C0TEAM002"] == "学習曲線：support-bot"
    # One read of the curves for the two English endings and one for the Japanese one.
    assert rig.emulator.counts["tensorboard_batch_read"] == 2
    # Another cycle announces nothing more and uploads nothing more.
    await rig.cycle()
    await charts.settle()
    assert len(_completions(rig)) == 3


@pytest.mark.parametrize("state", [JobState.FAILED, JobState.CANCELLED])
async def test_endings_other_than_success_carry_no_chart(
    charted: tuple[Rig, SlackCharts], state: JobState
) -> None:
    rig, charts = charted
    job = rig.add_job(JobState.RUNNING)
    rig.watch(job)
    rig.emulator.set_state(job, state.value)
    await rig.cycle()
    await charts.settle()
    assert len(thread_replies(rig.slack, job)) == 1
    assert rig.slack.calls_to("files.getUploadURLExternal") == []


@pytest.mark.parametrize(
    "fault",
    [
        lambda rig, job: rig.emulator.inject("experiment", 403, times=10),
        lambda rig, job: rig.emulator.inject("tensorboard", 403, times=10),
        lambda rig, job: rig.emulator.set_curves(job, runs=False),
        lambda rig, job: rig.slack.fail("files.getUploadURLExternal", "missing_scope"),
        lambda rig, job: rig.slack.fail("files.completeUploadExternal", "internal_error"),
    ],
)
async def test_a_chart_that_cannot_be_made_leaves_the_ending_as_it_is(
    charted: tuple[Rig, SlackCharts], fault: Any
) -> None:
    rig, charts = charted
    job = rig.add_job(JobState.RUNNING)
    rig.watch(job)
    fault(rig, job)
    rig.emulator.set_state(job, JobState.SUCCEEDED.value)
    report = await rig.cycle()
    await charts.settle()
    assert report.announced == 1
    assert len(thread_replies(rig.slack, job)) == 1
    # The watch is finished: nothing is announced again.
    await rig.cycle()
    assert len(thread_replies(rig.slack, job)) == 1
