"""The `/tune` grammar: the text after the command, parsed into one `TuneCommand`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from bot.tuning.states import LIST_FILTERS


class Verb(Enum):
    """What the user asked `/tune` to do."""

    CREATE = "create"
    LIST = "list"
    GET = "get"
    CANCEL = "cancel"
    WATCH = "watch"
    UNWATCH = "unwatch"
    CHECK = "check"
    RERUN = "rerun"
    CONTINUE = "continue"  # `rerun <job> continue`: continue tuning the job's tuned model
    TRY = "try"
    CHART = "chart"
    SUBSCRIBE = "subscribe"  # `subscribe [PROJECT[/REGION]] [filters…]`
    UNSUBSCRIBE = "unsubscribe"  # `unsubscribe [PROJECT[/REGION]]`
    SUBSCRIPTIONS = "subscriptions"
    SETTINGS = "settings"  # the channel's settings, in a modal
    DEBUG = "debug"  # what the channel is subscribed to and how delivery went
    HELP = "help"
    USAGE = "usage"  # unknown or malformed text: answered with the usage


@dataclass(frozen=True)
class TuneCommand:
    """A parsed `/tune` text: the verb and its single argument (job ref, filter or URI), for
    `try` the prompt typed after the job, as typed (line breaks kept), and for `subscribe` and
    `unsubscribe` every word after the verb (checked by the use case, which knows the forms)."""

    verb: Verb
    argument: str = ""
    prompt: str = ""
    words: tuple[str, ...] = ()


_SYNONYMS = {"": Verb.CREATE, "create": Verb.CREATE, "new": Verb.CREATE}
_WITH_ARGUMENT = {
    "get": Verb.GET,
    "cancel": Verb.CANCEL,
    "watch": Verb.WATCH,
    "unwatch": Verb.UNWATCH,
    "check": Verb.CHECK,
    "rerun": Verb.RERUN,
    "chart": Verb.CHART,
}
_WITH_WORDS = {"subscribe": Verb.SUBSCRIBE, "unsubscribe": Verb.UNSUBSCRIBE}
_ALONE = {"subscriptions": Verb.SUBSCRIPTIONS, "settings": Verb.SETTINGS, "debug": Verb.DEBUG}


def parse_command(text: str) -> TuneCommand:
    """Parse `/tune` text; anything outside the grammar becomes `Verb.USAGE`."""
    words = text.split()
    head = words[0].lower() if words else ""
    rest = words[1:]
    if head in _SYNONYMS and not rest:
        return TuneCommand(_SYNONYMS[head])
    if head == "help" and not rest:
        return TuneCommand(Verb.HELP)
    if head in _WITH_WORDS:
        return TuneCommand(_WITH_WORDS[head], words=tuple(rest))
    if head in _ALONE and not rest:
        return TuneCommand(_ALONE[head])
    if head == "list" and len(rest) <= 1:
        word = rest[0].lower() if rest else "all"
        if word in LIST_FILTERS:
            return TuneCommand(Verb.LIST, word)
        return TuneCommand(Verb.USAGE, head)
    if head == "rerun" and len(rest) == 2 and rest[1].lower() == "continue":
        return TuneCommand(Verb.CONTINUE, rest[0])
    if head == "try" and rest:
        # The prompt is free text: split off only the verb and the job, keep the rest whole.
        parts = text.strip().split(None, 2)
        return TuneCommand(Verb.TRY, rest[0], parts[2].strip() if len(parts) > 2 else "")
    if head == "try":
        return TuneCommand(Verb.USAGE, head)
    if head in _WITH_ARGUMENT and len(rest) == 1:
        return TuneCommand(_WITH_ARGUMENT[head], rest[0])
    return TuneCommand(Verb.USAGE, head if head in _WITH_ARGUMENT else "")
