"""Console links of tuning jobs shared in Slack get a preview of the job, if the sharer may
read it; links to jobs Google will not show, or outside the bot's projects, get nothing."""

from __future__ import annotations

import json
import time
from itertools import count
from typing import Any

from bot.metrics import COMMANDS
from bot.tuning.job import console_url
from bot.tuning.refs import JobRef
from tests.slack.conftest import CHANNEL, PROJECT, REGION, BotUnderTest

_EVENTS = count(1)


def link_shared(urls: list[str], *, user: str = "U0ALICE01") -> bytes:
    """A `link_shared` delivery shaped as Slack sends it (Events API `event_callback`)."""
    n = next(_EVENTS)
    ts = f"1700000{n:03d}.000100"
    payload: dict[str, Any] = {
        "token": "legacy-verification-token",
        "team_id": "T0000TEST",
        "api_app_id": "A0TUNINGBOT",
        "event": {
            "type": "link_shared",
            "channel": CHANNEL,
            "is_bot_user_member": True,
            "user": user,
            "message_ts": ts,
            "unfurl_id": f"{CHANNEL}.{ts}.unfurl{n}",
            "source": "conversations_history",
            "links": [{"domain": "console.cloud.google.com", "url": url} for url in urls],
            "event_ts": ts,
        },
        "type": "event_callback",
        "event_id": f"Ev0LINK{n:04d}",
        "event_time": 1700000000 + n,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": "T0000TEST",
                "user_id": "U0BOT0001",
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-link-{n}",
    }
    return json.dumps(payload).encode()


def _job(bot: BotUnderTest, name: str, state: str = "JOB_STATE_SUCCEEDED") -> JobRef:
    return JobRef.from_name(
        bot.emulator.add_job(
            PROJECT, REGION, display_name=name, base_model="gemini-2.5-flash", state=state
        )
    )


def _unfurls(bot: BotUnderTest) -> dict[str, Any]:
    call = bot.slack.wait_for("chat.unfurl")[0]
    unfurls = call.args["unfurls"]
    return json.loads(unfurls) if isinstance(unfurls, str) else unfurls  # type: ignore[no-any-return]


def _handled_events() -> float:
    return sum(
        sample.value
        for metric in COMMANDS.collect()
        for sample in metric.samples
        if sample.labels.get("kind") == "link_shared" and sample.name.endswith("_total")
    )


def _wait_until_handled(before: float, events: int = 1) -> None:
    # A link the bot shows nothing for gets no call at all: wait for the event to be counted
    # (once its work is done) rather than for a time.
    deadline = time.monotonic() + 10
    while _handled_events() - before < events and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _handled_events() - before >= events


def test_a_readable_job_is_previewed_and_a_missing_one_is_not(bot: BotUnderTest) -> None:
    ref = _job(bot, "support-bot")
    readable = console_url(ref)  # Google's name: the project number
    missing = console_url(JobRef(PROJECT, REGION, "999999999999"))

    response = bot.post(link_shared([readable, missing]))

    assert response.status_code == 200
    unfurls = _unfurls(bot)
    assert list(unfurls) == [readable]
    text = json.dumps(unfurls[readable]["blocks"], ensure_ascii=False)
    assert "support-bot" in text
    assert "Succeeded" in text
    assert "gemini-2.5-flash" in text
    assert "<!date^" in text
    assert "/models/" in text  # the tuned model, since it succeeded
    call = bot.slack.calls_to("chat.unfurl")[0]
    assert call.args["unfurl_id"].startswith(CHANNEL)
    assert call.args["source"] == "conversations_history"
    assert "999999999999" not in json.dumps(call.args)


def test_the_preview_is_in_the_language_of_whoever_shared_the_link(bot: BotUnderTest) -> None:
    bot.slack.locales["U0HANAKO1"] = "ja-JP"
    ref = _job(bot, "ja-model", state="JOB_STATE_RUNNING")
    url = console_url(JobRef(PROJECT, ref.region, ref.job_id))  # the project id form

    bot.post(link_shared([url], user="U0HANAKO1"))

    text = json.dumps(_unfurls(bot)[url]["blocks"], ensure_ascii=False)
    assert "ベースモデル" in text
    assert "実行中" in text
    assert "チューニング済みモデル" not in text  # still running: no tuned model yet


def test_a_job_google_forbids_is_not_previewed(bot: BotUnderTest) -> None:
    ref = _job(bot, "secret")
    gets, before = bot.emulator.counts["get"], _handled_events()
    bot.emulator.inject(
        "get", 403, times=10, message="Permission 'aiplatform.tuningJobs.get' denied"
    )

    bot.post(link_shared([console_url(JobRef(PROJECT, ref.region, ref.job_id))]))

    _wait_until_handled(before)
    assert bot.slack.calls_to("chat.unfurl") == []
    assert bot.emulator.counts["get"] > gets  # Google was asked, and said no


def test_a_job_outside_the_allowed_projects_is_not_even_read(bot: BotUnderTest) -> None:
    gets, before = bot.emulator.counts["get"], _handled_events()

    bot.post(link_shared([console_url(JobRef("someone-elses", REGION, "123456789"))]))

    _wait_until_handled(before)
    assert bot.slack.calls_to("chat.unfurl") == []
    assert bot.emulator.counts["get"] == gets


def test_a_preview_shows_names_as_typed_and_never_pings() -> None:
    import datetime as dt

    from bot.slack.messages.unfurl import unfurl_blocks
    from bot.tuning.job import TuningJob
    from bot.tuning.states import JobState

    job = TuningJob(
        ref=JobRef("123456789012", REGION, "7"),
        state=JobState.FAILED,
        base_model="gemini-2.5-flash",
        display_name="<!channel> *bold*",
        create_time=dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
    )
    text = json.dumps(unfurl_blocks(job, "en"))
    assert "<!channel>" not in text
    assert "&lt;!channel&gt;" in text
    assert "<!date^1796083200^" in text
    assert "Tuned model" not in text
