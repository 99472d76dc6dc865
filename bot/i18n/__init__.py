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


class _Lenient(dict[str, ParamValue]):
    # A placeholder the caller forgot shows as `{name}` rather than raising inside a handler.
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def translate(language: str, key: str, **params: ParamValue) -> str:
    """The message for `key` in `language` (English if that language lacks it), formatted."""
    template = CATALOGUES.get(language, en.MESSAGES).get(key) or en.MESSAGES.get(key)
    if template is None:
        return key
    return string.Formatter().vformat(template, (), _Lenient(params))


def render(language: str, problem: Problem) -> str:
    """A domain Problem as text in `language`."""
    return translate(language, problem.key, **dict(problem.params))


def placeholders(template: str) -> set[str]:
    """Names used in a template's `{…}` fields (for catalogue consistency checks)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}
