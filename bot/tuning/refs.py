"""Job references: a numeric id in the default location, or a full resource name."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.tuning.problems import DomainError, Problem

_PROJECT = r"[a-z][a-z0-9-]{4,28}[a-z0-9]|[0-9]{1,20}"  # project id or project number
_LOCATION = r"[a-z][a-z0-9-]{0,62}"
_JOB_ID = r"[0-9]{1,30}"
_FULL = re.compile(
    rf"projects/(?P<project>{_PROJECT})/locations/(?P<location>{_LOCATION})"
    rf"/tuningJobs/(?P<job>{_JOB_ID})"
)
_MAX_INPUT = 400


@dataclass(frozen=True, order=True)
class Location:
    """A Google Cloud project and region: the parent of tuning jobs."""

    project: str
    region: str

    @property
    def parent(self) -> str:
        """Resource name `projects/P/locations/R`."""
        return f"projects/{self.project}/locations/{self.region}"


@dataclass(frozen=True, order=True)
class JobRef:
    """A tuning job's resource name split into its parts."""

    project: str
    region: str
    job_id: str

    @property
    def location(self) -> Location:
        """The project and region the job lives in."""
        return Location(self.project, self.region)

    @property
    def name(self) -> str:
        """Full resource name `projects/P/locations/R/tuningJobs/ID`."""
        return f"{self.location.parent}/tuningJobs/{self.job_id}"

    @property
    def key(self) -> str:
        """`REGION/ID`: the same for both names Google may give one job.

        Vertex names a job by project number (`projects/123456789012/…`) whatever project id
        the request used, so a job id typed with the configured project id and Google's own
        name of that job differ only in the project segment.
        """
        return f"{self.region}/{self.job_id}"

    def same_job(self, other: JobRef) -> bool:
        """True when both refer to one job: equal keys, and projects that are equal or one an
        id and the other a number (the number of that id cannot be told from the names)."""
        if self.key != other.key:
            return False
        if self.project == other.project:
            return True
        return self.project.isdigit() != other.project.isdigit()

    @classmethod
    def from_name(cls, name: str) -> JobRef:
        """Parse a full resource name as Google returns it; raise DomainError otherwise."""
        match = _FULL.fullmatch(name.strip())
        if match is None:
            raise DomainError(Problem.of("ref.invalid", text=name[:80]))
        return cls(match["project"], match["location"], match["job"])


def parse_job_ref(text: str, default: Location) -> JobRef:
    """Parse what a user typed as a job: `1234` or `#1234` (default location) or a full resource
    name."""
    # Messages name an unnamed job `#1234`: what a user copies from them must work here too.
    cleaned = text.strip().strip("`").strip().removeprefix("#")
    if not cleaned:
        raise DomainError(Problem.of("ref.missing"))
    if len(cleaned) > _MAX_INPUT:
        raise DomainError(Problem.of("ref.invalid", text=cleaned[:80]))
    if re.fullmatch(_JOB_ID, cleaned):
        return JobRef(default.project, default.region, cleaned)
    match = _FULL.fullmatch(cleaned)
    if match is None:
        raise DomainError(Problem.of("ref.invalid", text=cleaned[:80]))
    return JobRef(match["project"], match["location"], match["job"])
