"""The watch store: it opens, and its schema is the one this release writes.

Only reads: the doctor never creates the file, the tables or the version row, and never
upgrades; it says what the bot's start-up will do.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, inspect, select
from sqlalchemy.engine import make_url

from bot.doctor.results import CheckResult
from bot.tuning.problems import Problem
from bot.watch.migrations import LATEST
from bot.watch.tables import schema_version


@dataclass(frozen=True)
class SchemaFound:
    """What the database holds: no file or tables yet (`version` 0), or a recorded version."""

    version: int
    exists: bool = True


class DatabaseUnreachable(Exception):
    """The database could not be opened; the message is safe to print (no password).

    `directory` is set when a SQLite file's directory is missing (the bot creates files only)."""

    def __init__(self, error: str, directory: str | None = None) -> None:
        super().__init__(error)
        self.directory = directory


def shown_url(url: str) -> str:
    """The URL with its password hidden, for the report."""
    return make_url(url).render_as_string(hide_password=True)


def read_schema(url: str) -> SchemaFound:
    """The schema version recorded at `url`, opening nothing that does not exist yet."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database or "")
        if not path.parent.is_dir():
            raise DatabaseUnreachable("no directory", directory=str(path.parent))
        if not path.exists():
            # Connecting would create the file: what the bot's start-up does, not the doctor.
            return SchemaFound(0, exists=False)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table(schema_version.name):
                return SchemaFound(0)
            found = conn.execute(select(schema_version.c.version).where(schema_version.c.id == 1))
            return SchemaFound(int(found.scalar_one_or_none() or 0))
    except DatabaseUnreachable:
        raise
    except Exception as exc:  # drivers raise their own trees; the class name says enough
        raise DatabaseUnreachable(type(exc).__name__) from exc
    finally:
        engine.dispose()


def schema_verdict(url: str, found: SchemaFound, latest: int = LATEST) -> CheckResult:
    """What start-up will do with the schema found, and whether that stops the bot."""
    shown = shown_url(url)
    if found.version > latest:
        return CheckResult.fail(
            Problem.of("doctor.db_too_new", url=shown, found=found.version, latest=latest),
            Problem.of("doctor.db_too_new_fix"),
        )
    if found.version == 0:
        return CheckResult.ok("doctor.db_new", url=shown, latest=latest)
    if found.version < latest:
        return CheckResult.warn(
            Problem.of("doctor.db_upgrade", url=shown, found=found.version, latest=latest),
            Problem.of("doctor.db_upgrade_fix"),
        )
    return CheckResult.ok("doctor.db_ok", url=shown, version=found.version)


def check_database(url: str) -> CheckResult:
    """Open the store read-only and compare its schema with this release's."""
    try:
        found = read_schema(url)
    except DatabaseUnreachable as exc:
        if exc.directory is not None:
            return CheckResult.fail(
                Problem.of("doctor.db_no_directory", url=shown_url(url), directory=exc.directory),
                Problem.of("doctor.db_no_directory_fix"),
            )
        return CheckResult.fail(
            Problem.of("doctor.db_unreachable", url=shown_url(url), error=str(exc)),
            Problem.of("doctor.db_unreachable_fix"),
        )
    return schema_verdict(url, found)
