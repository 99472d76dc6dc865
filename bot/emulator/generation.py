"""`generateContent` of tuned endpoints and publisher base models, answered deterministically.

The answer text is derived from the prompt and from who answers (a tuned endpoint or a base
model), so a test can tell the two sides apart without a real model. The shape follows Google's
`GenerateContentResponse`: candidates with content and `finishReason`, `usageMetadata` with
token counts (int32, so plain JSON numbers) and `promptFeedback.blockReason` when blocked.
"""

from __future__ import annotations

from typing import Any

from bot.emulator.errors import invalid

# A prompt containing this asks for an answer longer than one Slack section, for tests.
LONG_ANSWER_MARK = "long answer"
_LONG_REPEAT = 120


def prompt_text(body: Any) -> tuple[str, str]:
    """The last user turn's text and the system instruction's text; 400 as Google answers a
    request without `contents`."""
    if not isinstance(body, dict):
        raise invalid("Invalid JSON payload received.", None)
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        raise invalid(
            "Unable to submit request because it must include at least one parts field, "
            "which describes the prompt input.",
            "contents",
        )
    texts: list[str] = []
    for content in contents:
        parts = content.get("parts") if isinstance(content, dict) else None
        if not isinstance(parts, list) or not parts:
            raise invalid(
                "Unable to submit request because it must include at least one parts "
                "field, which describes the prompt input.",
                "contents.parts",
            )
        texts = [str(p.get("text", "")) for p in parts if isinstance(p, dict)]
    system = body.get("systemInstruction")
    system_parts = system.get("parts", []) if isinstance(system, dict) else []
    system_text = " ".join(str(p.get("text", "")) for p in system_parts if isinstance(p, dict))
    return " ".join(texts), system_text


def _tokens(text: str) -> int:
    # A stand-in tokenizer: one token per word, at least one for any non-empty text.
    return len(text.split()) or (1 if text else 0)


def answer(
    speaker: str,
    model_version: str,
    body: Any,
    *,
    block_reason: str | None = None,
    finish_reason: str | None = None,
) -> dict[str, Any]:
    """A `GenerateContentResponse` from `speaker` ("tuned" or "base") to the request `body`."""
    prompt, system = prompt_text(body)
    config = body.get("generationConfig") or {}
    prompt_tokens = _tokens(prompt) + _tokens(system)
    out: dict[str, Any] = {"modelVersion": model_version}
    if block_reason is not None:
        # A blocked prompt gets no candidates at all, only the feedback.
        out["promptFeedback"] = {"blockReason": block_reason}
        out["usageMetadata"] = {"promptTokenCount": prompt_tokens, "totalTokenCount": prompt_tokens}
        return out
    words = f"{speaker} answer to: {prompt}".split()
    if system:
        words = [f"({system})", *words]
    if LONG_ANSWER_MARK in prompt.lower():
        words = words * _LONG_REPEAT
    reason = finish_reason or "STOP"
    limit = config.get("maxOutputTokens") if isinstance(config, dict) else None
    if isinstance(limit, int) and 0 < limit < len(words):
        words, reason = words[:limit], finish_reason or "MAX_TOKENS"
    candidate: dict[str, Any] = {"finishReason": reason, "index": 0}
    if reason != "SAFETY":  # a candidate stopped for safety carries no content
        candidate["content"] = {"role": "model", "parts": [{"text": " ".join(words)}]}
    answer_tokens = len(words) if reason != "SAFETY" else 0
    out["candidates"] = [candidate]
    usage: dict[str, Any] = {
        "promptTokenCount": prompt_tokens,
        "totalTokenCount": prompt_tokens + answer_tokens,
    }
    if answer_tokens:
        usage["candidatesTokenCount"] = answer_tokens  # proto3 JSON leaves zeros out
    out["usageMetadata"] = usage
    return out
