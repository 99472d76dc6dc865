"""The token estimate's dense-character count equals the regex that defines it, everywhere."""

from __future__ import annotations

import random

from bot.datasets.tokens import _DENSE, count_dense, estimate_tokens


def test_dense_count_matches_the_defining_pattern_for_every_code_point() -> None:
    # Runs of consecutive code points, surrogates included, so every block is crossed.
    for start in range(0, 0x110000, 251):
        text = "".join(chr(c) for c in range(start, min(start + 251, 0x110000)))
        assert count_dense(text) == len(_DENSE.findall(text)), hex(start)


def test_dense_count_matches_the_pattern_on_random_mixed_text() -> None:
    rng = random.Random(3)
    pools = [
        "abc xyz",
        "日本語のテキスト、。（）！",
        "한국어",
        "“curly” — …",
        "😀🎉",
        "𠀀𪚲",
        "\uffef\ufff0",
    ]
    for _ in range(2000):
        text = "".join(rng.choice(rng.choice(pools)) for _ in range(rng.randint(1, 40)))
        assert count_dense(text) == len(_DENSE.findall(text)), text


def test_estimate_counts_dense_characters_as_one_token_each() -> None:
    assert estimate_tokens("（お問い合わせ）") == 8
    assert estimate_tokens("ok 日本") == 2 + 1
    assert estimate_tokens("😀😀😀😀") == 1
