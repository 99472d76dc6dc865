"""`generateContent` bodies: a `Prompt` to Google's request JSON, the response JSON to a
`ModelAnswer`, read defensively since every field of the response is optional."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.tuning.trying import ModelAnswer, Prompt


def prompt_to_body(prompt: Prompt) -> dict[str, Any]:
    """The `GenerateContentRequest` for one user turn."""
    body: dict[str, Any] = {"contents": [{"role": "user", "parts": [{"text": prompt.text}]}]}
    if prompt.system_instruction:
        body["systemInstruction"] = {"parts": [{"text": prompt.system_instruction}]}
    config: dict[str, Any] = {}
    if prompt.temperature is not None:
        config["temperature"] = prompt.temperature
    if prompt.max_output_tokens is not None:
        config["maxOutputTokens"] = prompt.max_output_tokens
    if config:
        body["generationConfig"] = config
    return body


def _int(value: Any) -> int | None:
    # int32 fields come as numbers; accept decimal strings too, as proto3 JSON permits.
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def answer_from_json(data: Mapping[str, Any]) -> ModelAnswer:
    """The first candidate's text and finish reason, the block reason and the token counts."""
    feedback = data.get("promptFeedback")
    block = _str(feedback.get("blockReason")) if isinstance(feedback, dict) else None
    candidates = data.get("candidates")
    first = candidates[0] if isinstance(candidates, list) and candidates else {}
    first = first if isinstance(first, dict) else {}
    content = first.get("content")
    parts = content.get("parts") if isinstance(content, dict) else None
    texts = [
        p["text"]
        for p in (parts if isinstance(parts, list) else [])
        if isinstance(p, dict) and isinstance(p.get("text"), str) and not p.get("thought")
    ]
    usage = data.get("usageMetadata")
    usage = usage if isinstance(usage, dict) else {}
    return ModelAnswer(
        text="".join(texts),
        finish_reason=_str(first.get("finishReason")),
        block_reason=block,
        prompt_tokens=_int(usage.get("promptTokenCount")),
        answer_tokens=_int(usage.get("candidatesTokenCount")),
        total_tokens=_int(usage.get("totalTokenCount")),
    )
