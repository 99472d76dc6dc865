"""manifest.yaml: valid against Slack's schema, and its scopes cover every method the code calls."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "slack"
_FAMILIES = "chat|views|users|conversations|auth|reactions|team|pins|files"
# `client.chat_postMessage(` → `chat.postMessage`
_CALL = re.compile(rf"\.((?:{_FAMILIES})_[A-Za-z][A-Za-z0-9_]*)\(")
# `api_call("chat.update", …)` or a helper called with the method name as a string literal
_NAMED = re.compile(rf"\"((?:{_FAMILIES})\.[A-Za-z]+)\"")
# Bot scopes of methods whose facts file is not among tests/data/slack/methods (from the
# method's page on docs.slack.dev: any one of these, depending on the conversation type).
_EXTRA_SCOPES = {
    "conversations.replies": ["channels:history", "groups:history", "im:history", "mpim:history"],
    "conversations.open": ["channels:manage", "groups:write", "im:write", "mpim:write"],
    "files.getUploadURLExternal": ["files:write"],
    "files.completeUploadExternal": ["files:write"],
}
# slack_sdk helpers that call several Web API methods: `files_upload_v2` gets an upload URL,
# sends the bytes there, then completes the upload.
_WRAPPERS = {"files.upload_v2": ("files.getUploadURLExternal", "files.completeUploadExternal")}
# Bot scopes that subscribed events need (from each event's page on docs.slack.dev).
_EVENT_SCOPES = {"link_shared": ["links:read"]}


def _manifest() -> dict[str, object]:
    return yaml.safe_load((ROOT / "manifest.yaml").read_text("utf-8"))


def methods_called_by_the_code() -> set[str]:
    """Web API methods called anywhere in the package, by their Slack names."""
    found: set[str] = set()
    for path in (ROOT / "bot").rglob("*.py"):
        text = path.read_text("utf-8")
        for name in _CALL.findall(text):
            family, _, rest = name.partition("_")
            found.add(f"{family}.{rest}")
        found.update(_NAMED.findall(text))
    for wrapper, methods in _WRAPPERS.items():
        if wrapper in found:
            found.discard(wrapper)
            found.update(methods)
    return found


def bot_scopes(method: str) -> set[str]:
    """The bot scopes a method accepts (any one suffices); empty when it needs none."""
    if method in _EXTRA_SCOPES:
        return set(_EXTRA_SCOPES[method])
    facts = json.loads((DATA / "methods" / f"{method}.json").read_text("utf-8"))
    return set((facts.get("scope") or {}).get("bot") or [])


def test_manifest_is_valid_against_slacks_schema() -> None:
    schema = json.loads((DATA / "manifest.schema.1.0.0.json").read_text("utf-8"))
    jsonschema.validate(_manifest(), schema)


def test_manifest_declares_the_tune_command_and_interactivity() -> None:
    manifest = _manifest()
    features = manifest["features"]
    assert isinstance(features, dict)
    assert [c["command"] for c in features["slash_commands"]] == ["/tune"]
    settings = manifest["settings"]
    assert isinstance(settings, dict)
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is True


def test_every_called_method_is_covered_by_a_declared_scope() -> None:
    scopes = set(_manifest()["oauth_config"]["scopes"]["bot"])  # type: ignore[index]
    called = methods_called_by_the_code()
    assert {"views.open", "chat.postMessage", "users.info"} <= called
    for method in sorted(called):
        needed = bot_scopes(method)
        # Slack lists alternatives (e.g. channels:read or groups:read): any one suffices.
        assert not needed or needed & scopes, f"{method} needs one of {sorted(needed)}"


def test_no_scope_is_declared_that_nothing_needs() -> None:
    scopes = set(_manifest()["oauth_config"]["scopes"]["bot"])  # type: ignore[index]
    needed = {"commands"}
    for method in methods_called_by_the_code():
        needed |= bot_scopes(method)
    for event in _manifest()["settings"]["event_subscriptions"]["bot_events"]:  # type: ignore[index]
        needed |= set(_EVENT_SCOPES.get(event, []))
    assert scopes <= needed


def test_every_subscribed_event_has_its_scope_and_link_previews_their_domain() -> None:
    manifest = _manifest()
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])  # type: ignore[index]
    events = manifest["settings"]["event_subscriptions"]["bot_events"]  # type: ignore[index]
    assert "link_shared" in events
    for event in events:
        needed = set(_EVENT_SCOPES.get(event, []))
        assert not needed or needed & scopes, f"{event} needs one of {sorted(needed)}"
    assert manifest["features"]["unfurl_domains"] == ["console.cloud.google.com"]  # type: ignore[index]


def test_the_shortcuts_are_the_ones_the_bot_listens_to() -> None:
    from bot.slack import ids

    shortcuts = _manifest()["features"]["shortcuts"]  # type: ignore[index]
    by_id = {s["callback_id"]: s["type"] for s in shortcuts}
    assert by_id == {ids.NEW_JOB_SHORTCUT: "global", ids.WATCH_MESSAGE_SHORTCUT: "message"}
