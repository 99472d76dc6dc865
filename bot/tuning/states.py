"""Tuning job states as Vertex AI reports them, and what each means to a watcher."""

from __future__ import annotations

from enum import Enum


class JobState(Enum):
    """A tuning job's state; values are Vertex AI's `JOB_STATE_*` names."""

    UNSPECIFIED = "JOB_STATE_UNSPECIFIED"
    QUEUED = "JOB_STATE_QUEUED"
    PENDING = "JOB_STATE_PENDING"
    RUNNING = "JOB_STATE_RUNNING"
    SUCCEEDED = "JOB_STATE_SUCCEEDED"
    FAILED = "JOB_STATE_FAILED"
    CANCELLING = "JOB_STATE_CANCELLING"
    CANCELLED = "JOB_STATE_CANCELLED"
    PAUSED = "JOB_STATE_PAUSED"
    EXPIRED = "JOB_STATE_EXPIRED"
    UPDATING = "JOB_STATE_UPDATING"
    PARTIALLY_SUCCEEDED = "JOB_STATE_PARTIALLY_SUCCEEDED"

    @classmethod
    def from_wire(cls, value: str | None) -> JobState:
        """Parse Google's name; an unknown or missing value is UNSPECIFIED, never an error."""
        if not value:
            return cls.UNSPECIFIED
        try:
            return cls(value)
        except ValueError:
            return cls.UNSPECIFIED

    @property
    def short(self) -> str:
        """Lower-case name without the prefix, e.g. `running`; used as i18n key suffix."""
        return self.name.lower()

    @property
    def has_ended(self) -> bool:
        """True for the states after which the job never changes again."""
        return self in TERMINAL_STATES

    @property
    def succeeded(self) -> bool:
        """True when a tuned model was produced (fully or partially)."""
        return self in (JobState.SUCCEEDED, JobState.PARTIALLY_SUCCEEDED)

    @property
    def is_paused(self) -> bool:
        """PAUSED is neither running nor ended: said once, polled slowly."""
        return self is JobState.PAUSED


TERMINAL_STATES = frozenset(
    {
        JobState.SUCCEEDED,
        JobState.PARTIALLY_SUCCEEDED,
        JobState.FAILED,
        JobState.CANCELLED,
        JobState.EXPIRED,
    }
)

ACTIVE_STATES = frozenset(
    {
        JobState.QUEUED,
        JobState.PENDING,
        JobState.RUNNING,
        JobState.CANCELLING,
        JobState.UPDATING,
        JobState.PAUSED,
        JobState.UNSPECIFIED,
    }
)

# Google's list filter for the active states (the watcher's listing and the Home tab's).
ACTIVE_LIST_FILTER = " OR ".join(
    f'state="{s.value}"' for s in sorted(ACTIVE_STATES, key=lambda s: s.value)
)

# Words a user may type after `/tune list` and the states each one selects.
LIST_FILTERS: dict[str, frozenset[JobState] | None] = {
    "active": ACTIVE_STATES,
    "succeeded": frozenset({JobState.SUCCEEDED, JobState.PARTIALLY_SUCCEEDED}),
    "failed": frozenset({JobState.FAILED, JobState.EXPIRED}),
    "cancelled": frozenset({JobState.CANCELLED, JobState.CANCELLING}),
    "all": None,
}
