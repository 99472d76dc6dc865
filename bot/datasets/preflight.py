"""The dataset pre-flight: read a JSONL file once, check every line, total it, within budgets."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from bot.datasets.blocks import BLOCK_BYTES, BlockChecker, BlockTotals
from bot.datasets.checks import BOM, check_line, plain_text_example
from bot.datasets.findings import PreflightReport, Severity
from bot.datasets.sources import DatasetOpener, LineSplitter, SourceUnavailable
from bot.tuning.catalogue import DatasetFormat, ModelInfo
from bot.tuning.problems import DomainError, Problem

# Google's documented limit for a tuning dataset file ("1 GB"; read as GiB so that no file
# Google accepts is refused here).
GOOGLE_MAX_FILE_BYTES = 1 << 30
RECOMMENDED_MIN_EXAMPLES = 100


@dataclass(frozen=True)
class Budget:
    """How much a check may read and for how long; beyond either it stops with a partial report.

    `max_seconds` None means no time limit (the command line's default).
    """

    max_bytes: int = GOOGLE_MAX_FILE_BYTES
    max_seconds: float | None = 120.0


async def run_preflight(
    source: str,
    *,
    model: ModelInfo,
    validation: bool,
    opener: DatasetOpener,
    epochs: int | None = None,
    budget: Budget | None = None,
) -> PreflightReport:
    """Check the JSONL file at `source` (`gs://…`, or a local path when the opener allows).

    Never raises for problems with the data or its location: they are findings in the report.
    """
    budget = budget or Budget()
    report = PreflightReport(source=source, validation=validation, epochs=epochs, model=model.label)
    try:
        async with asyncio.timeout(budget.max_seconds):
            await _read_and_check(source, model, opener, budget, report)
    except TimeoutError:
        report.partial = True
        report.partial_reason = Problem.of(
            "preflight.partial_time", seconds=_seconds(budget.max_seconds)
        )
    except SourceUnavailable as exc:
        # A download can also break midway: what was read is then only part of the file.
        report.partial = report.bytes_read > 0
        nothing_read = report.bytes_read == 0
        report.unchecked = exc.bot_lacks_access and nothing_read
        report.missing = exc.missing and nothing_read
        report.unreadable = nothing_read and not (exc.bot_lacks_access or exc.missing)
        report.add(Severity.WARNING if report.unchecked else Severity.ERROR, None, exc.problem)
        return report
    except DomainError as exc:
        report.add(Severity.ERROR, None, exc.problem)
        return report
    _check_file(report, model)
    return report


async def _read_and_check(
    source: str,
    model: ModelInfo,
    opener: DatasetOpener,
    budget: Budget,
    report: PreflightReport,
) -> None:
    fmt = model.dataset_format
    limit = model.max_tokens_per_example
    splitter = LineSplitter()
    # Only the Gemini format has a many-lines-per-call path; legacy files go line by line.
    checker = BlockChecker(limit) if fmt is DatasetFormat.GEMINI else None
    async with opener.open(source) as opened:
        report.total_bytes = opened.size
        async for chunk in opened.chunks:
            room = budget.max_bytes - report.bytes_read
            if len(chunk) > room:
                chunk = chunk[:room]
                report.partial = True
            report.bytes_read += len(chunk)
            _check_chunk(chunk, splitter, checker, report, fmt, limit)
            if report.partial:
                report.partial_reason = Problem.of(
                    "preflight.partial_bytes", limit=format_bytes(budget.max_bytes)
                )
                return
        _check_lines(splitter.finish(), report, fmt, limit)


def _check_chunk(
    chunk: bytes,
    splitter: LineSplitter,
    checker: BlockChecker | None,
    report: PreflightReport,
    fmt: DatasetFormat,
    limit: int,
) -> None:
    """Check the lines `chunk` completes: by blocks where they are plain, else one by one."""
    blocks_held = splitter.feed_blocks(chunk, BLOCK_BYTES) if checker is not None else None
    if checker is None or blocks_held is None:
        _check_lines(splitter.feed(chunk), report, fmt, limit)
        return
    for block in blocks_held:
        totals = checker.check_block(block)
        if totals is None:
            _check_lines(block[:-1].split(b"\n"), report, fmt, limit)
        else:
            _add_block(report, totals)


def _add_block(report: PreflightReport, totals: BlockTotals) -> None:
    report.lines_read += totals.lines
    report.example_count += totals.lines
    report.characters += totals.characters
    report.estimated_tokens += totals.tokens
    report.max_example_tokens = max(report.max_example_tokens, totals.largest)


def _check_lines(
    lines: Sequence[bytes | None], report: PreflightReport, fmt: DatasetFormat, limit: int
) -> None:
    """Check a batch of lines and add them to the report.

    This is the hot loop: plain examples are totalled in local variables and written to the
    report once per batch; anything else goes through the full check.
    """
    plain = plain_text_example if fmt is DatasetFormat.GEMINI else None
    line = report.lines_read
    examples = characters = tokens = 0
    largest = report.max_example_tokens
    for raw in lines:
        line += 1
        if plain is not None and raw is not None and line > 1:
            counts = plain(raw)
            if counts is not None:
                examples += 1
                characters += counts[0]
                example_tokens = counts[1]
                tokens += example_tokens
                if example_tokens > largest:
                    largest = example_tokens
                if example_tokens > limit:
                    _too_many_tokens(report, line, example_tokens, limit)
                continue
        _check_one(raw, line, report, fmt, limit)
        largest = max(largest, report.max_example_tokens)
    report.lines_read = line
    report.example_count += examples
    report.characters += characters
    report.estimated_tokens += tokens
    report.max_example_tokens = largest


def _check_one(
    raw: bytes | None, line: int, report: PreflightReport, fmt: DatasetFormat, limit: int
) -> None:
    """The full check of one line, with every finding."""
    if raw is None:
        report.add(Severity.ERROR, line, Problem.of("preflight.line_too_long"))
        return
    if line == 1 and raw.startswith(BOM):
        report.add(Severity.ERROR, 1, Problem.of("preflight.bom"))
        raw = raw[len(BOM) :]
    check = check_line(raw, fmt)
    for severity, problem in check.problems:
        report.add(severity, line, problem)
    if not check.is_example:
        return
    report.example_count += 1
    report.characters += check.characters
    report.estimated_tokens += check.tokens
    report.media_parts += check.media_parts
    report.max_example_tokens = max(report.max_example_tokens, check.tokens)
    if check.tokens > limit:
        _too_many_tokens(report, line, check.tokens, limit)


def _too_many_tokens(report: PreflightReport, line: int, tokens: int, limit: int) -> None:
    report.add(
        Severity.WARNING,
        line,
        Problem.of("preflight.too_many_tokens", tokens=f"{tokens:,}", limit=f"{limit:,}"),
    )


def _check_file(report: PreflightReport, model: ModelInfo) -> None:
    """Checks of the whole file: its size and how many examples it has."""
    size = report.total_bytes
    if size is not None and size > GOOGLE_MAX_FILE_BYTES:
        report.add(
            Severity.ERROR,
            None,
            Problem.of(
                "preflight.file_too_large",
                size=format_bytes(size),
                limit=format_bytes(GOOGLE_MAX_FILE_BYTES),
            ),
        )
    count = report.example_count
    if report.validation and count > model.max_validation_examples:
        report.add(
            Severity.ERROR,
            None,
            Problem.of(
                "preflight.too_many_validation",
                count=f"{count:,}",
                limit=f"{model.max_validation_examples:,}",
                model=model.label,
            ),
        )
    if report.partial:
        # The rest of the file is unread: too few examples cannot be judged.
        return
    if count == 0:
        report.add(Severity.ERROR, None, Problem.of("preflight.no_examples"))
        return
    if report.validation:
        return
    minimum = model.min_training_examples
    if minimum is not None and count < minimum:
        report.add(
            Severity.ERROR,
            None,
            Problem.of(
                "preflight.too_few_examples", count=count, minimum=minimum, model=model.label
            ),
        )
    elif count < RECOMMENDED_MIN_EXAMPLES:
        report.add(Severity.WARNING, None, Problem.of("preflight.few_examples", count=count))


def format_bytes(size: int) -> str:
    """A size in decimal units, as Cloud console shows them: `950 B`, `12.3 MB`, `1.07 GB`."""
    if size < 1000:
        return f"{size} B"
    value = size / 1000
    for unit in ("KB", "MB"):
        if value < 1000:
            return f"{value:.3g} {unit}"
        value /= 1000
    return f"{value:.3g} GB"


def _seconds(value: float | None) -> str:
    return f"{value:g}" if value is not None else "-"
