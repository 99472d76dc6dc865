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
# supplementary ideograph planes.
_DENSE = re.compile(
    "[\u2e80-\u9fff\ua000-\ua4cf\uac00-\ud7af\uf900-\ufaff\uff00-\uffef\U00020000-\U0003ffff]"
)


def estimate_tokens(text: str) -> int:
    """Estimated Gemini tokens in `text` (see the module docstring for the rule)."""
    if text.isascii():
        return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN
    dense = len(_DENSE.findall(text))
    return dense + (len(text) - dense + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN
