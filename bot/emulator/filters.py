"""AIP-160 list filters (`state="JOB_STATE_RUNNING" AND labels.team="ml"`) over rendered jobs.

Only the fields a tuning-job list is filtered by in practice; anything else is refused with a
400, as Google refuses unknown filter fields.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from bot.emulator.errors import invalid

Predicate = Callable[[Mapping[str, Any]], bool]
_TOKEN = re.compile(r'\s*(?:(\()|(\))|(!=|=|:)|("(?:[^"\\]|\\.)*")|([A-Za-z0-9_.\-*/@]+))')
_FIELD_ALIASES = {
    "state": "state",
    "base_model": "baseModel",
    "baseModel": "baseModel",
    "tuned_model_display_name": "tunedModelDisplayName",
    "tunedModelDisplayName": "tunedModelDisplayName",
    "display_name": "tunedModelDisplayName",
    "name": "name",
}


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    while pos < len(text):
        if not text[pos:].strip():
            break
        match = _TOKEN.match(text, pos)
        if match is None:
            raise invalid(f"Invalid filter: cannot parse {text[pos : pos + 20]!r}.", "filter")
        tokens.append(match.group(match.lastindex or 0))
        pos = match.end()
    return tokens


def parse_filter(text: str) -> Predicate:
    """Parse `state="JOB_STATE_RUNNING" AND (labels.k="v" OR NOT state!=...)` to a predicate."""
    tokens = _tokens(text)
    position = 0

    def peek() -> str | None:
        return tokens[position] if position < len(tokens) else None

    def take() -> str:
        nonlocal position
        if position >= len(tokens):
            raise invalid("Invalid filter: unexpected end.", "filter")
        position += 1
        return tokens[position - 1]

    def expression() -> Predicate:
        parts = [conjunction()]
        while peek() == "OR":
            take()
            parts.append(conjunction())
        return parts[0] if len(parts) == 1 else (lambda j: any(p(j) for p in parts))

    def conjunction() -> Predicate:
        parts = [factor()]
        while peek() not in (None, ")", "OR"):
            if peek() == "AND":
                take()
            parts.append(factor())
        return parts[0] if len(parts) == 1 else (lambda j: all(p(j) for p in parts))

    def factor() -> Predicate:
        word = take()
        if word in ("NOT", "-"):
            inner = factor()
            return lambda j: not inner(j)
        if word == "(":
            inner = expression()
            if take() != ")":
                raise invalid("Invalid filter: missing ')'.", "filter")
            return inner
        return comparison(word)

    def comparison(field_name: str) -> Predicate:
        op = take()
        if op not in ("=", "!=", ":"):
            raise invalid(f"Invalid filter: expected an operator after {field_name}.", "filter")
        value = take()
        if value.startswith('"'):
            value = json.loads(value)
        getter = _getter(field_name)

        def check(job: Mapping[str, Any]) -> bool:
            actual = getter(job)
            if op == ":":
                return actual is not None and (value == "*" or actual == value)
            return (actual == value) == (op == "=")

        return check

    predicate = expression()
    if position != len(tokens):
        raise invalid(f"Invalid filter: unexpected {tokens[position]!r}.", "filter")
    return predicate


def _getter(field_name: str) -> Callable[[Mapping[str, Any]], str | None]:
    if field_name.startswith("labels."):
        key = field_name[len("labels.") :]
        return lambda job: job.get("labels", {}).get(key)
    wire = _FIELD_ALIASES.get(field_name)
    if wire is None:
        raise invalid(f"Unsupported filter field: {field_name}.", "filter")
    return lambda job: job.get(wire)
