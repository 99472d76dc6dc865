"""Opaque page tokens for `list`, tied to the filter they were issued for.

A token names the last job of the page by its creation sequence, not an offset, so jobs created
between pages neither repeat nor hide older ones; reusing a token with another filter is refused,
as Google refuses it.
"""

from __future__ import annotations

import base64
import hashlib
import json

from bot.emulator.errors import invalid

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100


def fingerprint(filter_text: str) -> str:
    """A short digest of the filter a token belongs to."""
    return hashlib.sha256(filter_text.encode()).hexdigest()[:12]


def encode_token(seq: int, filter_print: str) -> str:
    """A token that resumes after the job with sequence number `seq`."""
    raw = json.dumps({"s": seq, "f": filter_print}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, filter_print: str) -> int:
    """The sequence number in `token`; 400 if it is garbage or was made for another filter."""
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        seq = int(data["s"])
        same = data["f"] == filter_print
    except (ValueError, KeyError, TypeError):
        raise invalid("Invalid page token.", "page_token") from None
    if not same:
        raise invalid("The page token does not match the filter of the request.", "page_token")
    return seq


def page_size(requested: int) -> int:
    """The page size served: the default for 0, capped at the server maximum."""
    if requested < 0:
        raise invalid("page_size must be non-negative.", "page_size")
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
