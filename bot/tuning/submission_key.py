"""Deterministic keys for job submissions, so a repeated submission never starts a second job."""

from __future__ import annotations

import hashlib
import json
from dataclasses import fields

from bot.tuning.spec import TuningJobSpec

# Label key carried by every job the bot creates; labels are visible project-wide, so the value
# is a hash and never names a Slack user.
SUBMISSION_LABEL = "tuning-bot-request"
CREATED_BY_LABEL = "created-by"
CREATED_BY_VALUE = "tuning-bot"


def submission_key(view_id: str, spec: TuningJobSpec) -> str:
    """A 40-hex-character key from the Slack view id and every field of the spec."""
    # dataclasses.asdict cannot copy the read-only labels mapping, so the fields are read directly.
    values = {f.name: getattr(spec, f.name) for f in fields(spec)}
    values["labels"] = dict(sorted(spec.labels.items()))
    canonical = json.dumps({"view": view_id, "spec": values}, sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:40]


def labels_for_submission(key: str) -> dict[str, str]:
    """The labels that mark a job as created by the bot for this submission."""
    return {SUBMISSION_LABEL: key, CREATED_BY_LABEL: CREATED_BY_VALUE}
