"""HTTP mode's `/slack/events`: Slack's signature and the payload's shape checked before Bolt."""

from __future__ import annotations

import json
import logging
import urllib.parse
from collections.abc import Mapping
from typing import Any

from slack_bolt.adapter.starlette.async_handler import to_async_bolt_request, to_starlette_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_sdk.signature import SignatureVerifier
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

log = logging.getLogger(__name__)

MAX_BODY = 1_000_000
_COMMAND_FIELDS = ("command", "user_id", "channel_id", "trigger_id", "response_url")


class SlackEndpoint:
    """Refuses unsigned, forged, stale and malformed requests; hands the rest to Bolt."""

    def __init__(self, app: AsyncApp, signing_secret: str) -> None:
        self._app = app
        self._verifier = SignatureVerifier(signing_secret)

    async def __call__(self, request: Request) -> Response:
        """The Starlette endpoint."""
        body = await _read_capped(request)
        if body is None:
            return _refuse(413, "too large")
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return _refuse(400, "body is not UTF-8")  # Slack always sends UTF-8
        timestamp = request.headers.get("x-slack-request-timestamp", "")
        signature = request.headers.get("x-slack-signature", "")
        if not timestamp.isdigit() or not self._verifier.is_valid(body, timestamp, signature):
            return _refuse(401, "invalid signature")
        try:
            bolt_request = to_async_bolt_request(request, body)
            parsed = parse_slack_body(body.decode("utf-8"), bolt_request.content_type or "")
        except (ValueError, TypeError, AttributeError, KeyError, RecursionError):
            return _refuse(400, "body is not a Slack payload")
        if bolt_request.body != parsed:
            # Bolt takes any form body containing the word "payload" for an interaction, so
            # `/tune check gs://b/payload.jsonl` would lose its fields; use our parse instead.
            bolt_request.body = parsed
            bolt_request.context = build_async_context(AsyncBoltContext({}), parsed)
        problem = payload_problem(bolt_request.body)
        if problem is not None:
            return _refuse(400, problem)
        return to_starlette_response(await self._app.async_dispatch(bolt_request))


async def _read_capped(request: Request) -> bytes | None:
    """The body, or None once it passes MAX_BODY: unsigned requests must not fill memory."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def parse_slack_body(text: str, content_type: str) -> dict[str, Any]:
    """Slack's three body shapes: a JSON event, form fields, or a form field `payload` of JSON."""
    if content_type.startswith("application/json") or text.startswith("{"):
        parsed = json.loads(text)
        return parsed if isinstance(parsed, dict) else {}
    fields = dict(urllib.parse.parse_qsl(text, keep_blank_values=True))
    if "payload" in fields and "command" not in fields:
        payload = json.loads(fields["payload"])
        return payload if isinstance(payload, dict) else {}
    return fields


def _refuse(status: int, reason: str) -> Response:
    log.warning("slack request refused", extra={"status": status, "reason": reason})
    return PlainTextResponse(reason, status_code=status)


def payload_problem(payload: Any) -> str | None:
    """Why a parsed body is not a Slack payload we can handle, or None when it is well formed."""
    if not isinstance(payload, Mapping) or not payload:
        return "empty or not an object"
    if "command" in payload:
        missing = [name for name in _COMMAND_FIELDS if not _is_text(payload.get(name))]
        return f"command without {', '.join(missing)}" if missing else None
    if payload.get("ssl_check"):
        return None
    kind = payload.get("type")
    if not isinstance(kind, str):
        return "payload has no type"
    if kind in ("block_actions", "view_submission", "view_closed"):
        user = payload.get("user")
        if not isinstance(user, Mapping) or not _is_text(user.get("id")):
            return "payload has no user"
    channel = payload.get("channel")
    if channel is not None and not (isinstance(channel, Mapping) and _is_text(channel.get("id"))):
        return "payload has a malformed channel"
    view = payload.get("view")
    if kind in ("view_submission", "view_closed") and not _has_strings(view, "id", "type"):
        return "payload has no proper view"
    if view is not None and not isinstance(view, Mapping):
        return "payload has a malformed view"
    if kind == "block_actions":
        actions = payload.get("actions")
        if not isinstance(actions, list) or not all(_has_strings(a, "action_id") for a in actions):
            return "payload has malformed actions"
    return None


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _has_strings(value: Any, *keys: str) -> bool:
    return isinstance(value, Mapping) and all(isinstance(value.get(k), str) for k in keys)
