"""Checks of one JSONL line against a model's dataset format. Pure: bytes in, findings out.

Messages never quote the text of an example; at most a short key or role name is shown so
the user can find the problem, because datasets often hold confidential material.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson

from bot.datasets.findings import Severity
from bot.datasets.tokens import estimate_tokens
from bot.tuning.catalogue import DatasetFormat
from bot.tuning.problems import Problem

BOM = b"\xef\xbb\xbf"
_SNIPPET = 24

# Top-level keys of a Gemini tuning example; proto3 JSON also accepts the snake_case spellings.
_GEMINI_KEYS = frozenset(
    {
        "contents",
        "systemInstruction",
        "system_instruction",
        "tools",
        "toolConfig",
        "tool_config",
        "generationConfig",
        "generation_config",
    }
)
_LEGACY_KEYS = frozenset({"messages"})
_TEXT_KEYS = ("text",)
_MEDIA_KEYS = ("fileData", "file_data", "inlineData", "inline_data")
_FUNCTION_KEYS = ("functionCall", "function_call", "functionResponse", "function_response")
_PART_KEYS = frozenset(_TEXT_KEYS + _MEDIA_KEYS + _FUNCTION_KEYS)
# Keys that may sit beside the data key of a part without being data themselves.
_PART_EXTRAS = frozenset({"thought", "thoughtSignature", "thought_signature", "videoMetadata"})
_ROLES = ("user", "model")
_ROLE_HINTS = {
    "assistant": "preflight.role_assistant",
    "system": "preflight.role_system",
}


def snippet(name: str) -> str:
    """A key or role name shortened and stripped of characters that break a code span."""
    cleaned = "".join(c if c.isprintable() and c != "`" else "?" for c in name[:_SNIPPET])
    return cleaned + ("…" if len(name) > _SNIPPET else "")


@dataclass(slots=True)
class ExampleCheck:
    """What one line yields: problems with their severity, and the text it counts for."""

    problems: list[tuple[Severity, Problem]] = field(default_factory=list)
    characters: int = 0
    tokens: int = 0
    media_parts: int = 0
    is_example: bool = False

    def error(self, message_key: str, /, **params: str | int) -> None:
        """Add an error."""
        self.problems.append((Severity.ERROR, Problem.of(message_key, **params)))

    def warn(self, message_key: str, /, **params: str | int) -> None:
        """Add a warning."""
        self.problems.append((Severity.WARNING, Problem.of(message_key, **params)))

    def count_text(self, text: str) -> None:
        """Add a text's characters and estimated tokens to the example's totals."""
        self.characters += len(text)
        self.tokens += estimate_tokens(text)


def check_line(raw: bytes, dataset_format: DatasetFormat) -> ExampleCheck:
    """Decode one line (without its newline) and check it as an example of `dataset_format`."""
    check = ExampleCheck()
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if raw.isspace() or not raw:
            check.warn("preflight.blank_line")
        else:
            _explain_undecodable(raw, exc, check)
        return check
    if type(value) is not dict:
        check.error("preflight.not_object", kind=_json_kind(value))
        return check
    check.is_example = True
    if dataset_format is DatasetFormat.LEGACY_MESSAGES:
        _check_legacy(value, check)
    else:
        _check_gemini(value, check)
    return check


def plain_text_example(raw: bytes) -> tuple[int, int] | None:
    """(characters, estimated tokens) when `raw` is a well-formed text-only Gemini example.

    None means "look closer" (anything unusual, not necessarily wrong): check_line then
    gives the full verdict. This path exists for speed; most lines of most datasets take it.
    The parts loop is written out twice (system instruction, turns) on purpose: a shared
    helper costs one call per turn, measured at about 9 % of throughput on short examples.
    """
    try:
        example = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if type(example) is not dict:
        return None
    contents = example.get("contents")
    if type(contents) is not list or not contents:
        return None
    characters = tokens = 0
    if len(example) != 1:
        system = example.get("systemInstruction")
        if len(example) != 2 or type(system) is not dict:
            return None
        parts = system.get("parts")
        if type(parts) is not list or not parts:
            return None
        for part in parts:
            text = part.get("text") if type(part) is dict and len(part) == 1 else None
            if type(text) is not str or not text or text.isspace():
                return None
            characters += len(text)
            tokens += estimate_tokens(text)
    expected = "user"
    for turn in contents:
        if type(turn) is not dict or turn.get("role") != expected:
            return None
        parts = turn.get("parts")
        if type(parts) is not list or not parts:
            return None
        for part in parts:
            text = part.get("text") if type(part) is dict and len(part) == 1 else None
            if type(text) is not str or not text or text.isspace():
                return None
            characters += len(text)
            tokens += estimate_tokens(text)
        expected = "model" if expected == "user" else "user"
    # After a final `model` turn the next expected role is `user`.
    return (characters, tokens) if expected == "user" else None


def _explain_undecodable(raw: bytes, exc: orjson.JSONDecodeError, check: ExampleCheck) -> None:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as bad:
        check.error("preflight.not_utf8", byte=bad.start + 1)
        return
    # The column only: orjson's message can quote the offending text.
    check.error("preflight.invalid_json", column=exc.colno)


def _json_kind(value: object) -> str:
    # A JSON type as a plain word; `text.JSON_KIND_KEYS` names its message when it is shown.
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


# --- Gemini format (contents / parts) ---------------------------------------------------------


def _check_gemini(example: dict[str, object], check: ExampleCheck) -> None:
    for key in example:
        if key not in _GEMINI_KEYS:
            if key == "messages":
                check.error("preflight.legacy_in_gemini")
            else:
                check.warn("preflight.unknown_key", name=snippet(key))
    system = example.get("systemInstruction", example.get("system_instruction"))
    if system is not None:
        _check_system_instruction(system, check)
    contents = example.get("contents")
    if contents is None:
        if "messages" not in example:
            check.error("preflight.no_contents")
        return
    if type(contents) is not list:
        check.error("preflight.contents_not_list")
        return
    if not contents:
        check.error("preflight.contents_empty")
        return
    previous: str | None = None
    for turn_number, turn in enumerate(contents, start=1):
        role = _check_turn(turn, turn_number, check)
        if role is None:
            previous = None
            continue
        if turn_number == 1 and role != "user":
            check.warn("preflight.first_not_user")
        if role == previous:
            check.error("preflight.same_role_twice", turn=turn_number, role=role)
        previous = role
    last = contents[-1]
    if type(last) is dict and last.get("role") != "model" and last.get("role") in _ROLES:
        check.error("preflight.last_not_model")


def _check_system_instruction(system: object, check: ExampleCheck) -> None:
    if type(system) is not dict:
        check.error("preflight.system_not_object")
        return
    parts = system.get("parts")
    if type(parts) is not list or not parts:
        check.error("preflight.system_no_parts")
        return
    for part in parts:
        text = part.get("text") if type(part) is dict else None
        if type(text) is not str:
            check.error("preflight.system_text")
        elif not text or text.isspace():
            check.error("preflight.system_empty")
        else:
            check.count_text(text)


def _check_turn(turn: object, turn_number: int, check: ExampleCheck) -> str | None:
    """Check one element of `contents`; return its role when it is a valid one."""
    if type(turn) is not dict:
        check.error("preflight.turn_not_object", turn=turn_number)
        return None
    role = turn.get("role")
    valid_role: str | None = None
    if role in _ROLES:
        valid_role = str(role)
    elif role is None:
        check.error("preflight.role_missing", turn=turn_number)
    elif isinstance(role, str) and role in _ROLE_HINTS:
        check.error(_ROLE_HINTS[role], turn=turn_number)
    else:
        # The role's value is not shown: it is example data, and may be anything.
        check.error("preflight.role_unknown", turn=turn_number)
    parts = turn.get("parts")
    if type(parts) is not list or not parts:
        check.error("preflight.no_parts", turn=turn_number)
        return valid_role
    for part in parts:
        # Inline fast path for the common part, `{"text": "…"}`: this loop runs for every part
        # of every example, and a call per part is a good share of the checking time.
        if type(part) is dict and len(part) == 1:
            text = part.get("text")
            if type(text) is str and text and not text.isspace():
                check.characters += len(text)
                check.tokens += estimate_tokens(text)
                continue
        _check_part(part, turn_number, check)
    return valid_role


def _check_part(part: object, turn_number: int, check: ExampleCheck) -> None:
    if type(part) is not dict:
        check.error("preflight.part_not_object", turn=turn_number)
        return
    text = part.get("text")
    data_keys = [key for key in part if key in _PART_KEYS]
    if not data_keys:
        check.error("preflight.part_empty", turn=turn_number)
        return
    if len(data_keys) > 1:
        check.error("preflight.part_many", turn=turn_number)
        return
    for key in part:
        if key not in _PART_KEYS and key not in _PART_EXTRAS:
            check.warn("preflight.unknown_part_key", turn=turn_number, name=snippet(key))
    key = data_keys[0]
    if key == "text":
        if type(text) is not str:
            check.error("preflight.text_not_string", turn=turn_number)
        elif not text or text.isspace():
            check.error("preflight.empty_text", turn=turn_number)
        else:
            check.count_text(text)
    elif key in ("fileData", "file_data"):
        check.media_parts += 1
        _check_file_data(part[key], turn_number, check)
    elif key in ("inlineData", "inline_data"):
        check.media_parts += 1
        data = part[key]
        if type(data) is not dict or not (data.get("mimeType") or data.get("mime_type")):
            check.error("preflight.inline_data", turn=turn_number)
    else:
        check.warn("preflight.function_parts", turn=turn_number)


def _check_file_data(data: object, turn_number: int, check: ExampleCheck) -> None:
    if type(data) is not dict:
        check.error("preflight.file_data", turn=turn_number)
        return
    mime = data.get("mimeType", data.get("mime_type"))
    uri = data.get("fileUri", data.get("file_uri"))
    if not isinstance(mime, str) or not mime or not isinstance(uri, str) or not uri:
        check.error("preflight.file_data", turn=turn_number)
    elif not uri.startswith("gs://"):
        check.error("preflight.file_uri_scheme", turn=turn_number)


# --- legacy gemini-1.0-pro-002 format (messages / content) ------------------------------------


def _check_legacy(example: dict[str, object], check: ExampleCheck) -> None:
    for key in example:
        if key not in _LEGACY_KEYS:
            if key == "contents":
                check.error("preflight.gemini_in_legacy")
            else:
                check.warn("preflight.unknown_key", name=snippet(key))
    messages = example.get("messages")
    if messages is None:
        if "contents" not in example:
            check.error("preflight.no_messages")
        return
    if type(messages) is not list or not messages:
        check.error("preflight.messages_not_list")
        return
    previous: str | None = None
    last_role: str | None = None
    for turn_number, message in enumerate(messages, start=1):
        if type(message) is not dict:
            check.error("preflight.turn_not_object", turn=turn_number)
            previous = last_role = None
            continue
        role = message.get("role")
        content = message.get("content")
        if type(content) is not str:
            check.error("preflight.content_not_string", turn=turn_number)
        elif not content or content.isspace():
            check.error("preflight.empty_text", turn=turn_number)
        else:
            check.count_text(content)
        if role == "system":
            if turn_number != 1:
                check.error("preflight.system_not_first", turn=turn_number)
            last_role = "system"
            continue
        if role not in _ROLES:
            if role == "assistant":
                check.error("preflight.role_assistant", turn=turn_number)
            elif role is None:
                check.error("preflight.role_missing", turn=turn_number)
            else:
                check.error("preflight.legacy_role_unknown", turn=turn_number)
            previous = last_role = None
            continue
        if role == previous:
            check.error("preflight.same_role_twice", turn=turn_number, role=str(role))
        previous = last_role = str(role)
    if last_role is not None and last_role != "model":
        check.error("preflight.last_not_model")
