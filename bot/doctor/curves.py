"""The TensorBoard check: the bot may read the training curves behind progress lines and charts.

One recent job's chain (experiment, TensorBoard run, time series) is followed as `/tune chart`
follows it, without reading its points: the permissions are the same, and the doctor stays a
handful of requests. A refusal is a warning, not a failure: jobs still run and end without
curves, only their progress lines and charts are missing.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.doctor.google import is_rate_limited, refusal_reason
from bot.doctor.results import CheckResult
from bot.tuning.curves import CurvesMissing
from bot.tuning.job import TuningJob
from bot.tuning.problems import Problem
from bot.tuning.refs import Location
from bot.vertex.client import TuningClient
from bot.vertex.errors import PermissionDenied, Unauthenticated, Unavailable, VertexError

# A job that has not started training has no run yet: a few of the newest are tried in turn
# before the check says there is nothing to read.
PROBED_JOBS = 3


def curves_verdict(error: VertexError, location: Location) -> CheckResult:
    """Google's refusal of a TensorBoard read as a warning and its fix."""
    where: dict[str, str | int] = {"project": location.project, "region": location.region}
    said = {"status": error.status, "message": refusal_reason(error), **where}
    if isinstance(error, PermissionDenied | Unauthenticated):
        return CheckResult.warn(
            Problem.of("doctor.curves_refused", code=error.http_status or 403, **said),
            Problem.of("doctor.curves_denied_fix", project=location.project),
        )
    if is_rate_limited(error):
        return CheckResult.warn(
            Problem.of("doctor.curves_refused", code=429, **said),
            Problem.of("doctor.vertex_quota_fix"),
        )
    if isinstance(error, Unavailable) and error.http_status == 0:
        return CheckResult.warn(
            Problem.of("doctor.curves_unreachable", message=said["message"], **where),
            Problem.of("doctor.vertex_unreachable_fix"),
        )
    return CheckResult.warn(
        Problem.of("doctor.curves_refused", code=error.http_status, **said),
        Problem.of("doctor.vertex_other_fix"),
    )


async def check_curves(
    client: TuningClient, recent: Sequence[TuningJob], location: Location
) -> CheckResult:
    """The TensorBoard run of one of the newest jobs in `recent` (newest first) can be read."""
    where = {"project": location.project, "region": location.region}
    candidates = [job for job in recent if job.experiment][:PROBED_JOBS]
    if not candidates:
        return CheckResult.skip("doctor.curves_no_job", **where)
    for job in candidates:
        try:
            metrics = await client.probe_curves(job)
        except CurvesMissing:
            continue
        except VertexError as exc:
            return curves_verdict(exc, location)
        shown = job.display_name or job.ref.job_id
        return CheckResult.ok("doctor.curves_ok", job=shown, series=len(metrics), **where)
    return CheckResult.skip("doctor.curves_not_recorded", jobs=len(candidates), **where)
