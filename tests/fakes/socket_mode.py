"""A loopback WebSocket server that speaks Slack's Socket Mode protocol, for tests.

Slack's side of the protocol: `apps.connections.open` hands out a single-use URL; on connect the
server sends `{"type": "hello", ...}`; it then pushes envelopes (`slash_commands`,
`interactive`, `events_api`) and the app answers each with `{"envelope_id", "payload"?}`; it may
ask the app to reconnect with `{"type": "disconnect", "reason": ...}`. This server does the same
and records what the app sends back.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import WSMsgType, web

T = TypeVar("T")


@dataclass
class SocketConnection:
    """One WebSocket session the app opened."""

    ticket: str
    socket: web.WebSocketResponse
    opened_at: float = field(default_factory=time.monotonic)
    closed_by_app: bool = False


class FakeSocketMode:
    """Start with `start()`; `issue_url()` is what `apps.connections.open` answers."""

    def __init__(self, app_id: str = "A0TUNINGBOT") -> None:
        self.app_id = app_id
        self.connections: list[SocketConnection] = []
        self.acks: dict[str, dict[str, Any]] = {}
        self.received: list[dict[str, Any]] = []
        self._tickets: set[str] = set()
        self._envelopes = itertools.count(1)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._stopping = False

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> FakeSocketMode:
        """Serve on a free loopback port from an event loop in a daemon thread."""
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, daemon=True)
        self._thread.start()
        self._call(self._serve(), timeout=10)
        return self

    def stop(self) -> None:
        """Close the sessions still open (WebSocket close frames), then the server and loop."""
        if self._loop is None:
            return
        try:
            self._call(self._shutdown(), timeout=10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            if self._thread is not None:
                self._thread.join(timeout=10)
            self._loop.close()
            self._loop = None

    def issue_url(self) -> str:
        """A new single-use WebSocket URL, as `apps.connections.open` returns it."""
        ticket = uuid.uuid4().hex
        with self._lock:
            self._tickets.add(ticket)
        return f"ws://127.0.0.1:{self._port}/link/?ticket={ticket}&app_id={self.app_id}"

    # -- driving the app ---------------------------------------------------------------
    def send_envelope(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        envelope_id: str | None = None,
        accepts_response_payload: bool = True,
        retry_attempt: int = 0,
        retry_reason: str = "",
    ) -> str:
        """Push one envelope (`slash_commands`, `interactive`, `events_api`) on the newest open
        session; returns its envelope id."""
        envelope_id = envelope_id or f"env-{next(self._envelopes)}-{uuid.uuid4().hex[:8]}"
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        }
        if kind == "events_api":
            envelope["retry_attempt"] = retry_attempt
            envelope["retry_reason"] = retry_reason
        self._call(self._send(envelope), timeout=10)
        return envelope_id

    def ask_to_reconnect(self, reason: str = "refresh_requested") -> None:
        """Send `{"type": "disconnect"}`, as Slack does before it retires a connection."""
        message = {"type": "disconnect", "reason": reason, "debug_info": {"host": "fake-link"}}
        self._call(self._send(message), timeout=10)

    # -- queries -----------------------------------------------------------------------
    def open_connections(self) -> list[SocketConnection]:
        """Sessions not closed yet."""
        with self._lock:
            return [c for c in self.connections if not c.socket.closed]

    def wait_connected(self, count: int = 1, timeout: float = 10.0) -> SocketConnection:
        """Block until at least `count` sessions were ever opened; return the newest."""
        self._wait(lambda: len(self.connections) >= count, timeout, f"{count} connections")
        with self._lock:
            return self.connections[-1]

    def wait_ack(self, envelope_id: str, timeout: float = 10.0) -> dict[str, Any]:
        """Block until the app acknowledged `envelope_id`; return the acknowledgement."""
        self._wait(lambda: envelope_id in self.acks, timeout, f"an ack of {envelope_id}")
        with self._lock:
            return self.acks[envelope_id]

    def wait_closed_by_app(self, timeout: float = 10.0) -> None:
        """Block until the app closed every session it opened."""
        self._wait(
            lambda: bool(self.connections) and all(c.closed_by_app for c in self.connections),
            timeout,
            "the app to close its sessions",
        )

    def _wait(self, done: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if done():
                    return
            time.sleep(0.01)
        raise AssertionError(f"timed out waiting for {what}")

    # -- inside the server's loop ------------------------------------------------------
    def _call(self, coroutine: Any, timeout: float) -> Any:
        assert self._loop is not None, "start() first"
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result(timeout)

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_get("/link/", self._link)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])

    async def _shutdown(self) -> None:
        self._stopping = True
        for connection in self.open_connections():
            await connection.socket.close(message=b"server shutting down")
        if self._runner is not None:
            await self._runner.cleanup()

    async def _send(self, message: dict[str, Any]) -> None:
        open_now = self.open_connections()
        if not open_now:
            raise AssertionError("no open Socket Mode session to send on")
        await open_now[-1].socket.send_str(json.dumps(message))

    async def _link(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        with self._lock:
            known = ticket in self._tickets
            self._tickets.discard(ticket)  # a URL opens one session only
        if not known:
            return web.Response(status=401, text="invalid ticket")
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        connection = SocketConnection(ticket, socket)
        with self._lock:
            self.connections.append(connection)
            count = len(self.connections)
        await socket.send_str(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": 1,
                    "debug_info": {
                        "host": "fake-link",
                        "build_number": count,
                        "approximate_connection_time": 18060,
                    },
                    "connection_info": {"app_id": self.app_id},
                }
            )
        )
        async for message in socket:
            if message.type != WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            with self._lock:
                self.received.append(data)
                if isinstance(data, dict) and "envelope_id" in data:
                    self.acks[str(data["envelope_id"])] = data
        with self._lock:
            # The loop ends on the app's close frame, or on ours during shutdown.
            connection.closed_by_app = not self._stopping
        return socket
