"""Who may do what, as a matrix over users, channels, actions, admins and job owners."""

from __future__ import annotations

import itertools

import pytest

from bot.tuning.access import AccessPolicy, Action

MEMBER, OUTSIDER, ADMIN = "U0MEMBER1", "U0OUTSIDE", "U0ADMIN01"
TEAM_CHANNEL, OTHER_CHANNEL = "C0TEAM001", "C0OTHER01"
RESTRICTED = AccessPolicy(
    admins=frozenset({ADMIN}),
    allowed_users=frozenset({MEMBER}),
    allowed_channels=frozenset({TEAM_CHANNEL}),
)


def expected(
    action: Action, user_ok: bool, channel_ok: bool, admin: bool, owner: bool
) -> str | None:
    if admin:
        return None
    if not user_ok:
        return "auth.user_not_allowed"
    if not channel_ok:
        return "auth.channel_not_allowed"
    if action is Action.CANCEL and not owner:
        return "auth.cancel_not_owner"
    return None


@pytest.mark.parametrize(
    ("action", "user_ok", "channel_ok", "admin", "owner"),
    list(itertools.product(Action, [True, False], [True, False], [True, False], [True, False])),
)
def test_refusal_matrix(
    action: Action, user_ok: bool, channel_ok: bool, admin: bool, owner: bool
) -> None:
    user = ADMIN if admin else (MEMBER if user_ok else OUTSIDER)
    if admin and not user_ok:
        # An admin missing from the user allow-list still acts as admin.
        policy = RESTRICTED
    elif admin:
        policy = AccessPolicy(
            RESTRICTED.admins, RESTRICTED.allowed_users | {ADMIN}, RESTRICTED.allowed_channels
        )
    else:
        policy = RESTRICTED
    channel = TEAM_CHANNEL if channel_ok else OTHER_CHANNEL
    owners = frozenset({user}) if owner else frozenset({"U0SOMEONE"})
    assert policy.refusal(action, user, channel, owners) == expected(
        action, user_ok, channel_ok, admin, owner
    )


@pytest.mark.parametrize("action", list(Action))
def test_empty_allow_lists_mean_everyone_everywhere(action: Action) -> None:
    open_policy = AccessPolicy()
    owners = frozenset({OUTSIDER})
    assert open_policy.refusal(action, OUTSIDER, OTHER_CHANNEL, owners) is None
    assert open_policy.refusal(action, OUTSIDER, None, owners) is None


def test_cancel_by_someone_else_is_refused_even_without_allow_lists() -> None:
    assert AccessPolicy().refusal(Action.CANCEL, OUTSIDER, TEAM_CHANNEL) == (
        "auth.cancel_not_owner"
    )
    assert AccessPolicy(admins=frozenset({ADMIN})).refusal(Action.CANCEL, ADMIN, None) is None


def test_a_channel_allow_list_refuses_requests_without_a_channel() -> None:
    assert RESTRICTED.refusal(Action.CREATE, MEMBER, None) == "auth.channel_not_allowed"


def test_reading_follows_the_allow_lists() -> None:
    assert RESTRICTED.refusal(Action.READ, OUTSIDER, TEAM_CHANNEL) == "auth.user_not_allowed"
    assert RESTRICTED.refusal(Action.READ, MEMBER, OTHER_CHANNEL) == "auth.channel_not_allowed"
    assert RESTRICTED.refusal(Action.READ, MEMBER, TEAM_CHANNEL) is None


def test_is_admin() -> None:
    assert RESTRICTED.is_admin(ADMIN)
    assert not RESTRICTED.is_admin(MEMBER)
