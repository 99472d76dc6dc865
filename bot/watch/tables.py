"""Table definitions of the watch store (SQLAlchemy Core), shared by the store and migrations."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)

metadata = MetaData()


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Stored as naive UTC on every backend; read back as aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the watch store")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


watches = Table(
    "watches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job_name", String(300), nullable=False),
    # REGION/JOB_ID (`JobRef.key`): one job, whether named by project id or by project number.
    Column("job_key", String(120)),
    Column("project", String(64), nullable=False),
    Column("region", String(64), nullable=False),
    Column("channel_id", String(32), nullable=False),
    Column("message_ts", String(32)),
    Column("started_by", String(32), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("language", String(8), nullable=False),
    Column("display_name", String(200)),
    Column("card_note", Text),
    Column("last_state", String(40), nullable=False),
    Column("last_update_time", UtcDateTime()),
    Column("card_state", String(40)),
    Column("next_poll_at", UtcDateTime(), nullable=False),
    Column("error_count", Integer, nullable=False, default=0),
    Column("lease_owner", String(80)),
    Column("lease_until", UtcDateTime()),
    Column("announcing_at", UtcDateTime()),
    Column("announcing_by", String(80)),
    Column("announced_at", UtcDateTime()),
    Column("paused_noted", Boolean, nullable=False, default=False),
    Column("finished_at", UtcDateTime()),
    Column("end_reason", String(32)),
    # Schema v3. A 404 is believed only after it lasted (see `PollConfig.gone_after_*`).
    Column("missing_since", UtcDateTime()),  # first 404 of the current run of 404s
    Column("missing_count", Integer, nullable=False, default=0),  # 404s in a row
    # Consecutive reads refused for good (403, 400, ...), and whether the thread was told.
    Column("read_error_count", Integer, nullable=False, default=0),
    Column("read_error_noted", Boolean, nullable=False, default=False),
    # Schema v4. The status message shows Google's data statistics (see `Watch.card_stats`).
    Column("card_stats", Boolean, nullable=False, default=False),
    Column("created_at", UtcDateTime(), nullable=False),
    # Schema v5. The Slack user who cancelled the job through the bot; unknown when it was
    # cancelled elsewhere (console, SDK) or before the bot recorded it.
    Column("cancelled_by", String(32)),
    # Schema v6. The training progress the card shows (`Progress.encode()` of what it drew),
    # and when the job's curves were last read, which paces those reads across replicas.
    Column("card_progress", String(96)),
    Column("progress_read_at", UtcDateTime()),
    # Schema v7. The subscription that found the job (None: created here, or `/tune watch`),
    # and which of its moments the channel hears of (`Events`; None: all of them).
    Column("subscription_id", Integer),
    Column("events", String(8)),
)

# The claim query scans unfinished rows by due time.
Index("ix_watches_due", watches.c.finished_at, watches.c.next_poll_at)
# One watch per job and channel, however Google spelt the job's project.
Index("uq_watches_key_channel", watches.c.job_key, watches.c.channel_id, unique=True)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("job_name", String(300)),
    Column("channel_id", String(32)),
    Column("outcome", String(32), nullable=False),
    Column("detail", Text),
)

# Schema v7: channel subscriptions, per-channel delivery settings, what discovery read per
# location, and recent delivery errors per channel (for `/tune debug`).
subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel_id", String(32), nullable=False),
    Column("project", String(64), nullable=False),
    Column("region", String(64), nullable=False),
    Column("filter", Text, nullable=False, default=""),  # `JobFilter.encode()`
    Column("events", String(8), nullable=False, default="all"),
    Column("created_by", String(32), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("seen_until", UtcDateTime(), nullable=False),
    Column("access_error", Text),
    Column("access_noted", Boolean, nullable=False, default=False),
    Column("language", String(8), nullable=False, default="en"),  # of notes to the channel
)
Index(
    "uq_subscriptions_channel_location",
    subscriptions.c.channel_id,
    subscriptions.c.project,
    subscriptions.c.region,
    unique=True,
)

channel_settings = Table(
    "channel_settings",
    metadata,
    Column("channel_id", String(32), primary_key=True),
    Column("thread_endings", Boolean, nullable=False, default=True),
    Column("broadcast_success", Boolean, nullable=False, default=True),
    Column("cards", Boolean, nullable=False, default=True),
    Column("mention_on_failure", Boolean, nullable=False, default=True),
    Column("updated_by", String(32), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

location_reads = Table(
    "location_reads",
    metadata,
    Column("project", String(64), primary_key=True),
    Column("region", String(64), primary_key=True),
    Column("read_at", UtcDateTime(), nullable=False),
    Column("calls", Integer, nullable=False, default=0),
    Column("error", Text),
)

delivery_errors = Table(
    "delivery_errors",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel_id", String(32), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("error", String(64), nullable=False),
    Column("job_name", String(300)),
)
Index("ix_delivery_errors_channel", delivery_errors.c.channel_id, delivery_errors.c.at)

schema_version = Table(
    "schema_version",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("applied_at", UtcDateTime(), nullable=False),
)
