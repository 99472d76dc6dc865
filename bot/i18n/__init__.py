"""Every user-facing string, one catalogue per language; English is the fallback."""

from __future__ import annotations

import string
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


def placeholders(template: str) -> set[str]:
    """Names used in a template's `{…}` fields (for catalogue consistency checks)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}
