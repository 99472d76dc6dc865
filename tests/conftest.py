"""Shared fixtures: loopback stand-ins, free ports, SQLite files and the PostgreSQL server."""

from __future__ import annotations

import random
import socket
import uuid
from collections.abc import Iterator

import pytest

from bot.i18n import set_strict
from tests.fakes.slack_api import FakeSlackApi


def pytest_configure(config: pytest.Config) -> None:
    """Every message the tests render must exist in the catalogue and get all its values."""
    set_strict(True)


POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _ephemeral_start() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as ranges:
            return int(ranges.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now.

    Picked below the kernel's ephemeral range: a port the kernel hands out (to a server bound
    to port 0, or to any outgoing connection of the parallel workers) could be taken between
    this check and the bot process binding it.
    """
    top = _ephemeral_start()
    for _ in range(50):
        port = random.randrange(max(1024, top - 12000), top)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def fake_slack() -> Iterator[FakeSlackApi]:
    """A running Slack Web API stand-in."""
    server = FakeSlackApi().start()
    yield server
    server.stop()


@pytest.fixture
def sqlite_url(tmp_path: object) -> str:
    """A fresh SQLite database file."""
    return f"sqlite:///{tmp_path}/watch.db"


def _postgres_reachable() -> str | None:
    try:
        import psycopg

        with psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=test", connect_timeout=3
        ):
            return None
    except Exception as exc:  # any failure means: skip with the reason
        name = exc.__class__.__name__
        return f"PostgreSQL on 127.0.0.1:5432 (database test) unreachable: {name}: {exc}"


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The PostgreSQL URL; skips the test with the reason when no server answers."""
    reason = _postgres_reachable()
    if reason is not None:
        pytest.skip(reason)
    return POSTGRES_ADMIN_URL


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh schema on the real PostgreSQL server, dropped after the test."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    dsn = "host=127.0.0.1 port=5432 user=postgres dbname=test"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield f"{postgres_server}?options=-csearch_path%3D{schema}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


# --- Vertex AI tuning emulator ------------------------------------------------------------
@pytest.fixture
def vertex_emulator() -> Iterator[object]:
    """A running Vertex tuning emulator (an EmulatorServer, 5 s per state): `.emulator` drives
    it, `.host_port` is the value for VERTEX_EMULATOR_HOST."""
    from tests.fakes.vertex_emulator import running_emulator

    with running_emulator() as server:
        yield server


@pytest.fixture
def vertex_emulator_process() -> Iterator[object]:
    """`tuning-bot emulator` as a real subprocess on a free port (an EmulatorProcess)."""
    from tests.fakes.vertex_emulator import EmulatorProcess

    process = EmulatorProcess(free_port()).start()
    yield process
    process.stop()
