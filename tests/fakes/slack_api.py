"""A loopback HTTP server that behaves like the Slack Web API, for tests and benchmarks.

It records every call, answers like Slack (`{"ok": true, ...}`), and can be told to fail a
method (`error`), rate-limit it (HTTP 429 with `Retry-After`), hold it until released, or
carry a call out and then lose its answer (`lose_answer`: HTTP 5xx or a body that is not JSON,
as a failing proxy or Slack's edge would).
`apps.connections.open` with the app-level token answers a URL of a loopback Socket Mode server
(`socket_mode`, started on first use). As Slack does, every answer to a call made with the bot
token carries the token's granted scopes in the `x-oauth-scopes` response header
(`granted_scopes`, comma-separated).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from tests.fakes.socket_mode import FakeSocketMode


def _installed_scopes() -> tuple[str, ...]:
    # Installing an app grants the bot scopes its manifest asks for: the app under test is
    # installed from the repository's manifest. Tests about scopes set `granted_scopes`.
    manifest = yaml.safe_load((Path(__file__).parents[2] / "manifest.yaml").read_text())
    return tuple(manifest["oauth_config"]["scopes"]["bot"])


DEFAULT_SCOPES = _installed_scopes()


class _Server(ThreadingHTTPServer):
    # The default listen backlog (5) stalls bursts of concurrent posts for a second each.
    request_queue_size = 128


@dataclass
class SlackCall:
    """One request the stand-in received."""

    method: str
    args: dict[str, Any]
    token: str | None
    at: float = field(default_factory=time.monotonic)


@dataclass
class _Fault:
    kind: str  # "error" | "ratelimit" | "hold" | "lost"
    times: int
    error: str = ""
    retry_after: int = 1
    status: int = 503  # "lost": the answer sent instead of Slack's
    body: bytes = b""
    content_type: str = "text/html"
    release: threading.Event = field(default_factory=threading.Event)


class FakeSlackApi:
    """Start with `start()`, point `SLACK_API_URL` at `base_url`, read `calls` afterwards."""

    def __init__(
        self,
        bot_token: str = "xoxb-test-token",
        app_token: str = "xapp-1-test",
        granted_scopes: tuple[str, ...] = DEFAULT_SCOPES,
    ) -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.granted_scopes: tuple[str, ...] = granted_scopes
        self._socket_mode: FakeSocketMode | None = None
        self.calls: list[SlackCall] = []
        self.locales: dict[str, str] = {}
        self.missing_channels: set[str] = set()
        self.archived_channels: set[str] = set()
        self.response_url_posts: list[tuple[str, dict[str, Any]]] = []
        self.uploads: dict[str, bytes] = {}  # file id -> bytes sent to its upload URL
        self._files = itertools.count(1)
        self._faults: dict[str, list[_Fault]] = {}
        self._lock = threading.Lock()
        self._ts = itertools.count(1)
        self._views = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self.handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> FakeSlackApi:
        """Listen on a free loopback port in a daemon thread."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake._handle(self)

            def do_POST(self) -> None:
                fake._handle(self)

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # `shutdown()` waits for the serve loop's next poll: a short poll keeps teardown short.
        threading.Thread(target=self._server.serve_forever, args=(0.01,), daemon=True).start()
        return self

    def stop(self) -> None:
        """Release held requests and shut the server down."""
        for faults in self._faults.values():
            for fault in faults:
                fault.release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._socket_mode is not None:
            self._socket_mode.stop()

    @property
    def socket_mode(self) -> FakeSocketMode:
        """The Socket Mode server behind `apps.connections.open` (started on first use)."""
        with self._lock:
            if self._socket_mode is None:
                self._socket_mode = FakeSocketMode().start()
            return self._socket_mode

    @property
    def base_url(self) -> str:
        """Value for SLACK_API_URL."""
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/"

    def response_url(self, name: str = "r1") -> str:
        """A `response_url` that this server records posts to."""
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/response/{name}"

    # -- faults ------------------------------------------------------------------------
    def fail(self, method: str, error: str, times: int = 1) -> None:
        """The next `times` calls of `method` answer `{"ok": false, "error": error}`."""
        self._add(method, _Fault("error", times, error=error))

    def rate_limit(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        """The next `times` calls of `method` answer HTTP 429 with `Retry-After`."""
        self._add(method, _Fault("ratelimit", times, retry_after=retry_after))

    def hold(self, method: str, times: int = 1) -> threading.Event:
        """The next calls of `method` wait until the returned event is set."""
        fault = _Fault("hold", times)
        self._add(method, fault)
        return fault.release

    def lose_answer(
        self,
        method: str,
        *,
        status: int = 503,
        body: bytes = b"<html><body>503 Service Unavailable</body></html>",
        content_type: str = "text/html",
        times: int = 1,
    ) -> None:
        """The next `times` calls of `method` take effect (a post is recorded and served in
        its thread), but answer HTTP `status` with `body` instead of Slack's JSON."""
        self._add(
            method,
            _Fault("lost", times, status=status, body=body, content_type=content_type),
        )

    def _add(self, method: str, fault: _Fault) -> None:
        with self._lock:
            self._faults.setdefault(method, []).append(fault)

    def _take_fault(self, method: str) -> _Fault | None:
        with self._lock:
            faults = self._faults.get(method) or []
            while faults:
                fault = faults[0]
                if fault.times <= 0:
                    faults.pop(0)
                    continue
                fault.times -= 1
                return fault
        return None

    # -- queries -----------------------------------------------------------------------
    def calls_to(self, method: str) -> list[SlackCall]:
        """Recorded calls of one method, in order."""
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[SlackCall]:
        """Block until `count` calls of `method` arrived; return them (raise on timeout)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.calls_to(method)
            if len(found) >= count:
                return found
            time.sleep(0.01)
        raise AssertionError(f"{method}: {len(self.calls_to(method))} calls, expected {count}")

    # -- request handling --------------------------------------------------------------
    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        parsed = urllib.parse.urlsplit(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        if parsed.path.startswith("/upload/"):
            # The upload URL files.getUploadURLExternal handed out takes the file's bytes as
            # they are (a PNG is not form data) and answers in plain text.
            with self._lock:
                self.uploads[parsed.path.rsplit("/", 1)[-1]] = raw
            _send(request, 200, f"OK - {len(raw)}".encode(), "text/plain")
            return
        args = _decode_args(raw, request.headers.get("Content-Type", ""), parsed.query)
        if parsed.path.startswith("/response/"):
            with self._lock:
                self.response_url_posts.append((parsed.path.rsplit("/", 1)[-1], args))
            _send(request, 200, b"ok", "text/plain")
            return
        method = parsed.path.rsplit("/", 1)[-1]
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip() or args.get("token")
        with self._lock:
            self.calls.append(SlackCall(method, args, token))
        fault = self._take_fault(method)
        if fault is not None and fault.kind == "hold":
            fault.release.wait(30)
        elif fault is not None and fault.kind == "ratelimit":
            body = json.dumps({"ok": False, "error": "ratelimited"}).encode()
            _send(request, 429, body, "application/json", {"Retry-After": str(fault.retry_after)})
            return
        elif fault is not None and fault.kind == "lost":
            if token == self.bot_token:
                self._answer(method, args)  # the call happens; only its answer is lost
            _send(request, fault.status, fault.body, fault.content_type)
            return
        elif fault is not None:
            _send_json(request, {"ok": False, "error": fault.error})
            return
        if method == "apps.connections.open":
            # Only an app-level token may open a socket; Slack refuses a bot token by type.
            if token == self.app_token:
                _send_json(request, {"ok": True, "url": self.socket_mode.issue_url()})
            elif token == self.bot_token:
                _send_json(request, {"ok": False, "error": "not_allowed_token_type"})
            else:
                _send_json(request, {"ok": False, "error": "invalid_auth"})
            return
        if token != self.bot_token:
            _send_json(request, {"ok": False, "error": "invalid_auth"})
            return
        # Slack reports what the token may do on every answer to it, not only on auth.test.
        scopes = {"x-oauth-scopes": ",".join(self.granted_scopes)}
        _send_json(request, self._answer(method, args), scopes)

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method in self.handlers:
            return self.handlers[method](args)
        channel = args.get("channel")
        if method.startswith("chat.") and channel in self.missing_channels:
            return {"ok": False, "error": "channel_not_found"}
        if method.startswith("chat.") and channel in self.archived_channels:
            return {"ok": False, "error": "is_archived"}
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://example.slack.com/",
                "team": "Example",
                "user": "tuning-bot",
                "team_id": "T0000TEST",
                "user_id": "U0BOT0001",
                "bot_id": "B0BOT0001",
            }
        if method == "chat.postMessage":
            ts = f"{1700000000 + next(self._ts)}.000100"
            return {"ok": True, "channel": channel, "ts": ts, "message": {"ts": ts}}
        if method == "chat.update":
            return {"ok": True, "channel": channel, "ts": args.get("ts"), "text": args.get("text")}
        if method == "chat.delete":
            return {"ok": True, "channel": channel, "ts": args.get("ts")}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"{1700000000 + next(self._ts)}.000200"}
        if method in ("views.open", "views.push", "views.update", "views.publish"):
            view = args.get("view") or {}
            view_id = args.get("view_id") or f"V{next(self._views):08d}"
            return {"ok": True, "view": {**view, "id": view_id, "hash": f"h{time.time_ns()}"}}
        if method == "users.info":
            user = args.get("user", "")
            return {
                "ok": True,
                "user": {"id": user, "tz": "UTC", "locale": self.locales.get(user, "en-US")},
            }
        if method == "files.getUploadURLExternal":
            if not args.get("filename") or not str(args.get("length", "")).isdigit():
                return {"ok": False, "error": "invalid_arguments"}
            file_id = f"F{next(self._files):08d}"
            assert self._server is not None
            port = self._server.server_address[1]
            return {
                "ok": True,
                "upload_url": f"http://127.0.0.1:{port}/upload/{file_id}",
                "file_id": file_id,
            }
        if method == "files.completeUploadExternal":
            files = args.get("files")
            listed = json.loads(files) if isinstance(files, str) else files
            if not isinstance(listed, list) or not all(f.get("id") in self.uploads for f in listed):
                return {"ok": False, "error": "file_not_found"}
            return {
                "ok": True,
                "files": [{"id": f["id"], "title": f.get("title", "")} for f in listed],
            }
        if method == "chat.getPermalink":
            return {"ok": True, "permalink": f"https://example.slack.com/archives/{channel}/p1"}
        return {"ok": True}


def _decode_args(raw: bytes, content_type: str, query: str) -> dict[str, Any]:
    args: dict[str, Any] = dict(urllib.parse.parse_qsl(query))
    if not raw:
        return args
    if "json" in content_type:
        args.update(json.loads(raw))
    else:
        args.update(urllib.parse.parse_qsl(raw.decode()))
    for key in ("blocks", "view", "attachments"):
        if isinstance(args.get(key), str):
            with contextlib.suppress(ValueError):
                args[key] = json.loads(args[key])
    return args


def _send_json(
    request: BaseHTTPRequestHandler,
    payload: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> None:
    _send(request, 200, json.dumps(payload).encode(), "application/json", headers)


def _send(
    request: BaseHTTPRequestHandler,
    status: int,
    body: bytes,
    content_type: str,
    headers: dict[str, str] | None = None,
) -> None:
    request.send_response(status)
    request.send_header("Content-Type", content_type)
    request.send_header("Content-Length", str(len(body)))
    for key, value in (headers or {}).items():
        request.send_header(key, value)
    request.end_headers()
    request.wfile.write(body)
