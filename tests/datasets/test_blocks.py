"""The many-lines-per-call path against the line-by-line one: the same report, always.

The careful path (every line through checks.check_line or plain_text_example, as before the
block path existed) is the oracle. Each file is checked twice, once with the block path turned
off, and the two reports must be equal field for field, findings and rendered text included.
The corpus has a line for every finding the checks know (read from their source, so a new
check without a line here fails), lines that are valid but unusual, and lines built to fool a
decoder that reads many lines at once; they are mixed at random and placed across chunk and
block boundaries.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
import random
import re
from pathlib import Path
from typing import Any

import pytest

import bot.datasets.preflight as preflight
from bot.datasets import Budget, DatasetOpener, PreflightReport, run_preflight
from bot.datasets import checks as checks_module
from bot.datasets.blocks import BlockChecker
from bot.datasets.sources import LineSplitter
from bot.datasets.text import report_lines
from bot.tuning.catalogue import ModelInfo
from tests.datasets.conftest import model

# A small token limit, so that "too many tokens" turns up among short lines too.
LIMIT = 60
FLASH = dataclasses.replace(model("gemini-2.5-flash"), max_tokens_per_example=LIMIT)
LEGACY = model("gemini-1.0-pro-002")
MAX_LINE = 3000


def _j(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def _turns(*turns: tuple[str, str]) -> list[dict[str, Any]]:
    return [{"role": role, "parts": [{"text": text}]} for role, text in turns]


def _pair(question: str = "What is 2 + 2?", answer: str = "4") -> dict[str, Any]:
    return {"contents": _turns(("user", question), ("model", answer))}


SYSTEM = {"parts": [{"text": "Answer briefly."}]}

# Plain examples: what the block path takes.
PLAIN: list[bytes] = [
    _j(_pair()),
    _j(_pair("日本語の質問ですか？", "はい、そうです。")),
    _j({**_pair(), "systemInstruction": SYSTEM}),
    _j({"systemInstruction": {"role": "system", "parts": [{"text": "Be kind."}]}, **_pair()}),
    _j({"contents": _turns(("user", "a"), ("model", "b"), ("user", "c"), ("model", "d"))}),
    _j(
        {
            "systemInstruction": {"parts": [{"text": "one"}, {"text": "two"}]},
            "contents": [
                {"role": "user", "parts": [{"text": "q1"}, {"text": "q2"}]},
                {"role": "model", "parts": [{"text": "a"}]},
            ],
        }
    ),
    _j(
        {
            "contents": [
                {"parts": [{"text": "q"}], "role": "user"},
                {"parts": [{"text": "a"}], "role": "model"},
            ]
        }
    ),
    json.dumps(_pair('tab\there, quote " and é', "emoji 😀 ok")).encode(),  # escapes
    json.dumps(_pair("caf\u00e9", "\u3042")).encode(),  # \u escapes
    b'{"contents":[{"role":"user","parts":[{"text":"compact"}]},{"role":"model","parts":[{"text":"x"}]}]}',
    b'{ "contents" : [ { "role" : "user" , "parts" : [ { "text" : "spaced" } ] } ,'
    b' { "role" : "model" , "parts" : [ { "text" : "y" } ] } ] }',
    b'{"contents": [{"role": "us\\u0065r", "parts": [{"t\\u0065xt": "escaped key"}]},'
    b' {"role": "model", "parts": [{"text": "z"}]}]}',
    # Duplicate keys: the last one counts, as for the line-by-line parser.
    b'{"contents": [{"role": "user", "parts": [{"text": "first", "text": "second"}]},'
    b' {"role": "model", "parts": [{"text": "a"}]}]}',
    _j(_pair("한국어 질문", "（全角）！")),
    _j(_pair()) + b"   ",
    b"  " + _j(_pair()),
    _j(_pair()) + b"\r",
]
# Plain, but over the token limit: the warning names its line, so the block path declines.
OVER_LIMIT = _j(_pair("x" * 300, "y"))

# Valid, or nearly, but unusual: the line-by-line path decides.
UNUSUAL: list[bytes] = [
    _j(
        {
            "contents": [
                {"role": "user", "parts": [{"text": "q"}], "note": 1},
                *_turns(("model", "a")),
            ]
        }
    ),
    _j({**_pair(), "system_instruction": SYSTEM}),
    _j({**_pair(), "systemInstruction": None}),
    _j({**_pair(), "systemInstruction": {"parts": [{"text": "s"}], "extra": [1, 2]}}),
    _j({**_pair(), "systemInstruction": {"parts": [{"text": "s"}], "role": 7}}),
    _j(
        {
            "contents": [
                {"role": "user", "parts": [{"text": "q", "thought": True}]},
                *_turns(("model", "a")),
            ]
        }
    ),
    _j({**_pair(), "generationConfig": {"temperature": 0.2}}),
    _j({**_pair(), "label": 123456789012345678901234567890}),
    b'{"contents": [{"role": "user", "parts": [{"text": 5, "text": "q"}]},'
    b' {"role": "model", "parts": [{"text": "a"}]}]}',
    b'{"contents": [], "contents": [{"role": "user", "parts": [{"text": "q"}]},'
    b' {"role": "model", "parts": [{"text": "a"}]}]}',
    _j(
        {
            "contents": [
                {
                    "role": "user",
                    "parts": [
                        {"fileData": {"mimeType": "image/png", "fileUri": "gs://b/c.png"}},
                        {"text": "what?"},
                    ],
                },
                *_turns(("model", "a cat")),
            ]
        }
    ),
    _j(
        {
            "contents": [
                {
                    "role": "user",
                    "parts": [{"inline_data": {"mime_type": "image/png", "data": "AAAA"}}],
                },
                *_turns(("model", "a")),
            ]
        }
    ),
]

# Built to fool a decoder that takes many lines per call.
TRICKY: list[bytes] = [
    b"0",
    b"0 0",
    b"[]",
    _j(_pair()) + b" " + _j(_pair()),  # two examples on one line
    _j(_pair()) + b"," + _j(_pair()),
    _j(_pair()) + b" 0 " + _j(_pair()),
    b'{"contents": [{"role": "user", "parts": [{"text": "q"}]}',  # first half of one example
    b', {"role": "model", "parts": [{"text": "a"}]}]}',  # ... and its second half
    b'{"contents": [{"role": "user", "parts": [{"text": "split',
    b'string"}]}, {"role": "model", "parts": [{"text": "a"}]}]}',
    b'{"contents": [{"role": "user", "parts": [{"text": "q"}]}, 0]}',
    b"\t",
    b"\r",
]

# Invalid UTF-8 in every kind of place a plain example has text.
NOT_UTF8: list[bytes] = [
    _j(_pair("bad", "x")).replace(b'"bad"', b'"b\xffd"'),
    _j(_pair("bad", "x")).replace(b'"bad"', b'"\xc0\xafd"'),  # overlong
    _j(_pair("bad", "x")).replace(b'"bad"', b'"\xed\xa0\x80"'),  # encoded surrogate
    _j(_pair("bad", "x")).replace(b'"bad"', b'"\xf4\x90\x80\x80"'),  # above U+10FFFF
    _j(_pair("ok", "x")).replace(b'"role"', b'"r\xffle"'),
    _j(_pair("ok", "x")).replace(b'"user"', b'"us\xe9r"'),
    _j({**_pair(), "systemInstruction": {"parts": [{"text": "sys"}]}}).replace(
        b'"sys"', b'"s\xffs"'
    ),
    _j({**_pair(), "systemInstruction": {"parts": [{"text": "s"}], "role": "bad"}}).replace(
        b'"bad"', b'"\xff"'
    ),
    _j({**_pair(), "label": "bad"}).replace(b'"bad"', b'"\xff"'),
]

INVALID_JSON: list[bytes] = [
    b"{not json",
    _j(_pair("q", "a")).replace(b'"q"', b'"\\ud800"'),  # lone surrogate escape
    _j(_pair("q", "a")).replace(b'"q"', b'"\\udc00x"'),
    _j(_pair("q", "a")).replace(b'"q"', b'"a\x01b"'),  # raw control character
    _j(_pair("q", "a")).replace(b'"q"', b'"a\tb"'),  # raw tab inside a string
    _j(_pair("q", "a")).replace(b'"q"', b'"\\x"'),  # unknown escape
    _j(_pair("q", "a"))[:-1],
    b"\xef\xbb\xbf" + _j(_pair()),  # a BOM after line 1 is just not JSON
    b'{"contents": NaN}',
]

# One line (or more) for each finding a line can have; keys are message keys.
GEMINI_FINDINGS: dict[str, list[bytes]] = {
    "preflight.not_utf8": NOT_UTF8,
    "preflight.invalid_json": INVALID_JSON,
    "preflight.blank_line": [b"", b"   ", b" \r"],
    "preflight.not_object": [b"[1, 2]", b'"text"', b"true", b"null", b"3.5"],
    "preflight.no_contents": [_j({"prompt": "x"})],
    "preflight.contents_not_list": [_j({"contents": {"role": "user"}})],
    "preflight.contents_empty": [_j({"contents": []})],
    "preflight.legacy_in_gemini": [_j({"messages": [{"role": "user", "content": "x"}]})],
    "preflight.unknown_key": [_j({**_pair(), "label": "x"})],
    "preflight.system_not_object": [_j({**_pair(), "systemInstruction": "be nice"})],
    "preflight.system_no_parts": [_j({**_pair(), "systemInstruction": {"parts": []}})],
    "preflight.system_text": [_j({**_pair(), "systemInstruction": {"parts": [{"txt": "x"}]}})],
    "preflight.system_empty": [
        _j({**_pair(), "systemInstruction": {"parts": [{"text": ""}]}}),
        _j({**_pair(), "systemInstruction": {"parts": [{"text": " \u3000"}]}}),
    ],
    "preflight.turn_not_object": [_j({"contents": ["hello", *_turns(("model", "a"))]})],
    "preflight.role_missing": [_j({"contents": [{"parts": [{"text": "x"}]}]})],
    "preflight.role_assistant": [_j({"contents": _turns(("user", "q"), ("assistant", "a"))})],
    "preflight.role_system": [
        _j({"contents": _turns(("system", "s"), ("user", "q"), ("model", "a"))})
    ],
    "preflight.role_unknown": [
        _j({"contents": _turns(("user", "q"), ("bot", "a"))}),
        _j({"contents": [{"role": 1, "parts": [{"text": "q"}]}]}),
    ],
    "preflight.first_not_user": [
        _j({"contents": _turns(("model", "hi"), ("user", "q"), ("model", "a"))})
    ],
    "preflight.same_role_twice": [
        _j({"contents": _turns(("user", "q"), ("user", "q"), ("model", "a"))})
    ],
    "preflight.last_not_model": [
        _j({"contents": _turns(("user", "q"))}),
        _j({"contents": _turns(("user", "q"), ("model", "a"), ("user", "q2"))}),
    ],
    "preflight.no_parts": [
        _j({"contents": [{"role": "user", "parts": []}, *_turns(("model", "a"))]}),
        _j({"contents": [{"role": "user"}, *_turns(("model", "a"))]}),
    ],
    "preflight.part_not_object": [
        _j({"contents": [{"role": "user", "parts": ["x"]}, *_turns(("model", "a"))]})
    ],
    "preflight.part_empty": [
        _j({"contents": [{"role": "user", "parts": [{"txt": "x"}]}, *_turns(("model", "a"))]})
    ],
    "preflight.part_many": [
        _j(
            {
                "contents": [
                    {"role": "user", "parts": [{"text": "q", "fileData": {}}]},
                    *_turns(("model", "a")),
                ]
            }
        )
    ],
    "preflight.unknown_part_key": [
        _j(
            {
                "contents": [
                    {"role": "user", "parts": [{"text": "q", "color": "red"}]},
                    *_turns(("model", "a")),
                ]
            }
        )
    ],
    "preflight.text_not_string": [
        _j({"contents": [{"role": "user", "parts": [{"text": 1}]}, *_turns(("model", "a"))]})
    ],
    "preflight.empty_text": [
        _j(_pair("q", "")),
        _j(_pair(" \n\t", "a")),
        _j(_pair("q", " ")),
        _j(
            {"contents": _turns(("user", "q"), ("model", "a"), ("user", "q2"), ("model", "\u3000"))}
        ),
        _j(_pair("\u3000", "a")),  # an ideographic space is whitespace too
        _j(_pair("\x1f", "a")),
    ],
    "preflight.file_data": [
        _j(
            {
                "contents": [
                    {"role": "user", "parts": [{"fileData": {"mimeType": "x"}}]},
                    *_turns(("model", "a")),
                ]
            }
        )
    ],
    "preflight.file_uri_scheme": [
        _j(
            {
                "contents": [
                    {
                        "role": "user",
                        "parts": [
                            {"fileData": {"mimeType": "image/png", "fileUri": "https://x/y"}}
                        ],
                    },
                    *_turns(("model", "a")),
                ]
            }
        )
    ],
    "preflight.inline_data": [
        _j(
            {
                "contents": [
                    {"role": "user", "parts": [{"inlineData": {"data": "AAAA"}}]},
                    *_turns(("model", "a")),
                ]
            }
        )
    ],
    "preflight.function_parts": [
        _j(
            {
                "contents": [
                    *_turns(("user", "weather?")),
                    {"role": "model", "parts": [{"functionCall": {"name": "w", "args": {}}}]},
                ]
            }
        )
    ],
    "preflight.too_many_tokens": [
        _j(_pair("many words " * 30, "a")),
        _j(_pair("日本語" * 30, "a")),
    ],
    "preflight.line_too_long": [_j(_pair("x" * MAX_LINE, "a"))],
}
# The byte-order mark is looked for on line 1 only; files below start with this line.
BOM_LINE = b"\xef\xbb\xbf" + _j(_pair())

LEGACY_FINDINGS: dict[str, list[bytes]] = {
    "preflight.gemini_in_legacy": [_j(_pair())],
    "preflight.messages_not_list": [_j({"messages": []})],
    "preflight.no_messages": [_j({"text": "x"})],
    "preflight.system_not_first": [
        _j({"messages": [{"role": "user", "content": "q"}, {"role": "system", "content": "s"}]})
    ],
    "preflight.content_not_string": [_j({"messages": [{"role": "user", "content": 3}]})],
    "preflight.legacy_role_unknown": [_j({"messages": [{"role": "bot", "content": "q"}]})],
}
LEGACY_GOOD = _j(
    {
        "messages": [
            {"role": "system", "content": "Answer briefly."},
            {"role": "user", "content": "What is 2 + 2?"},
            {"role": "model", "content": "4"},
        ]
    }
)


def _line_finding_keys() -> set[str]:
    """Every message key a line can be reported with, read from the checks' own source."""
    sources = [
        inspect.getsource(checks_module),
        inspect.getsource(preflight._check_one),
        inspect.getsource(preflight._too_many_tokens),
    ]
    return {key for text in sources for key in re.findall(r'"(preflight\.[a-z_]+)"', text)}


def test_the_corpus_has_a_line_for_every_finding_a_line_can_have() -> None:
    covered = set(GEMINI_FINDINGS) | set(LEGACY_FINDINGS) | {"preflight.bom"}
    assert _line_finding_keys() - covered == set()


@pytest.mark.parametrize(
    ("key", "raw"),
    [(key, raw) for key, lines in GEMINI_FINDINGS.items() for raw in lines],
)
async def test_each_sample_line_has_the_finding_it_stands_for(
    key: str, raw: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _small_line_limit(monkeypatch)
    report = await _check(tmp_path, [_j(_pair()), raw], FLASH)
    assert (2, key) in {(f.line, f.problem.key) for f in report.errors + report.warnings}


@pytest.mark.parametrize(
    ("key", "raw"),
    [(key, raw) for key, lines in LEGACY_FINDINGS.items() for raw in lines],
)
async def test_each_legacy_sample_line_has_the_finding_it_stands_for(
    key: str, raw: bytes, tmp_path: Path
) -> None:
    report = await _check(tmp_path, [LEGACY_GOOD, raw], LEGACY)
    assert (2, key) in {(f.line, f.problem.key) for f in report.errors + report.warnings}


def test_plain_lines_are_taken_by_the_block_path_and_the_others_are_not() -> None:
    checker = BlockChecker(LIMIT)
    for raw in PLAIN:
        assert checker.check_block(raw + b"\n") is not None, raw
    assert checker.check_block(b"\n".join(PLAIN) + b"\n") is not None
    others = [OVER_LIMIT, *UNUSUAL, *TRICKY]
    for raw in others + [line for lines in GEMINI_FINDINGS.values() for line in lines]:
        assert checker.check_block(raw + b"\n") is None, raw
        assert checker.check_block(PLAIN[0] + b"\n" + raw + b"\n") is None, raw
    # The halves of a split example, one after the other, are still two broken lines.
    assert checker.check_block(TRICKY[6] + b"\n" + TRICKY[7] + b"\n") is None
    assert checker.check_block(TRICKY[8] + b"\n" + TRICKY[9] + b"\n") is None


async def test_every_sample_line_gives_the_same_report_both_ways(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _small_line_limit(monkeypatch)
    every = [line for lines in GEMINI_FINDINGS.values() for line in lines]
    lines = [BOM_LINE]
    for raw in [*every, *UNUSUAL, *TRICKY, *PLAIN, OVER_LIMIT]:
        lines += [_j(_pair()), raw, _j({**_pair(), "systemInstruction": SYSTEM})]
    await _assert_same_both_ways(tmp_path, lines, FLASH, monkeypatch, chunk_bytes=4096)
    legacy = [LEGACY_GOOD, *(line for ls in LEGACY_FINDINGS.values() for line in ls), *every]
    await _assert_same_both_ways(tmp_path, legacy, LEGACY, monkeypatch, chunk_bytes=4096)


@pytest.mark.parametrize("seed", range(40))
async def test_random_mixes_give_the_same_report_both_ways(
    seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _small_line_limit(monkeypatch)
    rng = random.Random(seed)
    odd = [line for lines in GEMINI_FINDINGS.values() for line in lines] + UNUSUAL + TRICKY
    plain = [*PLAIN, OVER_LIMIT]
    share = rng.choice((0.0, 0.01, 0.1, 0.5))
    lines = [
        rng.choice(odd) if rng.random() < share else rng.choice(plain)
        for _ in range(rng.randint(1, 400))
    ]
    if rng.random() < 0.2:
        lines[0] = BOM_LINE
    end = rng.choice((b"\n", b"\r\n"))
    await _assert_same_both_ways(
        tmp_path,
        lines,
        FLASH,
        monkeypatch,
        chunk_bytes=rng.choice((61, 997, 4096, 65536)),
        block_bytes=rng.choice((1, 200, 1000, 16384)),
        line_end=end,
        final_newline=rng.random() < 0.8,
    )


@pytest.mark.parametrize("key", sorted(GEMINI_FINDINGS))
async def test_a_bad_line_at_any_chunk_or_block_boundary_gives_the_same_report(
    key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _small_line_limit(monkeypatch)
    before = [_j(_pair(f"question {n}", "answer")) for n in range(5)]
    after = [_j(_pair(f"later {n}", "answer")) for n in range(5)]
    bad = GEMINI_FINDINGS[key][0]
    start = sum(len(line) + 1 for line in before)
    stop = start + len(bad) + 1
    # Boundaries just before, at, inside and just after the bad line.
    for cut in sorted({start - 1, start, start + 1, (start + stop) // 2, stop - 1, stop, stop + 1}):
        for chunk_bytes, block_bytes in ((cut, 16384), (65536, cut), (cut, cut)):
            await _assert_same_both_ways(
                tmp_path,
                [*before, bad, *after],
                FLASH,
                monkeypatch,
                chunk_bytes=chunk_bytes,
                block_bytes=block_bytes,
            )


async def test_a_byte_budget_cut_gives_the_same_partial_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [_j(_pair(f"q{n}", "a")) for n in range(300)] + [b"{broken"] * 3
    for max_bytes in (1, 500, 5000, 9999, 12_345):
        await _assert_same_both_ways(
            tmp_path, lines, FLASH, monkeypatch, chunk_bytes=997, budget=Budget(max_bytes=max_bytes)
        )


# --- helpers ------------------------------------------------------------------------------


def _small_line_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    # A line over the limit is then a few kilobytes, not megabytes.
    monkeypatch.setattr(preflight, "LineSplitter", functools.partial(LineSplitter, MAX_LINE))


async def _check(
    tmp_path: Path,
    lines: list[bytes],
    info: ModelInfo,
    *,
    chunk_bytes: int = 1 << 20,
    line_end: bytes = b"\n",
    final_newline: bool = True,
    budget: Budget | None = None,
) -> PreflightReport:
    path = tmp_path / "data.jsonl"
    path.write_bytes(line_end.join(lines) + (line_end if final_newline else b""))
    opener = DatasetOpener(None, None, None, allow_local_files=True, chunk_bytes=chunk_bytes)
    return await run_preflight(
        str(path), model=info, validation=False, opener=opener, epochs=2, budget=budget
    )


async def _assert_same_both_ways(
    tmp_path: Path,
    lines: list[bytes],
    info: ModelInfo,
    monkeypatch: pytest.MonkeyPatch,
    *,
    block_bytes: int = 16384,
    **options: Any,
) -> None:
    monkeypatch.setattr(preflight, "BLOCK_BYTES", block_bytes)
    fast = await _check(tmp_path, lines, info, **options)
    with monkeypatch.context() as off:
        off.setattr(BlockChecker, "check_block", lambda self, block: None)
        careful = await _check(tmp_path, lines, info, **options)
    assert fast == careful
    for language in ("en", "ja"):
        assert report_lines(fast, language, max_findings=100) == report_lines(
            careful, language, max_findings=100
        )
