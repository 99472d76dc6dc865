"""EmulatorServer: an Emulator served by uvicorn in a background thread on a loopback port.

Tests that need real sockets (subprocesses, SDKs with their own HTTP stacks) use this; tests that
do not can call `emulator.app` in process through `httpx.ASGITransport`.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from bot.emulator.core import Emulator


class EmulatorServer:
    """Serves an Emulator with uvicorn in a background thread on a loopback port."""

    def __init__(self, emulator: Emulator, host: str = "127.0.0.1", port: int = 0) -> None:
        self.emulator = emulator
        self.host = host
        self.port = port
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> EmulatorServer:
        """Start listening; returns once the socket accepts connections."""
        import uvicorn

        config = uvicorn.Config(
            self.emulator.app,
            host=self.host,
            port=self.port,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(target=server.run, name="vertex-emulator", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"emulator did not start on {self.host}:{self.port}")
            time.sleep(0.01)
        self.port = int(server.servers[0].sockets[0].getsockname()[1])
        return self

    def stop(self) -> None:
        """Release held requests and stop the server."""
        self.emulator.stop()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def host_port(self) -> str:
        """`host:port`, the value for VERTEX_EMULATOR_HOST."""
        return f"{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """`http://host:port`."""
        return f"http://{self.host_port}"

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
