"""The bot as a real process: `python -m bot` started and waited on until it serves /healthz."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx


class BotProcess(subprocess.Popen[str]):
    """A bot process whose output goes to files, read back by `communicate`.

    A pipe that nobody reads while the bot runs fills up (64 KiB of DEBUG logs is a few seconds
    of polling on a slow machine) and then blocks the bot's next log line, and with it the bot.
    """

    def __init__(self, args: Sequence[str], *, cwd: Path, env: dict[str, str]) -> None:
        self._out = cwd / "bot.stdout"
        self._err = cwd / "bot.stderr"
        with self._out.open("w") as out, self._err.open("w") as err:
            super().__init__(list(args), cwd=cwd, env=env, stdout=out, stderr=err, text=True)

    def communicate(
        self, input: str | None = None, timeout: float | None = None
    ) -> tuple[str, str]:
        """Wait for the process to end (TimeoutExpired as Popen's), then its whole output."""
        self.wait(timeout)
        return self._out.read_text(), self._err.read_text()


def start_bot(
    env: dict[str, str], cwd: Path, timeout: float = 20.0, args: Sequence[str] = ()
) -> BotProcess:
    """Start `python -m bot ARGS` with `env` and return once `/healthz` on env["PORT"] answers
    200."""
    process = BotProcess([sys.executable, "-m", "bot", *args], cwd=cwd, env=env)
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
