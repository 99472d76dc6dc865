"""`tuning-bot emulator`: the emulator as a process, for trying the bot or an SDK locally."""

from __future__ import annotations

import argparse

from bot.emulator.core import Emulator
from bot.emulator.projects import ANY_PROJECT


def _project_number(text: str) -> tuple[str, str]:
    """`ID=NUMBER`, or a bare `NUMBER` for every project id not named otherwise."""
    project, sep, number = text.rpartition("=")
    if not sep:
        project, number = ANY_PROJECT, text
    if not number.isdigit() or (sep and not project):
        raise argparse.ArgumentTypeError(f"expected ID=NUMBER or NUMBER, not {text!r}")
    return project, number


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line of `tuning-bot emulator`."""
    parser = argparse.ArgumentParser(
        prog="tuning-bot emulator",
        description="Local emulator of the Vertex AI tuning REST API (plain HTTP).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--seconds-per-state", type=float, default=5.0)
    parser.add_argument(
        "--ignore-filter", action="store_true", help="ignore list filters, as Google may do"
    )
    parser.add_argument(
        "--project-number",
        action="append",
        type=_project_number,
        default=[],
        metavar="ID=NUMBER",
        help="project number that names resources of project ID (repeatable); a bare NUMBER "
        "applies to every project id not named (default: a number derived from the id)",
    )
    parser.add_argument(
        "--require-token", default=None, help="answer 401 unless requests carry this bearer token"
    )
    parser.add_argument(
        "--listing-delay",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="leave jobs younger than this out of listings (Google's list may lag a create)",
    )
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    """`tuning-bot emulator [--host H] [--port P] [--seconds-per-state S] [--ignore-filter]
    [--project-number ID=NUMBER ...] [--require-token T] [--listing-delay S]`."""
    args = parse_args(argv)
    import uvicorn

    emulator = Emulator(
        args.seconds_per_state,
        honour_filter=not args.ignore_filter,
        project_numbers=dict(args.project_number),
        require_token=args.require_token,
        listing_delay=args.listing_delay,
    )
    print(
        f"Vertex AI tuning emulator on http://{args.host}:{args.port} — "
        f"set VERTEX_EMULATOR_HOST={args.host}:{args.port}",
        flush=True,
    )
    uvicorn.run(emulator.app, host=args.host, port=args.port, log_level="warning", lifespan="off")
    return 0
