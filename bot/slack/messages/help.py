"""The usage of `/tune`: every verb with what it does, in the user's language."""

from __future__ import annotations

import functools

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject

from bot.i18n import translate
from bot.slack.messages.shared import Message, message, section
from bot.slack.mrkdwn import code_text

# (usage, text) message keys of each help line, in the order shown; written out, not composed,
# so that a test can check each one exists.
HELP_KEYS: tuple[tuple[str, str], ...] = (
    ("help.create.usage", "help.create.text"),
    ("help.list.usage", "help.list.text"),
    ("help.get.usage", "help.get.text"),
    ("help.cancel.usage", "help.cancel.text"),
    ("help.watch.usage", "help.watch.text"),
    ("help.unwatch.usage", "help.unwatch.text"),
    ("help.check.usage", "help.check.text"),
    ("help.rerun.usage", "help.rerun.text"),
    ("help.continue.usage", "help.continue.text"),
    ("help.try.usage", "help.try.text"),
    ("help.chart.usage", "help.chart.text"),
    ("help.subscribe.usage", "help.subscribe.text"),
    ("help.unsubscribe.usage", "help.unsubscribe.text"),
    ("help.subscriptions.usage", "help.subscriptions.text"),
    ("help.settings.usage", "help.settings.text"),
    ("help.debug.usage", "help.debug.text"),
    ("help.help.usage", "help.help.text"),
)


def help_message(language: str, *, unknown: bool = False) -> Message:
    """The usage of `/tune`, built once per language (help is the most frequent answer).

    The blocks are shared between calls: serialise them, never change them.
    """
    return _help(language, unknown)


@functools.lru_cache(maxsize=16)
def _help(language: str, unknown: bool) -> Message:
    return _build_help(language, unknown)


def _build_help(language: str, unknown: bool) -> Message:
    # `unknown` adds a line saying the text was not understood.
    lines = [translate(language, "help.unknown")] if unknown else []
    lines.append(translate(language, "help.title"))
    lines += [
        # `<job>` in a usage is Slack's control syntax even inside backticks: escaped, it reads
        # as typed instead of vanishing.
        f"• `{code_text(translate(language, usage))}` — {translate(language, text)}"
        for usage, text in HELP_KEYS
    ]
    blocks: list[Block] = [
        section("\n".join(lines)),
        ContextBlock(elements=[MarkdownTextObject(text=translate(language, "help.job_ref"))]),
    ]
    return message(translate(language, "help.title"), blocks)
