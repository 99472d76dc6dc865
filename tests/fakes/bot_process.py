"""The bot as a real process: `python -m bot` started and waited on until it serves /healthz."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx


def start_bot(
    env: dict[str, str], cwd: Path, timeout: float = 20.0, args: Sequence[str] = ()
) -> subprocess.Popen[str]:
    """Start `python -m bot ARGS` with `env` and return once `/healthz` on env["PORT"] answers
    200."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{env['PORT']}/healthz"
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise AssertionError(f"the bot exited at start-up: {process.communicate()}")
        try:
            if httpx.get(url).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"the bot did not come up: {process.communicate()}")
        time.sleep(0.1)
