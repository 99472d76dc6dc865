"""Plain text-only Gemini examples checked many lines per call, decoded by typed msgspec.

Most lines of most datasets are well-formed text examples. For those, the struct types below
state the format (roles, required non-empty `parts` and `text`, no other keys) so that
msgspec checks it in C while decoding a whole block of lines at once; Python is left with
what types cannot say (turn order, whitespace-only text) and the totals. A block with anything
else, even one line, is not judged here: `check_block` answers None and the caller checks its
lines one by one, so findings and their line numbers come from one place only.

The fast answer for a block must equal what the line-by-line check gives for each of its lines;
tests/datasets/test_blocks.py holds the two against each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal, cast

import msgspec
from msgspec import UNSET, UnsetType

from bot.datasets.tokens import CHARS_PER_TOKEN, estimate_tokens

# Lines are decoded a block of about this size at a time: large enough that the cost per call
# vanishes, small enough that the structs of one block die young (garbage collection) and that
# a block with one bad line costs little to check again line by line.
BLOCK_BYTES = 16 * 1024
# Decoding as pairs fails on a block holding any other shape; after such a failure the general
# decoder goes first, and pairs are tried again once every this many blocks.
_PAIRS_RETRY_EVERY = 16
_SEPARATOR = b"\n0\n"
_SEPARATOR_ADDS = len(_SEPARATOR) - 1
# estimate_tokens for ASCII text, written out in the loops: it runs for every text.
_ROUND_UP = CHARS_PER_TOKEN - 1

_NonEmpty = msgspec.Meta(min_length=1)
_Text = Annotated[str, _NonEmpty]


class _Part(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    text: _Text


class _Turn(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    role: Literal["user", "model"]
    parts: Annotated[list[_Part], _NonEmpty]


class _System(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    parts: Annotated[list[_Part], _NonEmpty]
    # The line-by-line check ignores a system instruction's other keys; `role` is the one
    # datasets commonly carry, so only it is let through here.
    role: str | UnsetType = UNSET


class _Example(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    contents: Annotated[list[_Turn], _NonEmpty]
    system: _System | UnsetType = msgspec.field(default=UNSET, name="systemInstruction")


# The commonest shape of all, one question and one answer of one part each, has types of its
# own: they leave Python nothing to walk but two texts, which is a third of the time per
# example on short ones.
class _OnePart(msgspec.Struct, array_like=True, forbid_unknown_fields=True, gc=False):
    part: _Part


class _UserTurn(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    role: Literal["user"]
    parts: _OnePart


class _ModelTurn(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    role: Literal["model"]
    parts: _OnePart


class _Pair(msgspec.Struct, array_like=True, forbid_unknown_fields=True, gc=False):
    user: _UserTurn
    model: _ModelTurn


class _PairExample(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    contents: _Pair
    system: _System | UnsetType = msgspec.field(default=UNSET, name="systemInstruction")


# Each line is decoded with a `0` on a line of its own after it. No field takes a number, so
# a `0` is valid only between top-level values: a line that is not exactly one value (two on
# one line, one spread over two, a blank line) breaks the alternation of examples and zeros,
# which `_decode` checks. Without it, a value spread over two lines and a line with two values
# could pass as two examples.
_PAIRS = msgspec.json.Decoder(_PairExample | Literal[0])
_GENERAL = msgspec.json.Decoder(_Example | Literal[0])


@dataclass(slots=True)
class BlockTotals:
    """What a block of plain examples adds to a report."""

    lines: int
    characters: int
    tokens: int
    largest: int


class BlockChecker:
    """Checks blocks of complete lines; remembers which decoder fits the dataset so far."""

    def __init__(self, max_tokens_per_example: int) -> None:
        self.limit = max_tokens_per_example
        self._pairs_failed_at: int | None = None
        self._blocks = 0

    def check_block(self, block: bytes) -> BlockTotals | None:
        """Totals when every line of `block` (newline-terminated lines) is a plain example.

        None means "check these lines one by one": a line is unusual, broken, or over the
        token limit (whose warning names its line).
        """
        self._blocks += 1
        if self._try_pairs_first():
            totals = _check_pairs(block, self.limit)
            if totals is not None:
                self._pairs_failed_at = None
                return totals
            self._pairs_failed_at = self._blocks
        return _check_general(block, self.limit)

    def _try_pairs_first(self) -> bool:
        failed = self._pairs_failed_at
        return failed is None or (self._blocks - failed) % _PAIRS_RETRY_EVERY == 0


def _decode(decoder: msgspec.json.Decoder[Any], block: bytes) -> list[object] | None:
    """The block's lines decoded, one value each, or None when any line fails to decode."""
    # The last line gets a `0` after it too: one copy of the block fewer.
    joined = block.replace(b"\n", _SEPARATOR)
    lines = (len(joined) - len(block)) // _SEPARATOR_ADDS
    try:
        values = decoder.decode_lines(joined)
    except ValueError:  # msgspec's errors, and UnicodeDecodeError for invalid UTF-8
        return None
    if len(values) != 2 * lines or values[1::2].count(0) != lines:
        return None
    # A line holding just `0` would sit where an example belongs; the attribute lookups of the
    # callers then fail, which sends the block down the careful path like any other surprise.
    return values[0::2]


def _check_pairs(block: bytes, limit: int) -> BlockTotals | None:
    decoded = _decode(_PAIRS, block)
    if decoded is None:
        return None
    examples = cast("list[_PairExample]", decoded)
    characters = tokens = largest = 0
    try:
        for example in examples:
            pair = example.contents
            question = pair.user.parts.part.text
            answer = pair.model.parts.part.text
            if question.isspace() or answer.isspace():
                return None
            asked = len(question)
            answered = len(answer)
            characters += asked + answered
            if question.isascii() and answer.isascii():
                example_tokens = (asked + _ROUND_UP) // CHARS_PER_TOKEN
                example_tokens += (answered + _ROUND_UP) // CHARS_PER_TOKEN
            else:
                example_tokens = estimate_tokens(question) + estimate_tokens(answer)
            if example.system is not UNSET:
                counted = _count_parts(example.system.parts)
                if counted is None:
                    return None
                characters += counted[0]
                example_tokens += counted[1]
            if example_tokens > limit:
                return None
            tokens += example_tokens
            if example_tokens > largest:
                largest = example_tokens
    except AttributeError:
        return None
    return BlockTotals(len(examples), characters, tokens, largest)


def _check_general(block: bytes, limit: int) -> BlockTotals | None:
    decoded = _decode(_GENERAL, block)
    if decoded is None:
        return None
    examples = cast("list[_Example]", decoded)
    characters = tokens = largest = 0
    try:
        for example in examples:
            example_characters = example_tokens = 0
            if example.system is not UNSET:
                counted = _count_parts(example.system.parts)
                if counted is None:
                    return None
                example_characters, example_tokens = counted
            # Roles alternate from `user` and the last is `model`: an even number of turns.
            expected = "user"
            for turn in example.contents:
                if turn.role != expected:
                    return None
                expected = "model" if expected == "user" else "user"
                for part in turn.parts:
                    text = part.text
                    if text.isspace():
                        return None
                    length = len(text)
                    example_characters += length
                    if text.isascii():
                        example_tokens += (length + _ROUND_UP) // CHARS_PER_TOKEN
                    else:
                        example_tokens += estimate_tokens(text)
            if expected != "user" or example_tokens > limit:
                return None
            characters += example_characters
            tokens += example_tokens
            if example_tokens > largest:
                largest = example_tokens
    except AttributeError:
        return None
    return BlockTotals(len(examples), characters, tokens, largest)


def _count_parts(parts: list[_Part]) -> tuple[int, int] | None:
    """(characters, tokens) of text parts, or None when one is whitespace only."""
    characters = tokens = 0
    for part in parts:
        text = part.text
        if text.isspace():
            return None
        characters += len(text)
        tokens += estimate_tokens(text)
    return characters, tokens
