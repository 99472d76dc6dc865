"""Every user × channel × action through the real HTTP app with allow-lists and admins set.

Allowed requests do their work (Google and Slack see the calls); refused ones get a private,
polite answer in the asker's language, send nothing to Google, and leave one audit row.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from bot.i18n import translate
from bot.tuning.states import JobState
from bot.watch.model import NewWatch, WatchKind
from tests.fakes.watch_store import seed_watch
from tests.slack.conftest import ADMIN, CHANNEL, PROJECT, REGION, BotUnderTest
from tests.slack.test_create_modal import submission

MEMBER = "U0BOB0001"  # on TUNING_ALLOWED_USERS, reads English
OUTSIDER = "U0ALICE01"  # on no list, reads Japanese
OTHER_CHANNEL = "C0RANDOM1"  # not on TUNING_ALLOWED_CHANNELS
ORIGIN_CHANNEL = "C0ORIGIN1"  # where MEMBER started the jobs of the matrix
LANGUAGE = {MEMBER: "en", OUTSIDER: "ja", ADMIN: "ja"}
ACTIONS = ("create", "list", "get", "watch", "cancel")
AUDITED_AS = {
    "create": "create",
    "list": "read",
    "get": "read",
    "watch": "watch",
    "cancel": "cancel",
}
GOOGLE_METHOD = {
    "create": "create",
    "list": "list",
    "get": "get",
    "watch": "get",
    "cancel": "cancel",
}


@pytest.fixture
def env_extra() -> dict[str, str]:
    return {"TUNING_ALLOWED_USERS": MEMBER, "TUNING_ALLOWED_CHANNELS": CHANNEL}


def expected_refusal(user: str, channel: str, action: str) -> str | None:
    """The rule of the design: lists for everyone but admins; cancel for owners and admins."""
    if user == ADMIN:
        return None
    if user != MEMBER:
        return "auth.user_not_allowed"
    if channel != CHANNEL:
        return "auth.channel_not_allowed"
    return None  # MEMBER started every job the matrix cancels


def _wait(predicate: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


class Matrix:
    """Runs one cell at a time and reports what the bot did."""

    def __init__(self, bot: BotUnderTest) -> None:
        self.bot = bot
        self.replies = itertools.count(1)
        self.views = itertools.count(1)

    def job_owned_by_member(self) -> str:
        name = self.bot.emulator.add_job(PROJECT, REGION, state="JOB_STATE_RUNNING")
        # Started from another channel, so that watching it here is new.
        seed_watch(
            self.bot.store,
            NewWatch(name, ORIGIN_CHANNEL, MEMBER, WatchKind.CREATED, JobState.RUNNING, "1.1"),
        )
        return name

    def run(self, user: str, channel: str, action: str) -> str:
        """Perform the action; return the text the user was shown."""
        if action == "create":
            return self._submit(user, channel)
        reply = f"m{next(self.replies)}"
        text = action if action == "list" else f"{action} {self.job_owned_by_member()}"
        self.bot.command(text, user=user, channel=channel, reply=reply)
        return str(self.bot.replies(reply)[-1]["text"])

    def _submit(self, user: str, channel: str) -> str:
        payload = submission(view_id=f"V0MATRIX{next(self.views)}", language=LANGUAGE[user])
        payload["user"]["id"] = user
        payload["view"]["private_metadata"] = json.dumps({"c": channel, "l": LANGUAGE[user]})
        answer: dict[str, Any] = self.bot.interact(payload).json()
        assert answer["response_action"] == "update"
        return json.dumps(answer["view"], ensure_ascii=False)


def test_allow_lists_and_admins_decide_every_action(bot: BotUnderTest) -> None:
    for user, language in LANGUAGE.items():
        bot.slack.locales[user] = "ja-JP" if language == "ja" else "en-US"
    matrix = Matrix(bot)
    cells = itertools.product((MEMBER, OUTSIDER, ADMIN), (CHANNEL, OTHER_CHANNEL), ACTIONS)
    for user, channel, action in cells:
        cell = (user, channel, action)
        google_before = bot.emulator.counts.copy()
        posts_before = len(bot.slack.calls_to("chat.postMessage"))
        audit_before = len(bot.store.audit_entries())
        shown = matrix.run(user, channel, action)
        refusal = expected_refusal(user, channel, action)
        if refusal is not None:
            assert translate(LANGUAGE[user], refusal) in shown, cell
            _wait(
                lambda: len(bot.store.audit_entries()) > audit_before,  # noqa: B023
                f"no audit for {cell}",
            )
            (entry,) = bot.store.audit_entries()[audit_before:]
            assert (entry.actor, entry.action, entry.outcome) == (
                user,
                AUDITED_AS.get(action, action),
                "refused",
            ), cell
            assert entry.detail == refusal, cell
            assert bot.emulator.counts == google_before, cell
            assert len(bot.slack.calls_to("chat.postMessage")) == posts_before, cell
            continue
        method = GOOGLE_METHOD.get(action, action)
        _wait(
            lambda: bot.emulator.counts[method] > google_before[method],  # noqa: B023
            f"{method} never reached Google for {cell}",
        )
        for refusal_key in ("auth.user_not_allowed", "auth.channel_not_allowed"):
            assert translate(LANGUAGE[user], refusal_key) not in shown, cell
        if action in ("create", "watch"):
            # The channel gets its status card; the create waits for the data check first.
            _wait(
                lambda: len(bot.slack.calls_to("chat.postMessage")) > posts_before,  # noqa: B023
                f"no status card for {cell}",
            )
            assert bot.slack.calls_to("chat.postMessage")[-1].args["channel"] == channel, cell


def test_someone_on_the_list_may_not_cancel_a_job_they_do_not_own(bot: BotUnderTest) -> None:
    name = bot.emulator.add_job(PROJECT, REGION, state="JOB_STATE_RUNNING")
    seed_watch(
        bot.store, NewWatch(name, CHANNEL, ADMIN, WatchKind.CREATED, JobState.RUNNING, "1.1")
    )
    bot.command(f"cancel {name}", user=MEMBER)
    assert translate("en", "auth.cancel_not_owner") in bot.replies()[0]["text"]
    assert bot.replies()[0]["response_type"] == "ephemeral"
    _wait(lambda: bool(bot.store.audit_entries()), "no audit row")
    (entry,) = bot.store.audit_entries()
    assert (entry.actor, entry.action, entry.job_name, entry.outcome) == (
        MEMBER,
        "cancel",
        name,
        "refused",
    )
    assert bot.emulator.counts["cancel"] == 0
