"""JSON log lines, and secrets scrubbed from them whatever logs them."""

from __future__ import annotations

import json
import logging

import pytest

from bot.logs import JsonFormatter, register_secret, register_url_password, scrub


def _line(message: str, **extra: object) -> dict[str, object]:
    record = logging.makeLogRecord({"msg": message, "levelname": "INFO", "name": "t", **extra})
    return dict(json.loads(JsonFormatter().format(record)))


def test_a_record_is_one_json_object_with_its_extra_fields() -> None:
    line = _line("command", command="tune.list", outcome="ok", latency_ms=12.5)
    assert line["event"] == "command"
    assert line["level"] == "info"
    assert (line["command"], line["outcome"], line["latency_ms"]) == ("tune.list", "ok", 12.5)


@pytest.mark.parametrize(
    "secret",
    [
        # Built from parts so the source holds nothing shaped like a live token.
        "xoxb-" + "1234567890-abcdefghij",
        "xapp-" + "1-A0TEST-123-abcdef",
        "ya29.a0AfH6SMBx-some-google-access-token",
        "Bearer abc.def.ghi",
        "v0=" + "a" * 64,
    ],
)
def test_token_shapes_never_reach_a_line(secret: str) -> None:
    line = json.dumps(_line(f"calling with {secret}", header=secret))
    assert secret not in line
    assert "[redacted]" in line


def test_a_database_password_is_scrubbed_in_both_spellings() -> None:
    register_url_password("postgresql+psycopg://bot:s3cr%40t-pass@db.internal/tuning")
    assert "s3cr@t-pass" not in scrub("connect failed for bot:s3cr@t-pass")
    assert "s3cr%40t-pass" not in scrub("url postgresql://bot:s3cr%40t-pass@db")


def test_a_url_without_a_password_registers_nothing() -> None:
    register_url_password("sqlite:///tuning-bot.db")
    register_url_password(None)
    assert scrub("sqlite:///tuning-bot.db") == "sqlite:///tuning-bot.db"


def test_a_registered_signing_secret_is_scrubbed() -> None:
    register_secret("0123456789abcdef-signing")
    assert "0123456789abcdef-signing" not in scrub("secret=0123456789abcdef-signing")


@pytest.fixture
def restore_logging() -> object:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield None
    root.handlers[:] = handlers
    root.setLevel(level)


def _emitted(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return [json.loads(line)["logger"] for line in capsys.readouterr().err.splitlines()]


@pytest.mark.usefixtures("restore_logging")
def test_at_info_only_the_bots_own_events_are_written(
    capsys: pytest.CaptureFixture[str], tmp_path: object
) -> None:
    from bot.logs import configure_logging
    from bot.watch.store import SqlWatchStore

    configure_logging("INFO")
    # Real library work: SQLAlchemy would log every statement, APScheduler its cycles.
    SqlWatchStore.open(f"sqlite:///{tmp_path}/logs.db").close()
    logging.getLogger("apscheduler.executors.default").info("Running job")
    logging.getLogger("bot.watch").info("watcher started")
    logging.getLogger("sqlalchemy.pool").warning("pool trouble")
    assert _emitted(capsys) == ["bot.watch", "sqlalchemy.pool"]


@pytest.mark.usefixtures("restore_logging")
def test_at_debug_library_events_are_written_too(
    capsys: pytest.CaptureFixture[str], tmp_path: object
) -> None:
    from bot.logs import configure_logging
    from bot.watch.store import SqlWatchStore

    configure_logging("DEBUG")
    SqlWatchStore.open(f"sqlite:///{tmp_path}/logs.db").close()
    assert any(name.startswith("sqlalchemy.engine") for name in _emitted(capsys))
