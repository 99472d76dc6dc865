"""`python -m bot.watch`: the process `tuning-bot watcher` runs, under its earlier name."""

from __future__ import annotations

from bot.app.watcher import main

if __name__ == "__main__":
    raise SystemExit(main())
