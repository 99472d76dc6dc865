"""The bot under test is the one of the Slack surface's tests: same stand-ins, same wiring."""

from __future__ import annotations

from tests.slack.conftest import (  # noqa: F401 - fixtures are found by name
    bot,
    emulator,
    env_extra,
    gcs,
    over_http,
    run_watcher,
    seconds_per_state,
)
