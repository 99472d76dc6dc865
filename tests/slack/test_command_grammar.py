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
    ],
)
def test_known_commands(text: str, expected: TuneCommand) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    "text", ["frobnicate", "list running", "get", "get 1 2", "create now", "help me", "cancel"]
)
def test_anything_else_is_usage(text: str) -> None:
    assert parse_command(text).verb is Verb.USAGE
