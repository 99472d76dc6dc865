"""The message catalogues: same keys and placeholders in every language, real Japanese."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.i18n import CATALOGUES, language_for, placeholders, render, translate
from bot.i18n.en import MESSAGES as EN
from bot.i18n.ja import MESSAGES as JA
from bot.tuning.problems import Problem
from bot.tuning.states import JobState

BOT = Path(__file__).resolve().parent.parent / "bot"
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff01-\uff5e]")


def keys_used_in_code() -> set[str]:
    """Every `Problem.of("…")` key in the package and every `auth.` key the policy returns."""
    keys: set[str] = set()
    for path in BOT.rglob("*.py"):
        text = path.read_text("utf-8")
        keys.update(re.findall(r'Problem\.of\(\s*"([a-z0-9_.]+)"', text))
    keys.update(re.findall(r'"(auth\.[a-z_]+)"', (BOT / "tuning" / "access.py").read_text("utf-8")))
    keys.update(f"state.{state.short}" for state in JobState)
    return keys


def test_both_catalogues_have_the_same_keys() -> None:
    assert sorted(set(EN) - set(JA)) == []
    assert sorted(set(JA) - set(EN)) == []


@pytest.mark.parametrize("key", sorted(EN))
def test_same_placeholders_per_key(key: str) -> None:
    if key in JA:
        assert placeholders(JA[key]) == placeholders(EN[key])


def test_the_code_uses_keys_that_exist_in_both_catalogues() -> None:
    used = keys_used_in_code()
    assert len(used) > 40  # the grep found the domain's keys
    assert sorted(k for k in used if k not in EN) == []
    assert sorted(k for k in used if k not in JA) == []


# What stays the same in every language: command syntax, URIs, placeholders, product names.
NEUTRAL = re.compile(
    r"^/tune\b.*$|\S+://\S*|\{\w+\}|\b(?:Google|Cloud|Vertex|AI|Experiments|Gemini|Slack|JSONL)\b",
    re.MULTILINE,
)


def untranslated(text: str) -> bool:
    """True when the text has English words left once the language-neutral parts are gone."""
    return not JAPANESE.search(text) and bool(re.search(r"[A-Za-z]{2,}", NEUTRAL.sub("", text)))


@pytest.mark.parametrize("key", sorted(JA))
def test_japanese_text_is_japanese(key: str) -> None:
    assert not untranslated(JA[key]), f"{key} is not translated: {JA[key]!r}"


def test_the_untranslated_check_catches_english_copies() -> None:
    assert untranslated("Choose a base model.")
    assert untranslated("/tune list\nShows the jobs.")
    assert not untranslated("/tune cancel <job>")
    assert not untranslated("gs://bucket/train.jsonl")
    assert not untranslated("Vertex AI Experiments")
    assert not untranslated("ベースモデルを選んでください。")


@pytest.mark.parametrize(
    ("locale", "language"),
    [
        ("ja-JP", "ja"),
        ("ja", "ja"),
        ("ja_JP", "ja"),
        ("JA-jp", "ja"),
        ("en-US", "en"),
        ("en-GB", "en"),
        ("fr-FR", "en"),
        ("zh-TW", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_language_for(locale: str | None, language: str) -> None:
    assert language_for(locale) == language
    assert language in CATALOGUES


def test_translate_formats_and_falls_back() -> None:
    assert (
        translate("ja", "spec.epochs_range", low=1, high=100)
        == "エポック数は 1〜100 で指定してください。"
    )
    assert translate("fr", "spec.epochs_range", low=1, high=100) == "Epochs must be from 1 to 100."
    assert translate("en", "no.such.key") == "no.such.key"


def test_a_forgotten_placeholder_shows_rather_than_raising() -> None:
    assert translate("en", "spec.epochs_range", low=1) == "Epochs must be from 1 to {high}."


def test_user_text_in_parameters_is_not_formatted_again() -> None:
    problem = Problem.of("ref.invalid", text="{__class__} {0} {text}")
    assert render("en", problem).startswith("`{__class__} {0} {text}` is not a tuning job.")
