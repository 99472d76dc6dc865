"""A token estimate for Gemini tuning data, without a tokenizer.

No Gemini tokenizer is available offline, so the count is a stated heuristic: about four
characters per token for text in Latin scripts (Google's own rule of thumb for Gemini), and
one token per character for Chinese, Japanese and Korean characters, which rarely share a
token. Media parts (`fileData`, `inlineData`) are not counted: their cost depends on the
file's length and resolution, which the check does not download.
"""

from __future__ import annotations

import re

CHARS_PER_TOKEN = 4

# CJK radicals, kana, ideographs, Hangul, compatibility ideographs, full-width forms and the
# supplementary ideograph planes. This pattern is the definition; the counting below is a
# faster way to the same number.
_DENSE = re.compile(
    "[\u2e80-\u9fff\ua000-\ua4cf\uac00-\ud7af\uf900-\ufaff\uff00-\uffef\U00020000-\U0003ffff]"
)

# Counting is done on the high byte of each UTF-16 code unit, which names a block of 256 code
# points: blocks wholly inside the dense ranges are counted by a byte translation; the few
# blocks a range only partly covers (and the high surrogates of the supplementary planes) are
# left to the regex, and only when the text has any of them. Matching each dense character
# with the regex costs one string object per character: 20 to 30 times slower on Japanese.
_WHOLLY_DENSE_BLOCKS = bytes([*range(0x2F, 0xA4), *range(0xAC, 0xD7), 0xF9, 0xFA])
_PARTLY_DENSE_BLOCKS = bytes([0x2E, 0xA4, 0xD7, 0xFF, 0xD8])
# Each high byte translated to its block's kind: 1 wholly dense, 2 partly, 0 not at all.
_BLOCK_KIND = bytes(
    1 if b in _WHOLLY_DENSE_BLOCKS else 2 if b in _PARTLY_DENSE_BLOCKS else 0 for b in range(256)
)
_DENSE_IN_PARTLY_DENSE_BLOCKS = re.compile(
    "[\u2e80-\u2eff\ua400-\ua4cf\ud700-\ud7af\uff00-\uffef\U00020000-\U0003ffff]"
)


def estimate_tokens(text: str) -> int:
    """Estimated Gemini tokens in `text` (see the module docstring for the rule)."""
    if text.isascii():
        return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN
    dense = count_dense(text)
    return dense + (len(text) - dense + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


def count_dense(text: str) -> int:
    """How many characters of `text` the `_DENSE` pattern matches (one token each)."""
    # Little-endian UTF-16: every second byte, from the second on, is a high byte.
    kinds = text.encode("utf-16-le", "surrogatepass")[1::2].translate(_BLOCK_KIND)
    dense = kinds.count(1)
    if 2 in kinds:
        dense += len(_DENSE_IN_PARTLY_DENSE_BLOCKS.findall(text))
    return dense
