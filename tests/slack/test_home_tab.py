"""The App Home tab end to end: signed `app_home_opened` events and Home-view clicks through the
bot's ASGI app, the Slack Web API stand-in recording what the user would see."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from bot.slack import ids
from bot.tuning.refs import JobRef
from tests.fakes.slack_api import SlackCall
from tests.slack.conftest import PROJECT, REGION, BotUnderTest
from tests.slack.test_create_modal import submission

ALICE = "U0ALICE01"
ALICE_DM = "D0ALICE01"
_events = itertools.count(1)


def home_opened(user: str = ALICE, channel: str = ALICE_DM, tab: str = "home") -> bytes:
    """An `app_home_opened` delivery in the Events API's shape (first open: no `view` yet)."""
    n = next(_events)
    return json.dumps(
        {
            "token": "verification-token",
            "team_id": "T0000TEST",
            "api_app_id": "A0TUNINGBOT",
            "event": {
                "type": "app_home_opened",
                "user": user,
                "channel": channel,
                "tab": tab,
                "event_ts": f"1764000000.{n:06d}",
            },
            "type": "event_callback",
            "event_id": f"Ev0HOME{n:06d}",
            "event_time": 1764000000 + n,
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
            "event_context": "4-eyJldCI6ImFwcF9ob21lX29wZW5lZCJ9",
        }
    ).encode()


def home_click(view: dict[str, Any], action_id: str, value: str | None = None) -> dict[str, Any]:
    """A `block_actions` payload from a published Home view: no channel, no response URL."""
    action: dict[str, Any] = {"type": "button", "action_id": action_id, "block_id": "b1"}
    if value is not None:
        action["value"] = value
    return {
        "type": "block_actions",
        "user": {"id": ALICE, "team_id": "T0000TEST"},
        "team": {"id": "T0000TEST"},
        "api_app_id": "A0TUNINGBOT",
        "container": {"type": "view", "view_id": view.get("id", "V0HOME001")},
        "view": {**view, "id": view.get("id", "V0HOME001"), "team_id": "T0000TEST"},
        "actions": [{**action, "action_ts": "1764000000.1"}],
    }


def _wait(found: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("what the user should see never arrived")


def _text(call: SlackCall) -> str:
    return json.dumps(call.args.get("view") or call.args.get("blocks") or {}, ensure_ascii=False)


def _publishes(bot: BotUnderTest, user: str = ALICE) -> list[SlackCall]:
    return [c for c in bot.slack.calls_to("views.publish") if c.args.get("user_id") == user]


def _buttons(view: dict[str, Any]) -> list[tuple[str, str | None]]:
    found = []
    for block in view["blocks"]:
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if "action_id" in element:
                found.append((element["action_id"], element.get("value")))
    return found


def _start_job(bot: BotUnderTest, name: str) -> str:
    """Alice starts a job from the form; returns its resource name (Google's spelling)."""
    before = len(bot.slack.calls_to("chat.postMessage"))
    bot.interact(submission(view_id=f"V0{name.upper().replace('-', '')}", display_name=name))
    bot.slack.wait_for("chat.postMessage", count=before + 1)
    job = next(j["name"] for j in bot.emulator.jobs() if j.get("tunedModelDisplayName") == name)
    # The watch is saved once the card is posted: the Home lists the job from then on.
    key = JobRef.from_name(job).key
    _wait(lambda: [w for w in bot.store.all_watches() if w.ref.key == key])
    return str(job)


def _open_home(bot: BotUnderTest, user: str = ALICE, channel: str = ALICE_DM) -> SlackCall:
    before = len(_publishes(bot, user))
    assert bot.post(home_opened(user, channel)).status_code == 200
    return _wait(lambda: _publishes(bot, user)[before:])[0]  # type: ignore[no-any-return]


@pytest.mark.parametrize("locale", ["en-US", "ja-JP"])
def test_opening_home_shows_my_jobs_and_the_teams_active_jobs(
    bot: BotUnderTest, locale: str
) -> None:
    bot.slack.locales[ALICE] = locale
    mine = _start_job(bot, "alice-run")
    teammates = bot.emulator.add_job(
        PROJECT, REGION, display_name="bob-run", state="JOB_STATE_RUNNING"
    )
    ended = bot.emulator.add_job(
        PROJECT, REGION, display_name="alice-old", state="JOB_STATE_SUCCEEDED"
    )
    bot.command(f"watch {ended}", user=ALICE, reply="watched")
    bot.replies("watched")

    published = _open_home(bot)

    view = published.args["view"]
    text = _text(published)
    assert view["type"] == "home"
    assert "alice-run" in text
    assert "bob-run" in text
    assert "alice-old" in text
    assert "gemini-3.5-flash" in text
    assert "<!date^" in text  # created: a date each reader's client draws
    buttons = _buttons(view)
    assert (ids.HOME_NEW_JOB, None) in buttons
    assert (ids.CARD_CANCEL, mine) in buttons  # she started it: she may cancel it
    assert (ids.CARD_CANCEL, teammates) not in buttons
    assert (ids.CARD_CANCEL, ended) not in buttons
    assert {(ids.HOME_JOB_GET, name) for name in (mine, teammates, ended)} <= set(buttons)
    # Her running job first, then the ended one, then the team's section.
    assert text.index("alice-run") < text.index("alice-old") < text.index("bob-run")
    if locale == "ja-JP":
        assert "自分のジョブ" in text
        assert "チームの進行中のジョブ" in text
        assert "新しいチューニング ジョブ" in text
    else:
        assert "My jobs" in text
        assert "The team's active jobs" in text


def test_the_messages_tab_is_left_alone(bot: BotUnderTest) -> None:
    bot.post(home_opened(tab="messages"))
    _open_home(bot)  # a Home opened after it is published: the first event was handled
    assert len(_publishes(bot)) == 1


def test_a_burst_of_opens_costs_one_vertex_list(bot: BotUnderTest) -> None:
    bot.emulator.add_job(PROJECT, REGION, display_name="busy", state="JOB_STATE_RUNNING")
    bot.emulator.add_job(PROJECT, REGION, display_name="done-run", state="JOB_STATE_SUCCEEDED")
    lists_before = bot.emulator.counts["list"]

    for _ in range(6):
        assert bot.post(home_opened()).status_code == 200
    _wait(lambda: len(_publishes(bot)) >= 6)

    assert bot.emulator.counts["list"] - lists_before == 1
    assert all("busy" in _text(c) for c in _publishes(bot))
    assert not any("done-run" in _text(c) for c in _publishes(bot))  # active jobs only


class TestAUserNotAllowed:
    @pytest.fixture
    def env_extra(self) -> dict[str, str]:
        return {"TUNING_ALLOWED_USERS": ALICE}

    @pytest.mark.parametrize("locale", ["en-US", "ja-JP"])
    def test_sees_why_and_no_jobs(self, bot: BotUnderTest, locale: str) -> None:
        bot.slack.locales["U0MALLORY"] = locale
        bot.emulator.add_job(PROJECT, REGION, display_name="secret-run", state="JOB_STATE_RUNNING")
        lists_before = bot.emulator.counts["list"]

        published = _open_home(bot, user="U0MALLORY", channel="D0MALLORY")

        text = _text(published)
        assert "secret-run" not in text
        assert _buttons(published.args["view"]) == []
        assert "TUNING_ALLOWED_USERS" in text
        assert ("申し訳ありません" in text) == (locale == "ja-JP")
        assert bot.emulator.counts["list"] == lists_before  # nothing was read for them


def test_new_tuning_job_opens_the_form_for_the_users_dm(bot: BotUnderTest) -> None:
    view = _open_home(bot).args["view"]

    bot.interact(home_click(view, ids.HOME_NEW_JOB))

    opened = bot.slack.wait_for("views.open")[0].args["view"]
    assert opened["callback_id"] == ids.CREATE_FORM
    assert json.loads(opened["private_metadata"])["c"] == ALICE_DM
    # Submitting that form posts the job's card in her DM with the bot.
    form = submission(view_id="V0FROMHOME", display_name="from-home")
    form["view"]["private_metadata"] = opened["private_metadata"]
    bot.interact(form)
    card = bot.slack.wait_for("chat.postMessage")[0]
    assert card.args["channel"] == ALICE_DM


def test_details_open_in_a_modal(bot: BotUnderTest) -> None:
    name = bot.emulator.add_job(
        PROJECT, REGION, display_name="look-at-me", state="JOB_STATE_RUNNING"
    )
    view = _open_home(bot).args["view"]
    assert (ids.HOME_JOB_GET, name) in _buttons(view)

    bot.interact(home_click(view, ids.HOME_JOB_GET, name))

    assert "Reading the job" in _text(bot.slack.wait_for("views.open")[0])
    shown = bot.slack.wait_for("views.update")[0]
    assert "look-at-me" in _text(shown)
    assert "gs://b/train.jsonl" in _text(shown)


def test_cancel_from_home_asks_first_cancels_and_redraws_the_home(bot: BotUnderTest) -> None:
    mine = _start_job(bot, "stop-me")
    view = _open_home(bot).args["view"]
    cancel = next(
        e
        for b in view["blocks"]
        for e in b.get("elements", [])
        if e.get("action_id") == ids.CARD_CANCEL
    )
    assert cancel["confirm"]["confirm"]["text"]  # Slack asks before the click reaches the bot
    published = len(_publishes(bot))

    bot.interact(home_click(view, ids.CARD_CANCEL, mine))

    told = bot.slack.wait_for("chat.postEphemeral")[0]
    assert (told.args["channel"], told.args["user"]) == (ALICE_DM, ALICE)
    assert "stop-me" in told.args["text"]
    job = next(j for j in bot.emulator.jobs() if j["name"] == mine)
    assert job["state"] in ("JOB_STATE_CANCELLING", "JOB_STATE_CANCELLED")
    redrawn = _wait(lambda: _publishes(bot)[published:])[0]
    assert (ids.CARD_CANCEL, mine) not in _buttons(redrawn.args["view"])


class TestTheWatcherKeepsItCurrent:
    @pytest.fixture
    def run_watcher(self) -> bool:
        return True

    @pytest.fixture
    def env_extra(self) -> dict[str, str]:
        return {"POLL_INTERVAL_SECONDS": "0.2"}

    @pytest.mark.parametrize("locale", ["en-US", "ja-JP"])
    def test_a_job_of_mine_ending_redraws_my_home(self, bot: BotUnderTest, locale: str) -> None:
        bot.slack.locales[ALICE] = locale
        running, ended = ("Running", "Succeeded") if locale == "en-US" else ("実行中", "成功")
        name = bot.emulator.add_job(
            PROJECT, REGION, display_name="watch-me", state="JOB_STATE_RUNNING"
        )
        bot.command(f"watch {name}", user=ALICE, reply="watched")
        bot.replies("watched")
        first = _open_home(bot)
        assert running in _text(first)
        assert (ids.HOME_JOB_GET, name) in _buttons(first.args["view"])
        shown = len(_publishes(bot))

        bot.emulator.set_state(name, "JOB_STATE_SUCCEEDED")

        def redrawn() -> list[SlackCall]:
            return [c for c in _publishes(bot)[shown:] if ended in _text(c)]

        home = _wait(redrawn)[0]
        # The ending went out in the channel as always; the Home followed it.
        assert any(c.args.get("thread_ts") for c in bot.slack.calls_to("chat.postMessage"))
        assert "watch-me" in _text(home)
        assert json.loads(home.args["view"]["private_metadata"])["c"] == ALICE_DM

    def test_a_home_that_slack_refuses_does_not_stop_the_ending(self, bot: BotUnderTest) -> None:
        name = bot.emulator.add_job(
            PROJECT, REGION, display_name="still-told", state="JOB_STATE_RUNNING"
        )
        bot.command(f"watch {name}", user=ALICE, reply="watched")
        bot.replies("watched")
        _open_home(bot)
        bot.slack.fail("views.publish", "not_enabled", times=100)

        bot.emulator.set_state(name, "JOB_STATE_FAILED", error_message="bad data")

        _wait(
            lambda: [c for c in bot.slack.calls_to("chat.postMessage") if c.args.get("thread_ts")]
        )


class TestAChannelAllowList:
    @pytest.fixture
    def env_extra(self) -> dict[str, str]:
        return {"TUNING_ALLOWED_CHANNELS": "C0TUNING1"}

    def test_the_home_is_shown_but_nothing_is_started_from_the_dm(self, bot: BotUnderTest) -> None:
        name = bot.emulator.add_job(
            PROJECT, REGION, display_name="team-run", state="JOB_STATE_RUNNING"
        )
        view = _open_home(bot).args["view"]
        buttons = _buttons(view)
        assert (ids.HOME_JOB_GET, name) in buttons
        assert ids.HOME_NEW_JOB not in {b[0] for b in buttons}  # the DM is not an allowed channel

        bot.interact(home_click(view, ids.HOME_JOB_GET, name))

        shown = bot.slack.wait_for("views.update")[0]
        assert "team-run" in _text(shown)  # what the Home shows, its detail shows too
