"""Every user-facing string, one catalogue per language; English is the fallback."""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Mapping

from bot.i18n import en, ja
from bot.tuning.problems import ParamValue, Problem

CATALOGUES: Mapping[str, Mapping[str, str]] = {"en": en.MESSAGES, "ja": ja.MESSAGES}
DEFAULT_LANGUAGE = "en"


def language_for(locale: str | None) -> str:
    """Map a Slack locale such as `ja-JP` to a catalogue language; unknown → English."""
    if locale:
        code = locale.replace("_", "-").split("-")[0].lower()
        if code in CATALOGUES:
            return code
    return DEFAULT_LANGUAGE


_strict = False


class MissingMessage(KeyError):
    """In strict mode: a key absent from a catalogue, or a placeholder given no value."""


def set_strict(strict: bool) -> None:
    """Strict mode (the tests run in it): a missing key or placeholder raises MissingMessage.

    Otherwise, as in production, a user sees the key or `{name}` rather than a failed handler.
    """
    global _strict
    _strict = strict


class _Params(dict[str, ParamValue]):
    def __missing__(self, key: str) -> str:
        if _strict:
            raise MissingMessage(f"no value for {{{key}}}")
        return "{" + key + "}"


def translate(language: str, key: str, **params: ParamValue) -> str:
    """The message for `key` in `language` (English if that language lacks it), formatted."""
    template = CATALOGUES.get(language, en.MESSAGES).get(key)
    if template is None:
        if _strict:
            raise MissingMessage(f"{key!r} is not in the {language!r} catalogue")
        template = en.MESSAGES.get(key)
    if template is None:
        return key
    return string.Formatter().vformat(template, (), _Params(params))


def render(language: str, problem: Problem) -> str:
    """A domain Problem as text in `language`."""
    return translate(language, problem.key, **dict(problem.params))


# Slack shows some texts (errors under a modal's fields) as they are: mrkdwn markers would
# appear literally, so a template's code spans become quotes and its bold markers go.
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_WIDE_CODE_SPAN = re.compile(r" ?`([^`\n]+)` ?")
_BOLD = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")
_LEADING_EMOJI = re.compile(r"^(?::[a-z0-9_+-]+:\s*)+")
_LINK = re.compile(r"<([^<>|]+)\|([^<>]+)>")


def plain_template(language: str, template: str) -> str:
    """A mrkdwn template as plain text: code spans quoted, bold and a leading emoji dropped,
    links written as `label (url)`; its `{placeholders}` stay for formatting."""
    quoted = CATALOGUES.get(language, en.MESSAGES).get("format.quoted", "“{text}”")
    # Full-width quotes (「」) need no spaces around them, as code spans in Japanese do.
    wide = bool(quoted) and unicodedata.east_asian_width(quoted[0]) in ("W", "F")
    span = _WIDE_CODE_SPAN if wide else _CODE_SPAN
    text = span.sub(lambda m: quoted.replace("{text}", m.group(1)), template)
    text = _BOLD.sub(r"\1", text)
    text = _LINK.sub(r"\2 (\1)", text)
    return _LEADING_EMOJI.sub("", text)


def translate_plain(language: str, key: str, **params: ParamValue) -> str:
    """`translate` without the template's mrkdwn (see `plain_template`): for the text of a
    message that only a phone's notification shows."""
    template = CATALOGUES.get(language, en.MESSAGES).get(key)
    if template is None:
        if _strict:
            raise MissingMessage(f"{key!r} is not in the {language!r} catalogue")
        template = en.MESSAGES.get(key, key)
    plain = plain_template(language, template)
    return string.Formatter().vformat(plain, (), _Params(params))


def render_plain(language: str, problem: Problem) -> str:
    """A domain Problem as plain text in `language`, for places that show no mrkdwn; its
    parameters go in as they are (plain text needs no escaping)."""
    template = CATALOGUES.get(language, en.MESSAGES).get(problem.key)
    if template is None:
        if _strict:
            raise MissingMessage(f"{problem.key!r} is not in the {language!r} catalogue")
        template = en.MESSAGES.get(problem.key, problem.key)
    plain = plain_template(language, template)
    return string.Formatter().vformat(plain, (), _Params(dict(problem.params)))


def placeholders(template: str) -> set[str]:
    """Names used in a template's `{…}` fields (for catalogue consistency checks)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}
