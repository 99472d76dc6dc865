"""Prometheus metrics, defined once; every module increments these and nothing else."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

COMMANDS = Counter(
    "tuning_bot_commands_total",
    "Slash commands and interactions handled, by kind and outcome.",
    ["kind", "outcome"],
    registry=REGISTRY,
)
VERTEX_CALLS = Counter(
    "tuning_bot_vertex_requests_total",
    "HTTP requests sent to the Vertex AI tuning API, by method and HTTP status (0 = no answer).",
    ["method", "status"],
    registry=REGISTRY,
)
SLACK_CALLS = Counter(
    "tuning_bot_slack_errors_total",
    "Slack Web API calls that failed, by method and error.",
    ["method", "error"],
    registry=REGISTRY,
)
POLL_CYCLE_SECONDS = Histogram(
    "tuning_bot_poll_cycle_seconds",
    "Wall time of one poll cycle.",
    registry=REGISTRY,
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
WATCHED_JOBS = Gauge(
    "tuning_bot_watched_jobs",
    "Watched jobs by last seen state.",
    ["state"],
    registry=REGISTRY,
)
