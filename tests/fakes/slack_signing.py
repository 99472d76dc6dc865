"""Build Slack requests signed exactly as Slack signs them (v0 HMAC-SHA256)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.parse
from typing import Any


def sign(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack sends: `X-Slack-Request-Timestamp` and `X-Slack-Signature`."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + ts.encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def command_body(
    text: str,
    *,
    user_id: str = "U0ALICE01",
    channel_id: str = "C0TUNING1",
    command: str = "/tune",
    trigger_id: str = "1337.42.abcdef",
    response_url: str = "https://hooks.slack.invalid/commands/1",
    team_id: str = "T0000TEST",
) -> bytes:
    """A slash command body as Slack posts it (form-encoded)."""
    fields = {
        "token": "legacy-verification-token",
        "team_id": team_id,
        "team_domain": "example",
        "channel_id": channel_id,
        "channel_name": "tuning",
        "user_id": user_id,
        "user_name": user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": "A0TUNINGBOT",
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }
    return urllib.parse.urlencode(fields).encode()


def interaction_body(payload: dict[str, Any]) -> bytes:
    """An interactivity body: one form field `payload` holding JSON."""
    return urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
