"""`tuning-bot check-dataset`: the dataset pre-flight for CI pipelines and terminals.

Exit status: 0 when the file has no errors (warnings allowed), 1 when it has errors or cannot
be read, 2 when the command itself is wrong (unknown model, malformed URI, no credentials).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys

from bot.datasets.preflight import Budget, run_preflight
from bot.datasets.sources import DatasetOpener, HeadersProvider
from bot.datasets.text import report_lines
from bot.i18n import render, translate
from bot.tuning.catalogue import default_catalogue
from bot.tuning.dataset_uris import parse_gcs_uri
from bot.tuning.problems import DomainError, Problem


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tuning-bot check-dataset",
        description="Check a tuning JSONL file (local path or gs:// URI) before creating a job.",
    )
    parser.add_argument("source", metavar="PATH_OR_GS_URI")
    parser.add_argument("--model", help="base model id (default: the first current model)")
    parser.add_argument("--validation", action="store_true", help="check as a validation set")
    parser.add_argument("--epochs", type=_positive_int, help="epochs, for the billable estimate")
    parser.add_argument("--lang", choices=("en", "ja"), default="en", help="report language")
    parser.add_argument(
        "--max-seconds", type=float, default=None, help="stop after this many seconds"
    )
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def main(argv: list[str]) -> int:
    """Run the check and print the report; return the exit status."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 for --help
        return int(exc.code or 0)
    language: str = args.lang
    catalogue = default_catalogue()
    if args.model is None:
        model = catalogue.default_model(dt.datetime.now(dt.UTC).date())
    else:
        found = catalogue.get(args.model)
        if found is None:
            known = ", ".join(m.model_id for m in catalogue)
            _fail(translate(language, "preflight.cli_unknown_model", model=args.model, known=known))
            return 2
        model = found
    source: str = args.source
    auth: HeadersProvider | None = None
    emulator = os.environ.get("STORAGE_EMULATOR_HOST") or None
    try:
        if source.startswith("gs://"):
            parse_gcs_uri(source)
            if emulator is None:
                auth = _default_credentials(language)
                if auth is None:
                    return 2
        elif "://" in source:
            raise DomainError(Problem.of("dataset.scheme", uri=source[:120]))
    except DomainError as exc:
        _fail(render(language, exc.problem))
        return 2
    opener = DatasetOpener(None, auth, emulator, allow_local_files=True)
    report = asyncio.run(
        run_preflight(
            source,
            model=model,
            validation=args.validation,
            opener=opener,
            epochs=args.epochs,
            budget=Budget(max_seconds=args.max_seconds),
        )
    )
    print("\n".join(report_lines(report, language)))
    # In a pipeline a file that could not be read has not passed the check.
    return 0 if report.ok and not report.unchecked else 1


def _default_credentials(language: str) -> HeadersProvider | None:
    # Imported here so that local checks and `--help` never load google-auth.
    import google.auth
    import google.auth.exceptions

    from bot.vertex.auth import SCOPES, GoogleAuth

    try:
        # Looked up now, not on the first request, so a missing setup exits 2 before any work.
        credentials, _ = google.auth.default(scopes=list(SCOPES))
    except google.auth.exceptions.DefaultCredentialsError as exc:
        _fail(translate(language, "preflight.cli_no_credentials", error=type(exc).__name__))
        return None
    return GoogleAuth(credentials)


def _fail(message: str) -> None:
    print(f"tuning-bot check-dataset: {message}", file=sys.stderr)
