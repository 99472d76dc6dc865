"""What a dataset pre-flight found: findings per line and the report that collects them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from bot.tuning.problems import Problem

# A file where every line is broken would otherwise hold millions of findings in memory;
# the report keeps the first ones and counts the rest. Findings about the whole file (line
# None) are few and always kept.
FINDINGS_KEPT = 200


class Severity(Enum):
    """Errors make Google refuse the job (or fail it later); warnings deserve a look."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    """One problem, on a 1-based line of the file, or on the file as a whole (`line` None)."""

    line: int | None
    problem: Problem


@dataclass
class PreflightReport:
    """The outcome of checking one JSONL file against one model's dataset rules.

    `errors` and `warnings` hold at most FINDINGS_KEPT line findings each; `error_count` and
    `warning_count` count all of them. `partial` is set when a budget stopped the check early;
    `unchecked` when the bot may not read the file at all (a warning: Vertex AI may);
    `missing` when there is no such file; `unreadable` when it could not be read for another
    reason (Cloud Storage failing, a directory). `model` names the model whose limits applied.
    """

    source: str
    validation: bool
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    error_count: int = 0
    warning_count: int = 0
    partial: bool = False
    unchecked: bool = False
    missing: bool = False
    unreadable: bool = False
    model: str | None = None
    partial_reason: Problem | None = None
    example_count: int = 0
    lines_read: int = 0
    characters: int = 0
    estimated_tokens: int = 0
    max_example_tokens: int = 0
    media_parts: int = 0
    epochs: int | None = None
    bytes_read: int = 0
    total_bytes: int | None = None

    @property
    def ok(self) -> bool:
        """True when nothing was found that makes the dataset unusable."""
        return self.error_count == 0

    @property
    def estimated_billable_tokens(self) -> int | None:
        """Estimated tokens × epochs for a training set; None when epochs are unknown.

        Validation examples are not billed as training tokens, so a validation set has none.
        """
        if self.validation or self.epochs is None:
            return None
        return self.estimated_tokens * self.epochs

    def add(self, severity: Severity, line: int | None, problem: Problem) -> None:
        """Record a finding (a line's kept only while under FINDINGS_KEPT; all are counted)."""
        finding = Finding(line, problem)
        kept = self.errors if severity is Severity.ERROR else self.warnings
        if severity is Severity.ERROR:
            self.error_count += 1
        else:
            self.warning_count += 1
        if line is None or len(kept) < FINDINGS_KEPT:
            kept.append(finding)
