"""A local emulator of the Vertex AI tuning REST API, answering as Vertex really answers.

Google's surface (`/v1` and `/v1beta1`: tuning jobs, experiment contexts, the TensorBoard runs
and time series of training curves) with names by project number, jobs moving PENDING → RUNNING
→ an outcome on a clock-driven timetable, Google's validation and error shapes; plus a control
API (`Emulator` methods and `/_emulator/*`) for faults, holds, forced states and curve settings.
It imports nothing else of the bot, so it cannot agree with the bot's mistakes.

Modules: `states`, `jobs` (timetable), `render` (output fields), `validation` + `schema` (create
bodies), `models` + `models.yaml` (accepted models), `projects` (numbers), `filters` (AIP-160),
`paging`, `experiments`, `metrics` (training curves), `routes` (Google), `control`
(`/_emulator`), `core` (`Emulator`), `server` (`EmulatorServer`), `cli` (`tuning-bot emulator`).
"""

from __future__ import annotations

from bot.emulator.cli import main
from bot.emulator.core import FAULT_METHODS, METHODS, TENSORBOARD_METHODS, Emulator
from bot.emulator.errors import STATUS_NAMES, ApiError
from bot.emulator.filters import parse_filter
from bot.emulator.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from bot.emulator.projects import derived_number
from bot.emulator.server import EmulatorServer
from bot.emulator.states import (
    ALL_STATES,
    CANCELLED,
    CANCELLING,
    ENDED,
    EXPIRED,
    FAILED,
    PARTIALLY_SUCCEEDED,
    PAUSED,
    PENDING,
    QUEUED,
    RUNNING,
    SUCCEEDED,
    UPDATING,
)

__all__ = [
    "ALL_STATES",
    "CANCELLED",
    "CANCELLING",
    "DEFAULT_PAGE_SIZE",
    "ENDED",
    "EXPIRED",
    "FAILED",
    "FAULT_METHODS",
    "MAX_PAGE_SIZE",
    "METHODS",
    "PARTIALLY_SUCCEEDED",
    "PAUSED",
    "PENDING",
    "QUEUED",
    "RUNNING",
    "STATUS_NAMES",
    "SUCCEEDED",
    "TENSORBOARD_METHODS",
    "UPDATING",
    "ApiError",
    "Emulator",
    "EmulatorServer",
    "derived_number",
    "main",
    "parse_filter",
]
