"""Control routes (`/_emulator/...`): the Python control API over HTTP, for the emulator run as a
process (`tuning-bot emulator`) where tests cannot reach the object.

These answers are the emulator's own, not Google's: `{"error": "..."}` with 400/404/409.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

if TYPE_CHECKING:
    from bot.emulator.core import Emulator


def control_routes(emulator: Emulator) -> list[Route]:
    """Routes for stats, faults, jobs, forced states, training-curve settings, reset and a
    stand-in OAuth token."""

    async def stats(request: Request) -> Response:
        return JSONResponse(emulator.stats())

    async def faults(request: Request) -> Response:
        args = await request.json()
        try:
            emulator.inject(**args)
        except (TypeError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({})

    async def jobs(request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse({"jobs": emulator.jobs()})
        args = await request.json()
        try:
            name = emulator.add_job(**args)
        except (TypeError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"name": name})

    async def curves(request: Request) -> Response:
        args = await request.json()
        try:
            emulator.set_curves(**args)
        except KeyError as exc:
            return JSONResponse({"error": f"unknown job {exc}"}, status_code=404)
        except (TypeError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({})

    async def state(request: Request) -> Response:
        args = await request.json()
        try:
            emulator.set_state(args["name"], args["state"], error_message=args.get("error_message"))
        except KeyError as exc:
            return JSONResponse({"error": f"unknown job or field {exc}"}, status_code=404)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=409)
        return JSONResponse({})

    async def reset(request: Request) -> Response:
        emulator.reset()
        return JSONResponse({})

    async def token(request: Request) -> Response:
        # Stands in for an OAuth token endpoint, so clients that fetch tokens can be tested.
        emulator.counts["token"] += 1
        value = emulator.require_token or "emulator-token"
        return JSONResponse({"access_token": value, "expires_in": 3600, "token_type": "Bearer"})

    return [
        Route("/_emulator/stats", stats, methods=["GET"]),
        Route("/_emulator/faults", faults, methods=["POST"]),
        Route("/_emulator/jobs", jobs, methods=["GET", "POST"]),
        Route("/_emulator/state", state, methods=["POST"]),
        Route("/_emulator/curves", curves, methods=["POST"]),
        Route("/_emulator/reset", reset, methods=["POST"]),
        Route("/_emulator/token", token, methods=["POST"]),
    ]
