"""Running a job again: the new job's name, and the label that links it to the job it came from."""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.tuning.refs import JobRef, Location
from bot.tuning.spec import MAX_DISPLAY_NAME

# Label on a job started with Run again or Continue tuning: the source job's number. Labels live
# with the job at Google, so every later drawing of its card (by any replica) can link back.
RERUN_OF_LABEL = "rerun-of"
_VERSION_SUFFIX = re.compile(r"(.+)-v([0-9]{1,6})", re.DOTALL)
_JOB_ID = re.compile(r"[0-9]{1,63}")


def next_display_name(name: str | None, fallback: str) -> str:
    """`name` → `name-v2`, `name-v2` → `name-v3`, the stem shortened so that the suffix fits in
    Google's limit; `fallback` stands in for a job without a name."""
    base = (name or "").strip() or fallback
    found = _VERSION_SUFFIX.fullmatch(base)
    stem, version = (found.group(1), int(found.group(2)) + 1) if found else (base, 2)
    suffix = f"-v{version}"
    room = MAX_DISPLAY_NAME - len(suffix)
    # A cut may end in a space, which would read as part of the suffix's separator.
    return (stem if len(stem) <= room else stem[:room].rstrip()) + suffix


def rerun_labels(source: JobRef, target: Location) -> dict[str, str]:
    """The label linking a new job in `target` to `source`; none when they are in different
    regions, since a label value cannot hold a resource name and the number alone would mislead.
    """
    if source.region != target.region or not _JOB_ID.fullmatch(source.job_id):
        return {}
    return {RERUN_OF_LABEL: source.job_id}


def rerun_source(job: JobRef, labels: Mapping[str, str]) -> JobRef | None:
    """The job `job` was run again from, by its label; None when it has none."""
    source = labels.get(RERUN_OF_LABEL, "")
    if not _JOB_ID.fullmatch(source):
        return None
    return JobRef(job.project, job.region, source)
