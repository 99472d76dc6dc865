"""Google names every job by project NUMBER; users type job ids with the project id in mind.

The emulator answers as Vertex does (`projects/<number>/…` whatever the URL said), so a job id
the user types and the name Google returns differ in the project segment: every lookup must
treat them as one job.
"""

from __future__ import annotations

from bot.tuning.refs import JobRef
from tests.slack.conftest import CHANNEL, PROJECT, REGION, BotUnderTest
from tests.slack.test_create_modal import _wait, submission


def _text(reply: dict[str, object]) -> str:
    return str(reply.get("text", "")) + str(reply.get("blocks", ""))


def _created_from_slack(bot: BotUnderTest) -> JobRef:
    bot.interact(submission(display_name="numbered"))
    _wait(lambda: len(bot.store.all_watches()) == 1)
    return bot.store.all_watches()[0].ref


def test_google_names_the_created_job_by_project_number(bot: BotUnderTest) -> None:
    ref = _created_from_slack(bot)
    assert ref.project.isdigit()
    assert ref.project != PROJECT


def test_the_starter_may_cancel_by_the_job_id_they_type(bot: BotUnderTest) -> None:
    ref = _created_from_slack(bot)
    bot.command(f"cancel {ref.job_id}")
    assert "Cancellation of" in _text(bot.replies()[0])
    assert bot.emulator.counts["cancel"] == 1


def test_the_starter_may_cancel_by_the_name_with_the_project_id(bot: BotUnderTest) -> None:
    ref = _created_from_slack(bot)
    bot.command(f"cancel projects/{PROJECT}/locations/{REGION}/tuningJobs/{ref.job_id}")
    assert "Cancellation of" in _text(bot.replies()[0])


def test_watch_and_unwatch_by_job_id_find_the_same_watch(bot: BotUnderTest) -> None:
    name = bot.emulator.add_job(PROJECT, REGION, display_name="from-ci", state="JOB_STATE_RUNNING")
    job_id = JobRef.from_name(name).job_id
    bot.command(f"watch {job_id}")
    assert "now follows" in _text(bot.replies()[0])
    bot.command(f"watch {job_id}", reply="r2")
    assert "already" in _text(bot.replies("r2")[0])
    assert len(bot.slack.calls_to("chat.postMessage")) == 1
    bot.command(f"unwatch {job_id}", reply="r3")
    assert "no longer follows" in _text(bot.replies("r3")[0])
    assert bot.store.all_watches() == []


def test_a_channel_that_watches_the_job_by_number_is_one_watch(bot: BotUnderTest) -> None:
    ref = _created_from_slack(bot)
    bot.command(f"watch projects/{PROJECT}/locations/{REGION}/tuningJobs/{ref.job_id}")
    assert "already" in _text(bot.replies()[0])
    assert [w.channel_id for w in bot.store.all_watches()] == [CHANNEL]
