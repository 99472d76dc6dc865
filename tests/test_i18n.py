"""The message catalogues: same keys and placeholders in every language, real Japanese."""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.datasets import text as dataset_text
from bot.i18n import (
    CATALOGUES,
    MissingMessage,
    language_for,
    placeholders,
    render,
    set_strict,
    translate,
)
from bot.i18n.en import MESSAGES as EN
from bot.i18n.ja import MESSAGES as JA
from bot.slack.messages import create_form, shared
from bot.slack.messages import help as help_message_module
from bot.slack.messages import job_list as job_list_module
from bot.slack.messages.job_detail import job_detail_message
from bot.slack.messages.job_list import list_message
from bot.slack.messages.shared import hyperparameters_text
from bot.slack.messages.status_card import render_status_card
from bot.slack.mrkdwn import format_duration
from bot.tuning.job import TuningJob
from bot.tuning.problems import Problem
from bot.tuning.refs import JobRef
from bot.tuning.states import JobState

BOT = Path(__file__).resolve().parent.parent / "bot"
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff01-\uff5e]")


# Keys chosen at run time live in tables written out in full: their values are keys too.
KEY_TABLES = [
    shared.STATE_KEYS.values(),
    create_form.MODEL_STATUS_KEYS.values(),
    job_list_module.LIST_FILTER_KEYS.values(),
    [key for pair in help_message_module.HELP_KEYS for key in pair],
    [key for keys in create_form.FIELD_KEYS.values() for key in keys],
    [key for pair in dataset_text.SECTION_KEYS.values() for key in pair],
    dataset_text.JSON_KIND_KEYS.values(),
]
_KEY_TAKERS = {"translate": 1, "t": 0, "of": 0}  # function name → position of the key


def _key_arguments() -> list[tuple[str, ast.expr]]:
    """(module, key argument) of every `translate(lang, key)`, `t(key)`, `Problem.of(key)`."""
    found = []
    for path in BOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name == "of" and not (
                isinstance(func, ast.Attribute) and getattr(func.value, "id", "") == "Problem"
            ):
                continue
            position = _KEY_TAKERS.get(name or "")
            if position is not None and len(node.args) > position:
                found.append((str(path.relative_to(BOT)), node.args[position]))
    return found


def keys_used_in_code() -> set[str]:
    """Every literal key handed to `translate`, `t` or `Problem.of`, the keys in the tables,
    the `auth.` keys the policy returns and each job state's name."""
    # Literals anywhere in the argument: `"a" if ok else "b"`, `TABLE.get(x, "default")`.
    keys = {
        node.value
        for _, argument in _key_arguments()
        for node in ast.walk(argument)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
    keys.update(re.findall(r'"(auth\.[a-z_]+)"', (BOT / "tuning" / "access.py").read_text("utf-8")))
    for table in KEY_TABLES:
        keys.update(table)
    return keys


def test_no_key_is_composed_at_run_time() -> None:
    # `"state." + name` or f"modal.{field}.label" cannot be checked: use a written-out table.
    composed = [
        f"{module}: {ast.unparse(argument)}"
        for module, argument in _key_arguments()
        if isinstance(argument, ast.JoinedStr | ast.BinOp)
    ]
    assert composed == []


# Literals shaped like keys that are not messages: names of logged and counted events.
NOT_MESSAGES = {"watch.end", "modal.create", "modal.model_changed"}
_KEY_SHAPE = re.compile(r"^[a-z_]+(?:\.[a-z0-9_]+)+$")


def test_every_literal_in_a_message_namespace_is_a_message() -> None:
    # Catches keys held in variables before use (`key = "sub.unwatched" if … else …`).
    namespaces = {key.split(".")[0] for key in EN}
    unknown = set()
    for path in BOT.rglob("*.py"):
        if path.parent.name in ("i18n", "emulator"):
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            value = node.value if isinstance(node, ast.Constant) else None
            if (
                isinstance(value, str)
                and _KEY_SHAPE.match(value)
                and value.split(".")[0] in namespaces
                and value not in NOT_MESSAGES
            ):
                unknown.update({value} - set(EN) | ({value} - set(JA)))
    assert sorted(unknown) == []


def test_every_state_has_a_written_out_key() -> None:
    assert set(shared.STATE_KEYS) == set(JobState)


def test_both_catalogues_have_the_same_keys() -> None:
    assert sorted(set(EN) - set(JA)) == []
    assert sorted(set(JA) - set(EN)) == []


@pytest.mark.parametrize("key", sorted(EN))
def test_same_placeholders_per_key(key: str) -> None:
    if key in JA:
        assert placeholders(JA[key]) == placeholders(EN[key])


def test_the_code_uses_keys_that_exist_in_both_catalogues() -> None:
    used = keys_used_in_code()
    assert len(used) > 200  # the scan found the keys of the domain, the Slack layer and tables
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


@pytest.fixture
def lenient() -> Iterator[None]:
    """Production's behaviour: a gap in a catalogue shows rather than failing the handler."""
    set_strict(False)
    yield
    set_strict(True)


def test_translate_formats_and_falls_back(lenient: None) -> None:
    assert (
        translate("ja", "spec.epochs_range", low=1, high=100)
        == "エポック数は 1〜100 で指定してください。"
    )
    assert translate("fr", "spec.epochs_range", low=1, high=100) == "Epochs must be from 1 to 100."
    assert translate("en", "no.such.key") == "no.such.key"


def test_a_forgotten_placeholder_shows_rather_than_raising(lenient: None) -> None:
    assert translate("en", "spec.epochs_range", low=1) == "Epochs must be from 1 to {high}."


def test_strict_mode_raises_on_a_missing_key_or_placeholder() -> None:
    with pytest.raises(MissingMessage):
        translate("en", "no.such.key")
    with pytest.raises(MissingMessage):
        translate("en", "spec.epochs_range", low=1)
    assert translate("ja", "spec.epochs_range", low=1, high=100).startswith("エポック数")


def test_user_text_in_parameters_is_not_formatted_again() -> None:
    problem = Problem.of("ref.invalid", text="{__class__} {0} {text}")
    assert render("en", problem).startswith("`{__class__} {0} {text}` is not a tuning job.")


# One Japanese term per concept; the variants on the right must not come back.
JAPANESE_TERMS = {
    "既定": "デフォルト",
    "追跡": "ウォッチ",
    "フォロー": "ウォッチ",
    "監視": "ウォッチ",
    "サンプル": "例",
    # Vertex AI's Japanese console calls Experiments 「実験」.
    "テスト（Vertex AI Experiments）": "実験（Vertex AI Experiments）",
    "開始した人": "実行者",
    # A count reads 「120 件の例」, not 「例 120 件」.
    "例 {": "{n} 件の例",
    "アダプタのサイズ": "アダプタ サイズ",
    "アダプター": "アダプタ",
    "\uff5e": "\u301c",
}


@pytest.mark.parametrize(("variant", "term"), sorted(JAPANESE_TERMS.items()))
def test_japanese_uses_one_term_per_concept(variant: str, term: str) -> None:
    offending = sorted(key for key, text in JA.items() if variant in text)
    assert offending == [], f"use {term!r} instead of {variant!r} in {offending}"


_JAPANESE_CHAR = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@pytest.mark.parametrize("key", sorted(JA))
def test_japanese_punctuation_is_japanese(key: str) -> None:
    text = JA[key]
    # 「です」 follows a value directly; a code span or bold keeps its space, since Slack may
    # draw a mark that touches a Japanese character as typed.
    assert not re.search(r"[^`*\s] (です|でした)", text), text
    for inner in re.findall(r"\(([^()]*)\)", text):
        assert not _JAPANESE_CHAR.search(inner), f"full-width brackets around {inner!r}"


_JAPANESE_LETTER = re.compile("[\u3041-\u3096\u30a1-\u30fa\u30fc\u4e00-\u9fff]")


@pytest.mark.parametrize("key", sorted(JA))
def test_no_code_span_or_bold_touches_a_japanese_letter(key: str) -> None:
    # Slack may leave `code` or *bold* that runs straight into a kana or kanji unformatted;
    # a space (or punctuation) on each side keeps the mark a mark.
    text = JA[key]
    for span in re.finditer(r"`[^`]+`|\*[^*\s][^*]*\*", text):
        before = text[span.start() - 1] if span.start() else " "
        after = text[span.end()] if span.end() < len(text) else " "
        assert not _JAPANESE_LETTER.match(before), f"{span.group()} after {before!r}"
        assert not _JAPANESE_LETTER.match(after), f"{span.group()} before {after!r}"


# Help's usage lines are escaped where they are rendered; every other entry is mrkdwn as is.
_ESCAPED_WHERE_RENDERED = re.compile(r"help\.\w+\.usage")


@pytest.mark.parametrize(
    ("language", "key"),
    [(lang, key) for lang, catalogue in sorted(CATALOGUES.items()) for key in sorted(catalogue)],
)
def test_no_entry_holds_angle_brackets_slack_would_swallow(language: str, key: str) -> None:
    # Slack reads <…> as a link, mention or command and shows nothing for one it does not know.
    if _ESCAPED_WHERE_RENDERED.fullmatch(key):
        return
    text = CATALOGUES[language][key]
    assert not re.search(r"<(?![@#!]|https?://|\{)[^<>]*>", text), text


def test_japanese_says_chuushi_for_stopping_a_job() -> None:
    # The button, the dialog and every reply say 中止; 「キャンセル」 is left to the state names
    # Google's console shows and to Slack's own close button.
    keeps = {"state.cancelling", "state.cancelled", "list.cancelled", "modal.close"}
    offending = sorted(k for k, text in JA.items() if "キャンセル" in text and k not in keeps)
    assert offending == []


def test_cancel_confirmation_buttons_say_what_they_do() -> None:
    # Beside Slack's own 「キャンセル」 (close), the dialog's buttons say stop / keep running.
    assert JA["card.cancel_confirm_yes"] == "中止する"
    assert JA["card.cancel_confirm_no"] == "実行を続ける"
    # The list filter spans queued, pending, running and paused jobs: not the running state.
    assert JA["list.active"] != JA["state.running"]


@pytest.mark.parametrize(
    ("seconds", "english", "japanese"),
    [
        (0, "0s", "0秒"),
        (45, "45s", "45秒"),
        (12 * 60 + 3, "12m 03s", "12分03秒"),
        (3600 + 5 * 60 + 59, "1h 05m", "1時間05分"),
        (-5, "0s", "0秒"),
    ],
)
def test_durations_are_in_the_reader_language(seconds: int, english: str, japanese: str) -> None:
    delta = dt.timedelta(seconds=seconds)
    assert format_duration(delta, "en") == english
    assert format_duration(delta, "ja") == japanese


def _job(**fields: object) -> TuningJob:
    start = dt.datetime(2026, 11, 25, 10, 54, 30, tzinfo=dt.UTC)
    job = TuningJob(
        ref=JobRef("test-project", "us-central1", "1234567890"),
        state=JobState.RUNNING,
        base_model="gemini-2.5-flash",
        display_name="support-bot-v3",
        epochs=3,
        adapter_size=4,
        learning_rate_multiplier=0.5,
        create_time=start,
        start_time=start,
    )
    return dataclasses.replace(job, **fields)  # type: ignore[arg-type]


NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)


def test_hyperparameters_are_listed_with_the_language_separator() -> None:
    job = _job()
    assert hyperparameters_text(job, "en") == "epochs 3, adapter size 4, learning-rate × 0.5"
    assert hyperparameters_text(job, "ja") == "エポック数 3、アダプタ サイズ 4、学習率の乗数 0.5"
    bare = _job(epochs=None, adapter_size=None, learning_rate_multiplier=None)
    assert hyperparameters_text(bare, "ja") == "Google のデフォルト"


def _all_text(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def test_japanese_status_card_and_job_detail_show_japanese_durations() -> None:
    # The card shows a duration only once the job has ended (a running one would go stale).
    ended = _job(state=JobState.SUCCEEDED, end_time=NOW)
    _, card = render_status_card(ended, started_by="U0ALICE01", language="ja")
    _, detail = job_detail_message(_job(), language="ja", now=NOW)
    for blocks in (card, detail):
        text = _all_text(blocks)
        assert "1時間05分" in text
        assert "1h 05m" not in text
        assert "エポック数 3、アダプタ サイズ 4" in text
    assert "所要時間" in _all_text(card)
    _, english = render_status_card(ended, started_by="U0ALICE01", language="en")
    assert "*Duration*\\n1h 05m" in _all_text(english)


def test_japanese_job_list_shows_japanese_durations() -> None:
    _, blocks = list_message(
        [_job()], filter_word="active", next_page_token=None, language="ja", now=NOW
    )
    text = _all_text(blocks)
    assert "1時間05分" in text
    assert "進行中" in text


@pytest.mark.parametrize("language", ["en", "ja"])
def test_a_filter_word_from_a_forged_button_reads_as_all(language: str) -> None:
    # The "More" button carries the filter word back; a value the bot never wrote must not
    # show the bare key `list.<value>` in the heading.
    fallback, blocks = list_message(
        [_job()], filter_word="<!channel>", next_page_token=None, language=language, now=NOW
    )
    heading = translate(language, "list.title", filter=translate(language, "list.all"))
    assert heading in _all_text(blocks)
    assert "list." not in _all_text(blocks) + fallback
