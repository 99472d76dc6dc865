"""The `/tune` grammar, word by word."""

from __future__ import annotations

import pytest

from bot.slack.commands import TuneCommand, Verb, parse_command

FULL_NAME = "projects/p/locations/r/tuningJobs/1"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", TuneCommand(Verb.CREATE)),
        ("  create ", TuneCommand(Verb.CREATE)),
        ("NEW", TuneCommand(Verb.CREATE)),
        ("list", TuneCommand(Verb.LIST, "all")),
        ("list Active", TuneCommand(Verb.LIST, "active")),
        ("list cancelled", TuneCommand(Verb.LIST, "cancelled")),
        ("get 123", TuneCommand(Verb.GET, "123")),
        ("cancel projects/p/locations/r/tuningJobs/1", TuneCommand(Verb.CANCEL, FULL_NAME)),
        ("watch 9", TuneCommand(Verb.WATCH, "9")),
        ("unwatch 9", TuneCommand(Verb.UNWATCH, "9")),
        ("check gs://b/train.jsonl", TuneCommand(Verb.CHECK, "gs://b/train.jsonl")),
        ("help", TuneCommand(Verb.HELP)),
        ("subscribe", TuneCommand(Verb.SUBSCRIBE)),
        (
            "Subscribe other-project/europe-west4 label:team=nlp  events:failed",
            TuneCommand(
                Verb.SUBSCRIBE,
                words=("other-project/europe-west4", "label:team=nlp", "events:failed"),
            ),
        ),
        ("subscribe name:Support*", TuneCommand(Verb.SUBSCRIBE, words=("name:Support*",))),
        ("unsubscribe", TuneCommand(Verb.UNSUBSCRIBE)),
        ("unsubscribe p-123456/r", TuneCommand(Verb.UNSUBSCRIBE, words=("p-123456/r",))),
        ("subscriptions", TuneCommand(Verb.SUBSCRIPTIONS)),
        ("SETTINGS", TuneCommand(Verb.SETTINGS)),
        ("debug", TuneCommand(Verb.DEBUG)),
    ],
)
def test_known_commands(text: str, expected: TuneCommand) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "frobnicate",
        "list running",
        "get",
        "get 1 2",
        "create now",
        "help me",
        "cancel",
        "subscriptions all",
        "settings now",
        "debug me",
        "subscribed",
    ],
)
def test_anything_else_is_usage(text: str) -> None:
    assert parse_command(text).verb is Verb.USAGE
