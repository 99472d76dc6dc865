"""Job states as Vertex spells them, and which of them are final.

Kept apart from the job logic so that tests and the control routes can name states without
pulling in the timetable.
"""

from __future__ import annotations

QUEUED = "JOB_STATE_QUEUED"
PENDING = "JOB_STATE_PENDING"
RUNNING = "JOB_STATE_RUNNING"
SUCCEEDED = "JOB_STATE_SUCCEEDED"
FAILED = "JOB_STATE_FAILED"
CANCELLING = "JOB_STATE_CANCELLING"
CANCELLED = "JOB_STATE_CANCELLED"
EXPIRED = "JOB_STATE_EXPIRED"
PARTIALLY_SUCCEEDED = "JOB_STATE_PARTIALLY_SUCCEEDED"
PAUSED = "JOB_STATE_PAUSED"
UPDATING = "JOB_STATE_UPDATING"
UNSPECIFIED = "JOB_STATE_UNSPECIFIED"

ALL_STATES = frozenset(
    {
        UNSPECIFIED,
        QUEUED,
        PENDING,
        RUNNING,
        SUCCEEDED,
        FAILED,
        CANCELLING,
        CANCELLED,
        PAUSED,
        EXPIRED,
        UPDATING,
        PARTIALLY_SUCCEEDED,
    }
)
ENDED = frozenset({SUCCEEDED, FAILED, CANCELLED, EXPIRED, PARTIALLY_SUCCEEDED})
# States that produce a tuned model.
PRODUCES_MODEL = frozenset({SUCCEEDED, PARTIALLY_SUCCEEDED})
# The stages a job walks through on its timetable; the stage after the last is its outcome.
# A created job starts at PENDING (as Vertex answers a create); QUEUED is only reached by
# forcing it, and then walks on through PENDING.
TIMETABLE = (QUEUED, PENDING, RUNNING)
