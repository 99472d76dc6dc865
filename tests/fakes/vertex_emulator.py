"""Helpers to run the Vertex AI tuning emulator in tests: in process, or as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

import httpx

from bot.emulator import Emulator, EmulatorServer
from bot.tuning.refs import Location
from bot.vertex.auth import NoAuth
from bot.vertex.client import TuningClient
from bot.vertex.retry import RetryPolicy

PROJECT = "emulator-project"
REGION = "us-central1"
LOCATION = Location(PROJECT, REGION)


class RecordedSleeps:
    """An injectable sleep that records the delays asked for and returns at once.

    `clock()` is the sum of the delays, so a retry policy's time budget counts them as spent.
    """

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)

    def clock(self) -> float:
        """Seconds "slept" so far."""
        return sum(self.delays)


class ManualClock:
    """A wall clock for the emulator that moves only when told to."""

    def __init__(self, start: float = 1_795_176_000.0) -> None:  # 2026-11-20T12:00:00Z
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += seconds


def fast_retry(
    max_attempts: int = 5, sleeps: RecordedSleeps | None = None, **options: Any
) -> RetryPolicy:
    """A retry policy with real backoff arithmetic but no waiting."""
    sleeps = sleeps or RecordedSleeps()
    return RetryPolicy(max_attempts=max_attempts, sleep=sleeps, clock=sleeps.clock, **options)


@contextmanager
def running_emulator(seconds_per_state: float = 5.0, **options: Any) -> Iterator[EmulatorServer]:
    """An Emulator served on a free loopback port for the duration of the block."""
    server = EmulatorServer(Emulator(seconds_per_state, **options)).start()
    try:
        yield server
    finally:
        server.stop()


def client_for(
    server: EmulatorServer,
    http: httpx.AsyncClient,
    *,
    retry: RetryPolicy | None = None,
    timeout: float = 5.0,
) -> TuningClient:
    """A TuningClient pointed at the emulator, with no waiting between retries by default."""
    return TuningClient(
        http,
        auth=NoAuth(),
        emulator_host=server.host_port,
        retry=retry or fast_retry(),
        timeout=timeout,
    )


class EmulatorProcess:
    """`tuning-bot emulator` as a real subprocess, driven through its `/_emulator/*` endpoints."""

    def __init__(self, port: int, *args: str) -> None:
        self.port = port
        self.host_port = f"127.0.0.1:{port}"
        self.base_url = f"http://{self.host_port}"
        self._args = args
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self, timeout: float = 20.0) -> EmulatorProcess:
        """Start the process and wait until it answers."""
        command = [sys.executable, "-m", "bot", "emulator", "--port", str(self.port), *self._args]
        # Output to a file: a pipe nobody reads while the emulator runs would fill up with its
        # request log and block it.
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop(), after the process
        self._process = subprocess.Popen(
            command, stdout=self._log, stderr=subprocess.STDOUT, env=dict(os.environ)
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._log.seek(0)
                err = self._log.read().decode(errors="replace")
                raise RuntimeError(f"emulator exited: {err[-2000:]}")
            try:
                self.stats()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("emulator did not answer in time")

    def stop(self) -> None:
        """Terminate the process (only the one this object started)."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def _post(self, path: str, payload: dict[str, Any]) -> Any:
        request = urllib.request.Request(
            f"{self.base_url}{path}",
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())

    def stats(self) -> dict[str, int]:
        """Requests received so far by method."""
        with urllib.request.urlopen(f"{self.base_url}/_emulator/stats", timeout=2) as response:
            return dict(json.loads(response.read())["counts"])

    def inject(self, method: str, status: int, **options: Any) -> None:
        """Same arguments as Emulator.inject."""
        self._post("/_emulator/faults", {"method": method, "status": status, **options})

    def add_job(self, project: str, region: str, **options: Any) -> str:
        """Same arguments as Emulator.add_job; returns the resource name."""
        return str(
            self._post("/_emulator/jobs", {"project": project, "region": region, **options})["name"]
        )

    def set_state(self, name: str, state: str, error_message: str | None = None) -> None:
        """Same as Emulator.set_state."""
        self._post(
            "/_emulator/state", {"name": name, "state": state, "error_message": error_message}
        )

    def set_curves(self, name: str, **options: Any) -> None:
        """Same arguments as Emulator.set_curves."""
        self._post("/_emulator/curves", {"name": name, **options})

    def reset(self) -> None:
        """Forget all jobs, counts and faults."""
        self._post("/_emulator/reset", {})
