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
CURVE_READS = Counter(
    "tuning_bot_curve_reads_total",
    "Reads of running jobs' training curves for their cards, by outcome (ok, missing, http,"
    " timeout, no_budget, error).",
    ["outcome"],
    registry=REGISTRY,
)
CHARTS = Counter(
    "tuning_bot_charts_total",
    "Training-curve charts, by where they went (ending, command) and outcome.",
    ["kind", "outcome"],
    registry=REGISTRY,
)
CHART_SECONDS = Histogram(
    "tuning_bot_chart_render_seconds",
    "Time to draw one training-curve chart.",
    registry=REGISTRY,
    buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5),
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
