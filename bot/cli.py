"""`tuning-bot` command line: run the bot, the watcher alone, the Vertex emulator, the
dataset pre-flight, the installation checks, or the message preview."""

from __future__ import annotations

import sys
from collections.abc import Sequence

USAGE = """usage: tuning-bot [run | watcher | emulator | check-dataset | doctor | preview] [options]

  tuning-bot                 start the Slack app and the watcher (settings from the environment)
  tuning-bot --with-emulator the same, with a built-in Vertex AI emulator instead of Google
  tuning-bot watcher         start only the watcher: more replicas beside the Slack app
  tuning-bot emulator        local emulator of the Vertex AI tuning REST API
  tuning-bot check-dataset   check a training or validation JSONL file before tuning
  tuning-bot doctor          check Slack, the database and Google, and say how to fix them
  tuning-bot preview         write every message and modal as Block Kit JSON (English, Japanese)
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch to a subcommand; each one owns its own options."""
    args = list(sys.argv[1:] if argv is None else argv)
    command = args.pop(0) if args and not args[0].startswith("-") else "run"
    if command in ("-h", "--help", "help") or (
        command == "run" and args[:1] in (["-h"], ["--help"])
    ):
        print(USAGE, end="")
        return 0
    if command == "run":
        from bot.app.server import main as run_bot
        from bot.config import ConfigError

        try:
            return run_bot(args)
        except ConfigError as exc:
            # One line naming the variable and the fix; never a traceback or a secret's value.
            print(f"tuning-bot: {exc}", file=sys.stderr)
            return 2
    if command == "watcher":
        from bot.app.watcher import main as run_watcher

        return run_watcher(args)
    if command == "emulator":
        from bot.emulator import main as run_emulator

        return run_emulator(args)
    if command == "check-dataset":
        from bot.datasets.cli import main as check_dataset

        return check_dataset(args)
    if command == "doctor":
        from bot.app.doctor import main as doctor

        return doctor(args)
    if command == "preview":
        from bot.slack.preview import main as preview

        return preview(args)
    print(f"tuning-bot: unknown command {command!r}\n{USAGE}", end="", file=sys.stderr)
    return 2
