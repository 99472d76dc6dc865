"""The create form's advanced settings: labels, description, checkpoints, account and key.

Pure: parsed and validated from the advanced view's raw values, carried in the form's private
metadata as compact data, and applied to a spec when the form is submitted.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from bot.tuning.problems import DomainError, Problem
from bot.tuning.resources import is_service_account, kms_key_location
from bot.tuning.spec import MAX_LABELS, TuningJobSpec, label_problem
from bot.tuning.submission_key import labels_for_submission

# Field names double as the advanced view's block ids.
LABELS = "labels"
DESCRIPTION = "description"
EXPORT_LAST_CHECKPOINT_ONLY = "export_last_checkpoint_only"
SERVICE_ACCOUNT = "service_account"
KMS_KEY_NAME = "kms_key_name"

# The bot adds its own labels to every job (`labels_for_submission`): they count towards
# Google's limit and their keys are not the user's to set.
RESERVED_LABELS = frozenset(labels_for_submission(""))
MAX_USER_LABELS = MAX_LABELS - len(RESERVED_LABELS)
# Google documents no limit for a job's description; the settings travel in the form's
# private metadata (3,000 characters in all), which bounds it.
MAX_DESCRIPTION = 1000
_MAX_LABELS_TEXT = 3000
_SEPARATORS = re.compile(r"[,\n、，]")


@dataclass(frozen=True)
class AdvancedSettings:
    """What the advanced view set; empty values are left out of the job."""

    labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    description: str | None = None
    export_last_checkpoint_only: bool = False
    service_account: str | None = None
    kms_key_name: str | None = None

    @property
    def empty(self) -> bool:
        """True when nothing would be added to the job."""
        return self == AdvancedSettings()

    def apply(self, spec: TuningJobSpec) -> TuningJobSpec:
        """`spec` with these settings (its own labels kept)."""
        return replace(
            spec,
            labels=MappingProxyType({**spec.labels, **self.labels}),
            description=self.description or spec.description,
            export_last_checkpoint_only=self.export_last_checkpoint_only,
            service_account=self.service_account,
            kms_key_name=self.kms_key_name,
        )

    def to_data(self) -> dict[str, Any]:
        """Compact data for the form's private metadata (unset values left out)."""
        data: dict[str, Any] = {}
        if self.labels:
            data["l"] = dict(self.labels)
        if self.description:
            data["d"] = self.description
        if self.export_last_checkpoint_only:
            data["x"] = 1
        if self.service_account:
            data["s"] = self.service_account
        if self.kms_key_name:
            data["k"] = self.kms_key_name
        return data

    @classmethod
    def from_data(cls, data: Any) -> AdvancedSettings | None:
        """Read `to_data` back, checked again; None when it is not well formed."""
        if not isinstance(data, dict):
            return None
        labels = data.get("l", {})
        if not isinstance(labels, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in labels.items()
        ):
            return None
        raw = {
            LABELS: ", ".join(f"{k}={v}" for k, v in labels.items()),
            DESCRIPTION: data.get("d") if isinstance(data.get("d"), str) else None,
            SERVICE_ACCOUNT: data.get("s") if isinstance(data.get("s"), str) else None,
            KMS_KEY_NAME: data.get("k") if isinstance(data.get("k"), str) else None,
        }
        checked = validate_advanced(raw, export_last_checkpoint_only=data.get("x") == 1)
        return checked.settings


@dataclass(frozen=True)
class AdvancedCheck:
    """Settings, or errors per field."""

    settings: AdvancedSettings | None
    errors: Mapping[str, Problem]


def labels_text(labels: Mapping[str, str]) -> str:
    """Labels as the view's field shows them, one `key=value` per line."""
    return "\n".join(f"{k}={v}" if v else k for k, v in labels.items())


def parse_labels(text: str) -> dict[str, str]:
    """`key=value` items, one per line or comma-separated (`key` alone: an empty value),
    checked against Google's label rules; raises DomainError."""
    if len(text) > _MAX_LABELS_TEXT:
        raise DomainError(Problem.of("spec.labels_too_many", limit=MAX_USER_LABELS))
    labels: dict[str, str] = {}
    # NFKC: full-width `＝` and letters typed by Japanese input methods become plain ones.
    for item in _SEPARATORS.split(unicodedata.normalize("NFKC", text)):
        item = item.strip()
        if not item:
            continue
        key, _, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if key in labels:
            raise DomainError(Problem.of("advanced.label_repeated", label_key=key[:64]))
        if key in RESERVED_LABELS:
            raise DomainError(Problem.of("advanced.label_reserved", label_key=key))
        labels[key] = value
    if len(labels) > MAX_USER_LABELS:
        raise DomainError(Problem.of("spec.labels_too_many", limit=MAX_USER_LABELS))
    problem = label_problem(labels)
    if problem is not None:
        raise DomainError(problem)
    return labels


def validate_advanced(
    form: Mapping[str, str | None],
    *,
    export_last_checkpoint_only: bool,
    region: str | None = None,
) -> AdvancedCheck:
    """Validate the advanced view's raw values; `region` (the job's) is where a KMS key must
    be, as Google requires."""
    errors: dict[str, Problem] = {}
    labels: dict[str, str] = {}
    try:
        labels = parse_labels(form.get(LABELS) or "")
    except DomainError as exc:
        errors[LABELS] = exc.problem
    description = (form.get(DESCRIPTION) or "").strip() or None
    if description is not None and len(description) > MAX_DESCRIPTION:
        errors[DESCRIPTION] = Problem.of(
            "advanced.description_too_long", limit=MAX_DESCRIPTION, length=len(description)
        )
    account = (form.get(SERVICE_ACCOUNT) or "").strip() or None
    if account is not None and not is_service_account(account):
        errors[SERVICE_ACCOUNT] = Problem.of("advanced.service_account_invalid")
    key = (form.get(KMS_KEY_NAME) or "").strip() or None
    if key is not None:
        location = kms_key_location(key)
        if location is None:
            errors[KMS_KEY_NAME] = Problem.of("advanced.kms_key_invalid")
        elif region is not None and location != region:
            errors[KMS_KEY_NAME] = Problem.of(
                "advanced.kms_key_region", location=location, region=region
            )
    if errors:
        return AdvancedCheck(None, MappingProxyType(errors))
    settings = AdvancedSettings(
        labels=MappingProxyType(labels),
        description=description,
        export_last_checkpoint_only=export_last_checkpoint_only,
        service_account=account,
        kms_key_name=key,
    )
    return AdvancedCheck(settings, MappingProxyType({}))
