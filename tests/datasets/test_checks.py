"""Line checks: each kind of broken example is named, valid ones pass and are counted."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.datasets.checks import check_line
from bot.datasets.findings import Severity
from bot.datasets.tokens import estimate_tokens
from bot.tuning.catalogue import DatasetFormat
from tests.datasets.conftest import gemini_example, legacy_example

GEMINI = DatasetFormat.GEMINI
LEGACY = DatasetFormat.LEGACY_MESSAGES


def _line(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def _keys(raw: bytes, fmt: DatasetFormat = GEMINI) -> dict[str, Severity]:
    return {problem.key: severity for severity, problem in check_line(raw, fmt).problems}


def _turns(*turns: tuple[str, str]) -> dict[str, Any]:
    return {"contents": [{"role": r, "parts": [{"text": t}]} for r, t in turns]}


def test_valid_gemini_example_has_no_problems_and_counts_its_text() -> None:
    check = check_line(_line(gemini_example("Hello there", "Hi")), GEMINI)
    assert check.problems == []
    assert check.is_example
    assert check.characters == len("Answer briefly.") + len("Hello there") + len("Hi")


def test_valid_legacy_example_has_no_problems() -> None:
    check = check_line(_line(legacy_example()), LEGACY)
    assert check.problems == []
    assert check.is_example


def test_media_and_snake_case_parts_are_accepted() -> None:
    example = {
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"file_data": {"mime_type": "image/png", "file_uri": "gs://b/cat.png"}},
                    {"text": "What is this?"},
                ],
            },
            {"role": "model", "parts": [{"text": "A cat."}]},
        ]
    }
    check = check_line(_line(example), GEMINI)
    assert check.problems == []
    assert check.media_parts == 1


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        (b"{not json", "preflight.invalid_json"),
        (b'{"contents": [1, 2]', "preflight.invalid_json"),
        (b'{"contents": "\xff\xfe"}', "preflight.not_utf8"),
        (b"[1, 2, 3]", "preflight.not_object"),
        (b'"just a string"', "preflight.not_object"),
        (_line({"prompt": "x", "completion": "y"}), "preflight.no_contents"),
        (_line({"contents": {"role": "user"}}), "preflight.contents_not_list"),
        (_line({"contents": []}), "preflight.contents_empty"),
        (_line({"messages": [{"role": "user", "content": "x"}]}), "preflight.legacy_in_gemini"),
        (_line({"contents": ["hello"]}), "preflight.turn_not_object"),
        (_line({"contents": [{"parts": [{"text": "x"}]}]}), "preflight.role_missing"),
        (_line(_turns(("user", "q"), ("assistant", "a"))), "preflight.role_assistant"),
        (_line(_turns(("system", "s"), ("user", "q"), ("model", "a"))), "preflight.role_system"),
        (_line(_turns(("user", "q"), ("bot", "a"))), "preflight.role_unknown"),
        (_line(_turns(("user", "q"), ("user", "q2"), ("model", "a"))), "preflight.same_role_twice"),
        (_line(_turns(("user", "q"), ("model", "a"), ("user", "q2"))), "preflight.last_not_model"),
        (_line(_turns(("user", "q"), ("model", " \n"))), "preflight.empty_text"),
        (_line({"contents": [{"role": "user", "parts": []}]}), "preflight.no_parts"),
        (_line({"contents": [{"role": "user", "parts": ["x"]}]}), "preflight.part_not_object"),
        (_line({"contents": [{"role": "user", "parts": [{"txt": "x"}]}]}), "preflight.part_empty"),
        (
            _line({"contents": [{"role": "user", "parts": [{"text": 1}]}]}),
            "preflight.text_not_string",
        ),
        (
            _line(
                {
                    "contents": [
                        {"role": "user", "parts": [{"text": "q", "fileData": {}}]},
                        {"role": "model", "parts": [{"text": "a"}]},
                    ]
                }
            ),
            "preflight.part_many",
        ),
        (
            _line({"contents": [{"role": "user", "parts": [{"fileData": {"mimeType": "x"}}]}]}),
            "preflight.file_data",
        ),
        (
            _line(
                {
                    "contents": [
                        {
                            "role": "user",
                            "parts": [
                                {"fileData": {"mimeType": "image/png", "fileUri": "https://x/y"}}
                            ],
                        }
                    ]
                }
            ),
            "preflight.file_uri_scheme",
        ),
        (
            _line({**_turns(("user", "q"), ("model", "a")), "systemInstruction": "be nice"}),
            "preflight.system_not_object",
        ),
        (
            _line({**_turns(("user", "q"), ("model", "a")), "systemInstruction": {"parts": []}}),
            "preflight.system_no_parts",
        ),
        (
            _line(
                {
                    **_turns(("user", "q"), ("model", "a")),
                    "systemInstruction": {"parts": [{"text": ""}]},
                }
            ),
            "preflight.system_empty",
        ),
    ],
)
def test_broken_gemini_lines_are_errors(raw: bytes, key: str) -> None:
    assert _keys(raw).get(key) is Severity.ERROR


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ({**_turns(("user", "q"), ("model", "a")), "label": "x"}, "preflight.unknown_key"),
        (_turns(("model", "hi"), ("user", "q"), ("model", "a")), "preflight.first_not_user"),
        (
            {
                "contents": [
                    {"role": "user", "parts": [{"text": "weather?"}]},
                    {"role": "model", "parts": [{"functionCall": {"name": "w", "args": {}}}]},
                ]
            },
            "preflight.function_parts",
        ),
    ],
)
def test_doubtful_gemini_lines_are_warnings(value: dict[str, Any], key: str) -> None:
    assert _keys(_line(value)).get(key) is Severity.WARNING


def test_blank_line_is_a_warning_and_not_an_example() -> None:
    check = check_line(b"  \r", GEMINI)
    assert [(s, p.key) for s, p in check.problems] == [(Severity.WARNING, "preflight.blank_line")]
    assert not check.is_example


@pytest.mark.parametrize(
    ("value", "key"),
    [
        (_turns(("user", "q"), ("model", "a")), "preflight.gemini_in_legacy"),
        ({"messages": []}, "preflight.messages_not_list"),
        ({"text": "x"}, "preflight.no_messages"),
        (
            {"messages": [{"role": "user", "content": "q"}, {"role": "system", "content": "s"}]},
            "preflight.system_not_first",
        ),
        ({"messages": [{"role": "user", "content": 3}]}, "preflight.content_not_string"),
        (
            {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]},
            "preflight.role_assistant",
        ),
        ({"messages": [{"role": "user", "content": "q"}]}, "preflight.last_not_model"),
        (
            {
                "messages": [
                    {"role": "user", "content": "q"},
                    {"role": "user", "content": "q"},
                    {"role": "model", "content": "a"},
                ]
            },
            "preflight.same_role_twice",
        ),
    ],
)
def test_broken_legacy_lines_are_errors(value: dict[str, Any], key: str) -> None:
    assert _keys(_line(value), LEGACY).get(key) is Severity.ERROR


def test_unknown_key_names_are_shortened_and_cannot_break_out_of_code() -> None:
    raw = _line({**_turns(("user", "q"), ("model", "a")), "`" + "k" * 100: 1})
    (problem,) = [p for _, p in check_line(raw, GEMINI).problems]
    shown = str(problem.params["name"])
    assert "`" not in shown
    assert len(shown) <= 25


def test_token_estimate_counts_four_latin_characters_or_one_cjk_character_per_token() -> None:
    assert estimate_tokens("abcdefgh") == 2
    assert estimate_tokens("abcdefghi") == 3
    assert estimate_tokens("日本語のテキスト") == 8
    assert estimate_tokens("日本 ok") == 2 + 1
