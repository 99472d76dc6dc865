"""SQLite held by someone else (a backup, an operator's `sqlite3`): reads go on, writes that
cannot happen are reported, and nothing is left that looks alive but never changes."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from bot.tuning.refs import JobRef
from bot.tuning.states import JobState
from bot.watch.model import NewWatch, WatchKind
from bot.watch.store import SqlWatchStore
from tests.slack.conftest import PROJECT, REGION, BotUnderTest


@pytest.fixture
def over_http() -> bool:
    """These tests are about what goes over the wire: serve the bot with uvicorn."""
    return True


JOB = "projects/123456789012/locations/us-central1/tuningJobs/77"


@contextmanager
def write_lock_held(url: str) -> Iterator[None]:
    """Another process's open write transaction on the database file."""
    other = sqlite3.connect(url.removeprefix("sqlite:///").split("?")[0], isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


@pytest.fixture
def quick_url(sqlite_url: str) -> str:
    """The database with a short wait for the write lock, so a blocked write fails soon."""
    return f"{sqlite_url}?timeout=0.3"


async def test_reads_do_not_wait_for_a_writer_and_failed_writes_are_known(quick_url: str) -> None:
    store = SqlWatchStore.open(quick_url)
    await store.add_watch(NewWatch(JOB, "C0TEAM001", "U0A", WatchKind.CREATED, JobState.RUNNING))
    with write_lock_held(quick_url):
        assert await store.ping()
        assert len(await store.watches_for_job(JobRef.from_name(JOB))) == 1
        assert not store.writes_failing
        with pytest.raises(Exception, match="locked"):
            await store.add_watch(
                NewWatch(JOB, "C0OTHER01", "U0A", WatchKind.WATCHED, JobState.RUNNING)
            )
        assert store.writes_failing
    await store.add_watch(NewWatch(JOB, "C0OTHER01", "U0A", WatchKind.WATCHED, JobState.RUNNING))
    assert not store.writes_failing
    store.close()


@pytest.fixture
def env_extra(quick_url: str) -> dict[str, str]:
    return {"DATABASE_URL": quick_url}


def test_healthz_answers_while_a_backup_holds_the_database(
    bot: BotUnderTest, quick_url: str
) -> None:
    with write_lock_held(quick_url):
        response = bot.http.get(f"{bot.url}/healthz", timeout=3)
        assert (response.status_code, response.text) == (200, "ok")


def test_a_watch_that_cannot_be_saved_leaves_no_card_and_health_says_so(
    bot: BotUnderTest, quick_url: str
) -> None:
    name = bot.emulator.add_job(PROJECT, REGION, state="JOB_STATE_RUNNING")
    with write_lock_held(quick_url):
        bot.command(f"watch {name}")
        reply = bot.replies()[0]
        assert "went wrong" in reply["text"]
        (card,) = bot.slack.calls_to("chat.postMessage")
        (deleted,) = bot.slack.wait_for("chat.delete")
        assert deleted.args["ts"] is not None
        assert deleted.args["channel"] == card.args["channel"]
        health = bot.http.get(f"{bot.url}/healthz", timeout=3)
        assert (health.status_code, health.text) == (503, "store not writable")
    assert bot.store.all_watches() == []
